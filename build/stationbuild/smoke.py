"""Smoke test of a frozen station: the installed program runs, headless, with a clean stderr.

Steps (each a real run of the binary, in private folders, with the fail keyring so a developer's
credential store is never touched):
1. ``station --version`` prints the package's version;
2. ``station doctor --json`` on an empty station home answers (exit 1: not enrolled) with its fixes;
3. ``station demo --headless --screenshots DIR`` (``demo_args``): the training walkthrough offscreen,
   with the embedded registry: captures, a refusal, a sync, registration numbers printed, PNGs in DIR;
4. on Linux, the desk once more on the real X11 platform (xcb; an Xvfb server when there is no
   display) for a few seconds: the system X11/GL/font libraries the bundle leaves out are loaded;
5. ``station doctor --json`` on the demo home reports it healthy (store, keys, migrations, resources);
then the station's own logs (where Qt's messages go) hold no warning or error and no crash report.
Every line on stderr must match ``STDERR_ALLOWLIST``.

Used by the .deb test (tests/e2e), ``build/package smoke`` and the Windows workflow.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path


def demo_args(screenshots: Path) -> list[str]:
    """The one place naming the demo run of the smoke test (issue 9's headless walkthrough)."""
    return ["demo", "--headless", "--screenshots", str(screenshots)]


def x11_desk_args(screenshot: Path) -> list[str]:
    """The desk on the xcb platform for a few seconds (Linux only), one screenshot before it closes."""
    return ["demo", "--seconds", "3", "--screenshot", str(screenshot)]


REGISTRATION_NUMBER = re.compile(r"(?<!\d)\d{11}(?!\d)")  # year 2 + league 2 + county 2 + serial 5

# stderr lines that are not a problem, each with the reason. Anything else fails the smoke test.
STDERR_ALLOWLIST: list[tuple[str, str]] = [
    (
        r"\[ ?(WARN|ERROR):\d+@[\d.]+\] global (cap|cap_\w+|obsensor_\w+)\.(cpp|hpp):\d+ .*",
        "doctor on an unconfigured station probes camera 0 and OpenCV's capture backends (V4L2 and FFmpeg "
        "on Linux; MSMF, DirectShow and Orbbec on Windows) report that there is none; build machines "
        "and CI runners have no camera",
    ),
]


# Station log levels that fail the smoke test, and log lines that are not a problem (with the reason).
LOG_PROBLEM_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
LOG_ALLOWLIST: list[tuple[str, str]] = [
    (
        r"WARNING station\.qt .*This plugin does not support propagateSizeHints\(\)$",
        "Qt's offscreen platform (the headless walkthrough) has no window manager to pass size hints to",
    ),
]


@dataclass
class StepResult:
    name: str
    command: list[str]
    code: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class SmokeReport:
    binary: str
    steps: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def to_json(self) -> str:
        return json.dumps(
            {"binary": self.binary, "ok": self.ok, "steps": [asdict(s) | {"ok": s.ok} for s in self.steps]},
            ensure_ascii=False,
            indent=2,
        )


def unexpected_stderr(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if line.strip() and not any(re.fullmatch(pattern, line.strip()) for pattern, _ in STDERR_ALLOWLIST)
    ]


def run_smoke(binary: Path, expected_version: str | None, workdir: Path) -> SmokeReport:
    """Run the four steps against ``binary``; ``workdir`` receives the homes and screenshots."""
    workdir.mkdir(parents=True, exist_ok=True)
    runtime = workdir / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STATION_", "QT_"))},
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(runtime),
        "STATION_HOME": str(workdir / "empty-home"),
    }
    screenshots = workdir / "screenshots"
    screenshots.mkdir(exist_ok=True)
    steps: list[StepResult] = []

    def run(
        name: str, args: list[str], env: dict, expect: int, timeout: float = 180
    ) -> tuple[StepResult, str]:
        command = [str(binary), *args]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command, capture_output=True, encoding="utf-8", errors="replace", env=env, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            step = StepResult(name, command, -1, time.perf_counter() - started, [f"no answer in {timeout} s"])
            steps.append(step)
            return step, ""
        step = StepResult(name, command, done.returncode, time.perf_counter() - started)
        step.stderr = done.stderr.splitlines()[-40:]
        if done.returncode != expect:
            step.problems.append(f"exit code {done.returncode}, expected {expect}")
        step.problems += [f"stderr: {line}" for line in unexpected_stderr(done.stderr)]
        steps.append(step)
        return step, done.stdout

    step, out = run("version", ["--version"], base_env, 0)
    if expected_version and out.strip() != f"station {expected_version}":
        step.problems.append(f"--version printed {out.strip()!r}, expected 'station {expected_version}'")

    step, out = run("doctor-empty", ["doctor", "--json"], base_env, 1)
    _check_doctor(step, out, healthy=False)

    demo_env = {**base_env, "STATION_HOME": str(workdir / "demo-home")}
    step, out = run("demo", demo_args(screenshots), demo_env, 0, timeout=300)
    if not REGISTRATION_NUMBER.search(out):
        step.problems.append("the walkthrough printed no registration number (no sync with the registry?)")
    _check_pictures(step, sorted(screenshots.glob("*.png")), screenshots)

    if sys.platform.startswith("linux"):
        x11_shot = workdir / "desk-x11.png"
        with x11_display(demo_env) as env:
            step, _ = run("desk-x11", x11_desk_args(x11_shot), env, 0)
        _check_pictures(step, [x11_shot] if x11_shot.exists() else [], x11_shot)

    step, out = run("doctor-demo", ["doctor", "--json"], demo_env, 0)
    _check_doctor(step, out, healthy=True)
    steps.append(check_station_logs(workdir))
    return SmokeReport(str(binary), steps)


