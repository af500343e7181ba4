"""Canonical JSON (RFC 8785 style), record hashes, UUIDv7 record ids and the XOR digests of the protocol.

Both ends compute ``payload_sha256`` here: the SHA-256 of the record's canonical JSON with the
``payload_sha256`` member itself left out (docs/sync-protocol.md §4). Canonical form: object members sorted
by their UTF-16 code units, no insignificant whitespace, strings as UTF-8 with the minimal JSON escapes,
numbers in the ECMAScript shortest form (integral floats written without a fraction). NaN and infinities
are refused.

The digests of §4.4 are an XOR of SHA-256 terms, so either end can fold them in any order:
``approval_term(student_id, version)`` for the approvals feed and ``ledger_term(record_id, status,
reg_no)`` for a station's ledger (``reg_no`` is "" for a rejection).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

HASH_FIELD = "payload_sha256"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class CanonicalJsonError(ValueError):
    """A value that has no canonical JSON form (NaN, infinity, a non-string key, an unknown type)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.code = "not_canonicalizable"
        self.reason = reason


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value`` (dicts, lists, str, int, float, bool, None)."""
    parts: list[str] = []
    _emit(value, parts)
    return "".join(parts).encode("utf-8")


class CanonicalText(str):
    """Canonical JSON text made already (``canonical_record``): emitted as it is, not as a string."""


_STRING = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per string
_LITERALS = {None: "null", True: "true", False: "false"}


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def _emit(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append(_LITERALS[value])
    elif isinstance(value, CanonicalText):
        out.append(value)
    elif isinstance(value, str):
        out.append(_STRING(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_es6_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(f"object keys must be strings, got {type(key).__name__}")
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_key)):
            if index:
                out.append(",")
            out.append(_STRING(key))
            out.append(":")
            _emit(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _emit(item, out)
        out.append("]")
    else:
        raise CanonicalJsonError(f"no canonical JSON form for {type(value).__name__}")


def _es6_number(number: float) -> str:
    """ECMAScript Number::toString for a finite double (what RFC 8785 prescribes)."""
    if math.isnan(number) or math.isinf(number):
        raise CanonicalJsonError("NaN and infinity have no JSON form")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # Position of the decimal point relative to the first significant digit.
    point = len(whole.lstrip("0")) if whole.strip("0") else -(len(fraction) - len(fraction.lstrip("0")))
    point += int(exponent or 0)
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exp = n - 1
        head = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{head}e{'+' if exp >= 0 else '-'}{abs(exp)}"
    return sign + text


def payload_sha256(record: dict[str, Any]) -> str:
    """Hex SHA-256 of the record's canonical JSON, excluding its own ``payload_sha256`` member."""
    body = {key: value for key, value in record.items() if key != HASH_FIELD}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def canonical_record(record: dict[str, Any]) -> tuple[str, CanonicalText]:
    """``payload_sha256`` of the record as it should be, and the canonical text of the record as it is
    (with the ``payload_sha256`` member it carries), each member serialised once."""
    for key in record:
        if not isinstance(key, str):
            raise CanonicalJsonError(f"object keys must be strings, got {type(key).__name__}")
    members = {}
    for key in sorted(record, key=_utf16_key):
        parts: list[str] = []
        _emit(record[key], parts)
        members[key] = _STRING(key) + ":" + "".join(parts)
    without_hash = "{" + ",".join(text for key, text in members.items() if key != HASH_FIELD) + "}"
    whole = CanonicalText("{" + ",".join(members.values()) + "}")
    return hashlib.sha256(without_hash.encode("utf-8")).hexdigest(), whole


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_sha256_hex(value: str) -> bool:
    return bool(_SHA256_HEX.match(value))


def uuid7(unix_ms: int | None = None) -> str:
    """A new RFC 9562 UUIDv7 (48-bit Unix milliseconds, version, 74 random bits) as text."""
    ms = int(time.time() * 1000) if unix_ms is None else unix_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def is_uuid7(value: str) -> bool:
    """True for the canonical lower-case text of a version-7, RFC 9562 variant UUID."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return str(parsed) == value and parsed.version == 7 and parsed.variant == uuid.RFC_4122


def uuid7_unix_ms(value: str) -> int:
    """The millisecond timestamp inside a UUIDv7."""
    return uuid.UUID(value).int >> 80


def approval_term(student_id: str, version: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{student_id}|{version}".encode()).digest(), "big")


def ledger_term(record_id: str, status: str, reg_no: str | None) -> int:
    return int.from_bytes(hashlib.sha256(f"{record_id}|{status}|{reg_no or ''}".encode()).digest(), "big")


def xor_hex(terms: Iterable[int]) -> str:
    """Fold digest terms with XOR into 64 hex digits (all zeros for an empty set)."""
    acc = 0
    for term in terms:
        acc ^= term
    return f"{acc:064x}"
