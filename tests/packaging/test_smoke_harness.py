"""The smoke test of a frozen station fails when the program misbehaves (a wrong version, a stray
warning on stderr, a bad exit code), and passes over the one allowlisted OpenCV probe warning.
The real frozen binary goes through it in tests/e2e/test_deb.py."""

from __future__ import annotations

import textwrap

from stationbuild import smoke


def test_stderr_allowlist_passes_only_the_named_warnings():
    allowed = (
        "[ WARN:0@0.031] global cap_v4l.cpp:914 open VIDEOIO(V4L2:/dev/video0): can't open camera by index"
    )
    assert smoke.unexpected_stderr(allowed + "\n\n") == []
    for line in ("qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\"",
                 "Traceback (most recent call last):",
                 "UserWarning: something"):  # fmt: skip
        assert smoke.unexpected_stderr(f"{allowed}\n{line}\n") == [line]


def test_a_misbehaving_program_fails_each_step_with_the_reason(tmp_path):
    # A stand-in for the station that answers every command wrongly (this tests the harness only).
    program = tmp_path / "station"
    program.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            echo "station 9.9.9"
            echo "qt.qpa.fonts: Populating font family aliases took 150 ms" >&2
            exit 3
            """
        )
    )
    program.chmod(0o755)
    report = smoke.run_smoke(program, "0.1.0", tmp_path / "work")
    assert not report.ok
    by_name = {step.name: step for step in report.steps}
    assert set(by_name) == {"version", "doctor-empty", "demo", "desk-x11", "doctor-demo", "logs"}
    assert any("expected 'station 0.1.0'" in p for p in by_name["version"].problems)
    assert any("exit code 3" in p for p in by_name["version"].problems)
    assert any(p.startswith("stderr: qt.qpa.fonts") for p in by_name["doctor-empty"].problems)
    assert any("printed no JSON" in p for p in by_name["doctor-demo"].problems)
    assert any("no screenshot" in p for p in by_name["demo"].problems)
    assert any("no registration number" in p for p in by_name["demo"].problems)
    assert any("no screenshot" in p for p in by_name["desk-x11"].problems)


def test_warnings_in_the_station_log_and_crash_reports_fail_the_smoke_test(tmp_path):
    logs = tmp_path / "demo-home" / "logs"
    logs.mkdir(parents=True)
    (logs / "station.log").write_text(
        "2026-11-29 13:19:20,830 INFO    station.app [MainThread] start-up: logging\n"
        "2026-11-29 13:19:22,048 WARNING qt [MainThread] QFont::fromString: invalid description\n"
    )
    (logs / "native-crash.log").write_text("")
    (tmp_path / "demo-home" / "crashes").mkdir()
    (tmp_path / "demo-home" / "crashes" / "crash-20261129.txt").write_text("report")
    step = smoke.check_station_logs(tmp_path)
    assert len(step.problems) == 2
    assert "QFont::fromString" in step.problems[0]
    assert "crash-20261129.txt" in step.problems[1]
