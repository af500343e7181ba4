"""Waiting for state instead of time: poll a condition that does real work until it holds (a bound, not a clock)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until(condition: Callable[[], T], attempts: int = 600, interval_s: float = 0.05) -> T:
    """The first truthy value of ``condition()``; AssertionError after ``attempts`` calls."""
    for _ in range(attempts):
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError("the condition never held")
