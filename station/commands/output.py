"""How commands print: plain text for an officer, or JSON for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: object, code: int = 2) -> int:
    """Print an error for a person on stderr and return the exit code to use."""
    sys.stderr.write(f"{message}\n")
    return code
