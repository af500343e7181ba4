"""Opaque feed cursors: ``(epoch, season, scope, last_seq)`` packed into URL-safe text (docs/sync-protocol.md §4.5).

``scope`` is the county code for the approvals feed and the station id for a station's ledger. The
client stores the text and sends it back unchanged; only the registry decodes it. An absent cursor,
"" or "0" means "from the beginning".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

_VERSION = "c1"


class InvalidCursor(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.code = "BAD_CURSOR"
        self.reason = reason


@dataclass(frozen=True)
class Cursor:
    epoch: str
    season: int
    scope: str
    seq: int


def encode(epoch: str, season: int, scope: str, seq: int) -> str:
    text = f"{_VERSION}|{epoch}|{season}|{scope}|{seq}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def is_start(value: str | None) -> bool:
    return value is None or value in ("", "0")


def decode(value: str) -> Cursor:
    """Parse a cursor made by ``encode``; raises InvalidCursor for anything else."""
    if len(value) > 256:
        raise InvalidCursor("cursor too long")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("cursor is not one this registry issued") from None
    parts = raw.split("|")
    if len(parts) != 5 or parts[0] != _VERSION:
        raise InvalidCursor("cursor is not one this registry issued")
    _, epoch, season, scope, seq = parts
    if not (season.isdigit() and seq.isdigit()):
        raise InvalidCursor("cursor is not one this registry issued")
    return Cursor(epoch=epoch, season=int(season), scope=scope, seq=int(seq))
