"""``station demo`` end to end, as a newcomer or the installer's smoke test runs it: a subprocess with
its own demo home, its embedded registry on 127.0.0.1, the simulated reader and camera.

* ``--headless --screenshots DIR`` without any display (Qt's offscreen platform): several captures,
  a refusal, a sync, the registration numbers printed, PNGs of the main states; exit 0.
* ``--screenshots DIR`` under Xvfb with the CJK fonts: the same walkthrough in a real X window; the
  PNGs are kept under ``test-artifacts/desk-xvfb/`` for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.system import require, require_tool

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
STATES = (
    "02-wrong-person-guard",
    "03-countdown",
    "04-review",
    "05-saved",
    "06-refused",
    "07-records-with-numbers",
)
NUMBER = re.compile(r"\b2\d{10}\b")


def _environment(home: Path, display: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(STATION_HOME=str(home), STATION_NO_CRASH_DIALOG="1")
    if display:
        env["QT_QPA_PLATFORM"] = "xcb"
    return env


def _check(done: subprocess.CompletedProcess, shots: Path) -> None:  # type: ignore[type-arg]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "演示完成" in done.stdout
    numbers = NUMBER.findall(done.stdout.split("演示完成", 1)[1])
    assert len(numbers) >= 3 and len(set(numbers)) == len(numbers)
    assert "Traceback" not in done.stdout + done.stderr
    for state in STATES:
        image = Image.open(shots / f"{state}.png")
        assert image.size == (1366, 768), state
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or range(999)) > 50, f"{state} looks blank"


@pytest.mark.slow
def test_headless_demo_walks_through_and_prints_registration_numbers(tmp_path):
    shots = tmp_path / "shots"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "station",
            "demo",
            "--headless",
            "--screenshots",
            str(shots),
            "--students",
            "30",
        ],
        env=_environment(tmp_path / "home", display=False),
        capture_output=True,
        text=True,
        timeout=280,
    )
    _check(done, shots)


@pytest.mark.slow
def test_demo_under_xvfb_saves_the_main_states(tmp_path):
    xvfb = require_tool("xvfb-run", "xvfb")
    require(bool(shutil.which("fc-list")) and "CJK" in subprocess.run(["fc-list"], capture_output=True, text=True).stdout,
            "a CJK font (Debian package fonts-noto-cjk)")  # fmt: skip
    shots = ARTIFACTS / "desk-xvfb"
    shutil.rmtree(shots, ignore_errors=True)
    done = subprocess.run(
        [xvfb, "-a", "-s", "-screen 0 1366x768x24", sys.executable, "-m", "station", "demo",
         "--screenshots", str(shots), "--students", "30"],
        env=_environment(tmp_path / "home", display=True),
        capture_output=True,
        text=True,
        timeout=280,
    )  # fmt: skip
    _check(done, shots)
