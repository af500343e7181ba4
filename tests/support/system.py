"""What the tests need from the machine, and how a missing part is reported.

A test that needs a system part (pcscd, PostgreSQL, gcc, Xvfb...) calls ``require``. Outside CI a
missing part skips the test with the reason; in CI (``CI=true``) it fails it, because the test command
installs every part there and a silent skip would hide a broken install.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(available: bool, what: str) -> None:
    """Skip (outside CI) or fail (in CI) when ``what`` is not available."""
    if available:
        return
    message = f"needs {what}; `./dev test` installs it when run as root"
    if in_ci():
        pytest.fail(f"missing system part in CI: {message}", pytrace=False)
    pytest.skip(message)


def require_tool(name: str, package: str | None = None) -> str:
    """Return the path of executable ``name`` or skip/fail naming its Debian package."""
    path = shutil.which(name)
    require(path is not None, f"`{name}` (Debian package {package or name})")
    assert path is not None
    return path