def check_station_logs(workdir: Path) -> StepResult:
    """The station routes Qt's messages into its log: no warning, error or crash report there either."""
    step = StepResult("logs", [], 0, 0.0)
    homes = [workdir / "empty-home", workdir / "demo-home"]
    for log in sorted(p for home in homes for p in (home / "logs").glob("station.log*")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split(maxsplit=3)
            if len(fields) > 2 and fields[2] in LOG_PROBLEM_LEVELS and not _allowed(line, LOG_ALLOWLIST):
                step.problems.append(f"{log.parent.parent.name} log: {line}")
    for home in homes:
        native = home / "logs" / "native-crash.log"
        if native.exists() and native.stat().st_size:
            step.problems.append(f"{home.name}: a native crash was logged")
        step.problems += [f"{home.name}: crash report {p.name}" for p in sorted((home / "crashes").glob("*"))]
    return step


def _allowed(line: str, allowlist: list[tuple[str, str]]) -> bool:
    return any(re.search(pattern, line) for pattern, _ in allowlist)


def _check_pictures(step: StepResult, pictures: list[Path], where: Path) -> None:
    if not pictures:
        step.problems.append(f"no screenshot in {where}")
    for picture in pictures:
        if picture.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            step.problems.append(f"{picture.name} is not a PNG")


def _check_doctor(step: StepResult, out: str, *, healthy: bool) -> None:
    try:
        report = json.loads(out)
    except ValueError:
        step.problems.append("doctor --json printed no JSON")
        return
    if report.get("healthy") is not healthy:
        step.problems.append(f"doctor said healthy={report.get('healthy')}, expected {healthy}")
    names = {item.get("name") for item in report.get("items", [])}
    if "enrollment" not in names:
        step.problems.append("doctor listed no enrollment item")


@contextmanager
def x11_display(env: dict):
    """The environment for a run on the xcb platform: the display there is, or an Xvfb server."""
    if env.get("DISPLAY"):
        yield {**env, "QT_QPA_PLATFORM": "xcb"}
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("the X11 desk step needs a display: install xvfb (Debian package xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as announced:
            number = announced.readline().strip()  # Xvfb writes its display number once it is ready
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield {**env, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(binary: Path, expected_version: str | None, workdir: Path | None, as_json: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="station-smoke-") as scratch:
        report = run_smoke(binary, expected_version, workdir or Path(scratch))
        if as_json:
            print(report.to_json())
        else:
            for step in report.steps:
                print(
                    f"{'ok  ' if step.ok else 'FAIL'} {step.name:<13} {step.seconds:6.2f} s  exit {step.code}"
                )
                for problem in step.problems:
                    print(f"       {problem}")
    return 0 if report.ok else 1
