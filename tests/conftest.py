"""Suite-wide test settings: Qt offscreen, a private STATION_HOME, no real keyring, Hypothesis storage
outside the checkout, and a session that fails when a test wrote into the checkout."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Hypothesis keeps its example database and caches in ./.hypothesis by default: inside the checkout.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
# The tests never touch the developer's real credential store.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture(autouse=True)
def _private_station_home(tmp_path_factory, monkeypatch):
    """Every test has a throwaway STATION_HOME: nothing (logs, crash reports) lands in a real one."""
    monkeypatch.setenv("STATION_HOME", str(tmp_path_factory.mktemp("default-home")))


@pytest.fixture
def station_home(tmp_path, monkeypatch):
    """A fresh station data directory, as STATION_HOME points the station at it."""
    home = tmp_path / "station-home"
    home.mkdir()
    monkeypatch.setenv("STATION_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _language_reset():
    """Tests that switch the message language (``--lang en``) must not leak it into the next test."""
    from station import i18n

    yield
    i18n.set_language("zh")


# ---------------------------------------------------------------- no test writes into the checkout

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _untracked() -> set[str] | None:
    """Untracked, not ignored files of the checkout and its top-level entries (git lists no empty
    folder); None where there is no git work tree."""
    import subprocess

    if not os.path.exists(os.path.join(_ROOT, ".git")):  # a copy of the tree (mutation runs), not a checkout
        return None
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "-z"],
            cwd=_ROOT, capture_output=True, timeout=60, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    entries = [e for e in done.stdout.decode("utf-8", "replace").split("\0") if e]
    top = [name for name in os.listdir(_ROOT)]
    # Folders git ignores on purpose (test-artifacts/, .venv/ ...) are allowed; anything else is not.
    ignored = (
        subprocess.run(
            ["git", "check-ignore", "--stdin", "-z"],
            cwd=_ROOT,
            input="\0".join(top).encode(),
            capture_output=True,
        )
        .stdout.decode("utf-8", "replace")
        .split("\0")
    )
    return {e[3:] for e in entries if e.startswith("?? ")} | {
        f"{name}/" for name in top if name not in ignored
    }


def pytest_sessionstart(session):
    session.config._untracked_before = _untracked()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)
    before = getattr(session.config, "_untracked_before", None)
    after = _untracked() if before is not None else None
    if before is None or after is None:
        return
    new = sorted(after - before)
    if new:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "tests wrote into the checkout (use tmp_path): " + ", ".join(new[:20])
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
