"""Benchmark of the Linux installer: package size, installed size, and the frozen station's start-up
against the baseline ``python -m station`` from the build venv, in the same run on the same machine.

Measured:
* the .deb's size and its Installed-Size, and the biggest parts of the bundle;
* wall time of ``station --version``, of ``station doctor --json`` on a demo station, and of the demo
  desk window shown and closed again (``demo --seconds 0 --screenshot``, under Xvfb: the time to a
  first drawn window plus shutdown), frozen vs the baseline. "first" is the first run after the build
  (the page cache is not dropped on a shared machine, so it is not a true cold start), "median" the
  median of the next runs; runs alternate frozen/baseline so machine load hits both alike.
Run: ``.venv/bin/python -m tests.bench.bench_bundle`` (builds the bundle and a .deb at xz -6 in a temp
folder, a few minutes), or ``--deb FILE`` to measure an existing package.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "build"))

from stationbuild import APP_ID, ROOT
from stationbuild.smoke import x11_display

BASELINE = "python -m station (build venv)"


def build_deb(work: Path, xz_level: int) -> Path:
    out = work / "out"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "build/package"), "deb", "--work", str(work / "work"), "--out", str(out),
         "--xz-level", str(xz_level)],
        check=True, stdout=subprocess.DEVNULL, env={**os.environ, "STATION_BUILD_PYTHON": sys.executable},
    )  # fmt: skip
    print(f"build (PyInstaller + .deb at xz -{xz_level}): {time.perf_counter() - started:.0f} s")
    return next(out.glob("*.deb"))


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deb", type=Path, help="measure this package instead of building one")
    parser.add_argument("--runs", type=int, default=5, help="warm runs per command (default 5)")
    parser.add_argument("--xz-level", type=int, default=6)
    args = parser.parse_args()
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bundle-")))
        deb = args.deb or build_deb(scratch, args.xz_level)
        root = scratch / "root"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        installed_kib = int(subprocess.run(["dpkg-deb", "-f", str(deb), "Installed-Size"],
                                           capture_output=True, text=True, check=True).stdout)  # fmt: skip
        files = root / "opt/apps" / APP_ID / "files"
        print(f"package      {deb.name}: {deb.stat().st_size / 1e6:7.1f} MB")
        print(
            f"installed    {installed_kib / 1024:7.1f} MiB (Installed-Size); bundle {du(files) / 2**20:.1f} MiB"
        )
        internal = files / "_internal"
        parts = sorted(((du(p) if p.is_dir() else p.stat().st_size), p.name) for p in internal.iterdir()
                       if not p.is_symlink())  # fmt: skip
        print(
            "largest parts: "
            + ", ".join(f"{name} {size / 2**20:.0f}" for size, name in parts[::-1][:8])
            + " MiB"
        )

        home = scratch / "home"
        runtime = scratch / "runtime"
        runtime.mkdir(mode=0o700)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("STATION_", "QT_"))},
               "STATION_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
               "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(runtime)}  # fmt: skip
        frozen = [str(files / "station")]
        baseline = [sys.executable, "-m", "station"]
        subprocess.run([*frozen, "demo", "--no-gui"], check=True, stdout=subprocess.DEVNULL, env=env)
        shot = str(scratch / "shot.png")
        window_env = stack.enter_context(x11_display(dict(env)))
        cases = [
            ("--version", ["--version"], env),
            ("doctor --json (demo station)", ["doctor", "--json"], env),
            ("demo window shown and closed", ["demo", "--seconds", "0", "--screenshot", shot], window_env),
        ]
        print(f"\nstart-up, frozen vs baseline {BASELINE}:")
        for label, command, case_env in cases:
            first = (timed(frozen + command, case_env), timed(baseline + command, case_env))
            warm: tuple[list[float], list[float]] = ([], [])
            for _ in range(args.runs):
                warm[0].append(timed(frozen + command, case_env))
                warm[1].append(timed(baseline + command, case_env))
            median = (statistics.median(warm[0]), statistics.median(warm[1]))
            print(f"{label:<30} first {first[0]:6.2f} s vs {first[1]:6.2f} s  ratio {first[0] / first[1]:5.2f}"
                  f"   median {median[0]:6.2f} s vs {median[1]:6.2f} s  ratio {median[0] / median[1]:5.2f}")  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
