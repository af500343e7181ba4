"""Settings and opened stations for tests, built the way the composition root builds them.

The suite runs as a machine without an OS keyring (``keyring.backends.fail.Keyring``, tests/conftest.py),
so a station's key is wrapped by its officers' passwords: every test station is created with
``OFFICER`` as its first county administrator and opened by that officer's log-in. Subprocesses
get it as ``--operator NAME --password-stdin`` (``login_arguments``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from station.app import Context, Startup, StationApp
from station.config import Settings, load_settings
from station.domain.officers import OfficerLogin

OFFICER = OfficerLogin("test-admin", "test-admin-password")

# Commands that open the store: they take the officer's log-in (tests/support: login_arguments).
STORE_COMMANDS = ("sync", "status", "capture", "doctor", "enroll", "operator")


def settings_for(home: Path, **environment: str) -> Settings:
    """The settings of the station at ``home``, with ``STATION_*`` variables given as keywords."""
    return load_settings({f"STATION_{name.upper()}": value for name, value in environment.items()}, home=home)


def open_station(home: Path, officer: OfficerLogin = OFFICER, **environment: str) -> StationApp:
    return StationApp.open(settings_for(home, **environment), officer)


def context_for(home: Path | None = None, **environment: str) -> Context:
    """A command's ``Context`` for the station at ``home``, without installing process-wide hooks."""
    settings = settings_for(home, **environment) if home is not None else load_settings({})
    context = Context(Startup(settings), OFFICER)
    context.admin = lambda: OFFICER  # as `--admin` names it for `store init` and `store recover`
    return context


def login_arguments(args: tuple[str, ...], stdin: str | None) -> tuple[list[str], str | None]:
    """``args`` with the test officer's ``--operator``/``--password-stdin`` added when the command opens
    the store and names no officer itself; the password leads standard input."""
    command = next((a for a in args if not a.startswith("-")), None)
    flag = "--admin" if command == "enroll" else "--operator"  # enroll may create the station
    if command not in STORE_COMMANDS or "--password-stdin" in args or flag in args:
        return list(args), stdin
    return [*args, flag, OFFICER.username, "--password-stdin"], f"{OFFICER.password}\n{stdin or ''}"


def station_process(*args: str, env: dict, **popen) -> subprocess.Popen:  # type: ignore[type-arg]
    """``python -m station ARGS`` started in the background, logged in as ``OFFICER`` when it opens the store."""
    arguments, stdin = login_arguments(args, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "station", *arguments], env=env, stdin=subprocess.PIPE, text=True, **popen
    )
    assert process.stdin is not None
    if stdin:
        process.stdin.write(stdin)
    process.stdin.close()
    process.stdin = None  # written and closed: communicate() has nothing more to send
    return process
