"""Damage to a SQLCipher file, aimed: which page holds given bytes, and flipping bytes in place.

SQLCipher 4 encrypts each 4096-byte page with AES-256-CBC under the raw key (a 32-byte key given
as ``x'…'`` is used as it is), the page's IV in its last 80 reserved bytes (IV, then the HMAC); the
first page keeps its first 16 bytes (the salt) in the clear. With the key a test can therefore find
the page that holds, say, one record's photo, and damage exactly that page as a disk would.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE = 4096
_RESERVE = 80


def plain_page(raw: bytes, key: bytes, number: int) -> bytes:
    page = raw[(number - 1) * PAGE : number * PAGE]
    start = 16 if number == 1 else 0
    iv = page[PAGE - _RESERVE : PAGE - _RESERVE + 16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(page[start : PAGE - _RESERVE]) + decryptor.finalize()


def page_holding(db_path: Path, key: bytes, needle: bytes) -> int:
    """The number (1-based) of the one page whose plaintext holds ``needle``."""
    raw = db_path.read_bytes()
    found = [n for n in range(1, len(raw) // PAGE + 1) if needle in plain_page(raw, key, n)]
    assert len(found) == 1, found
    return found[0]


def flip(path: Path, offset: int, count: int = 64) -> None:
    """Invert ``count`` bytes at ``offset`` (what a failing sector or a bad copy does)."""
    with open(path, "r+b") as handle:
        handle.seek(offset)
        data = handle.read(count)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in data))


def page_offset(number: int, within: int = PAGE // 2) -> int:
    return (number - 1) * PAGE + within
