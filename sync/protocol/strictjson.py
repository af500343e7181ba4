"""JSON read from an untrusted peer: I-JSON (RFC 7493) only, bounded in depth.

``json.loads`` alone takes ``NaN``/``Infinity``, numbers that overflow to infinity, lone surrogates
(``"\\ud800"``), repeated member names and nesting until the interpreter's recursion limit; each of those later breaks canonical
JSON, hashing or encoding far from the input. ``loads`` refuses them up front with ``StrictJsonError``
(a ValueError whose message names the problem, never the offending value).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32


class StrictJsonError(ValueError):
    """The text is not I-JSON within the limits."""


def _refuse_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError("a number is out of the IEEE 754 double range")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise StrictJsonError("an object has a member name twice")
    return result


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` (UTF-8 when bytes) as I-JSON no deeper than ``max_depth`` containers."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_members,
        )
    except StrictJsonError:
        raise
    except RecursionError:
        raise StrictJsonError(f"nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise StrictJsonError("not UTF-8") from None
    except ValueError as error:  # JSONDecodeError, and integers longer than the interpreter allows
        raise StrictJsonError(f"not JSON ({type(error).__name__})") from None
    _check(value, max_depth)
    return value


def _check(value: Any, max_depth: int) -> None:
    """Depth and lone surrogates, iteratively (no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise StrictJsonError(f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, member in item.items():
                    _check_text(key)
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StrictJsonError("a string holds a lone surrogate") from None
