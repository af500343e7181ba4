"""Run the real ``station`` command in a subprocess, as an officer or a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.support.stations import login_arguments


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def station(station_home):
    def run(*args: str, env: dict | None = None, timeout: float = 120, stdin: str | None = None) -> Result:
        full_env = {**os.environ, "STATION_HOME": str(station_home), **(env or {})}
        arguments, stdin = login_arguments(args, stdin)
        done = subprocess.run(
            [sys.executable, "-m", "station", *arguments],
            input=stdin,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run
