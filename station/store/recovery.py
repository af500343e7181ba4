"""The recovery code: a human-typable secret that unwraps the database key when the key itself is lost.

At station set-up the store generates a code such as ``7KQ2M-XH4TD-0RZ9P-C3VWB-N8YEA-5FJS6``: 28 random
Crockford base32 characters (140 bits) plus 2 checksum characters, in six groups of five. It is shown
once, printed for the county administrator, and never stored. What is stored (``recovery.json`` in the
station home) is the database key encrypted with AES-256-GCM under a key derived from the code with
scrypt. So a lost credential store or key file never strands unsynced captures, and the wrapped key
is useless without the paper.

Crockford base32 avoids I, L, O and U; typing I or L is read as 1 and O as 0, and spaces or dashes
anywhere are ignored. The checksum catches a mistyped character before the slow key derivation runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from station.i18n import Text
from station.store.errors import InvalidRecoveryCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_CHARS = 28
CHECK_CHARS = 2
GROUP = 5
_TYPO_MAP = str.maketrans({"I": "1", "L": "1", "O": "0"})
_FORMAT = 1
# scrypt cost: about 0.1 s and 32 MiB per attempt on a county office PC; the code already has 140 bits.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_AAD = b"capture-station database key v1"


def generate() -> str:
    """A fresh recovery code, grouped for reading aloud and typing."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_CHARS))
    return _group(data + _checksum(data))


def normalise(code: str) -> str:
    """The code's 28 data characters, or InvalidRecoveryCode naming what is wrong."""
    compact = "".join(ch for ch in code.upper() if ch not in " -\t\r\n").translate(_TYPO_MAP)
    if len(compact) != DATA_CHARS + CHECK_CHARS:
        raise InvalidRecoveryCode(
            Text(
                "恢复码应为 {n} 个字符（6 组，每组 5 个），实际为 {got} 个。",
                "A recovery code has {n} characters (6 groups of 5); this one has {got}.",
            ).format(n=DATA_CHARS + CHECK_CHARS, got=len(compact)),
            code="recovery_length",
        )
    if any(ch not in ALPHABET for ch in compact):
        raise InvalidRecoveryCode(
            Text(
                "恢复码中含有无效字符（只能是数字和除 I、L、O、U 外的字母）。",
                "The recovery code contains a character that cannot occur (digits and letters except I, L, O, U).",
            ),
            code="recovery_characters",
        )
    data, check = compact[:DATA_CHARS], compact[DATA_CHARS:]
    if _checksum(data) != check:
        raise InvalidRecoveryCode(
            Text(
                "恢复码校验失败：有字符输错了，请逐组核对打印件。",
                "The recovery code's checksum does not match: a character is mistyped; check each group.",
            ),
            code="recovery_checksum",
        )
    return data


@dataclass(frozen=True)
class WrappedKey:
    """The database key sealed under a recovery code, as kept in ``recovery.json``."""

    salt: bytes
    nonce: bytes
    ciphertext: bytes
    n: int = _SCRYPT_N
    r: int = _SCRYPT_R
    p: int = _SCRYPT_P

    def to_json(self) -> bytes:
        b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
        document = {
            "format": _FORMAT,
            "kdf": {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": b64(self.salt)},
            "cipher": "AES-256-GCM",
            "nonce": b64(self.nonce),
            "wrapped_key": b64(self.ciphertext),
        }
        return json.dumps(document, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes) -> WrappedKey:
        try:
            document = json.loads(raw)
            kdf = document["kdf"]
            return cls(
                salt=base64.b64decode(kdf["salt"]),
                nonce=base64.b64decode(document["nonce"]),
                ciphertext=base64.b64decode(document["wrapped_key"]),
                n=int(kdf["n"]),
                r=int(kdf["r"]),
                p=int(kdf["p"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRecoveryCode(
                Text("恢复文件 recovery.json 已损坏。", "The recovery file recovery.json is damaged."),
                code="recovery_missing",
            ) from exc


def wrap(database_key: bytes, code: str) -> WrappedKey:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    kek = _derive(normalise(code), salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return WrappedKey(salt, nonce, AESGCM(kek).encrypt(nonce, database_key, _AAD))


def unwrap(wrapped: WrappedKey, code: str) -> bytes:
    """The database key, or InvalidRecoveryCode("recovery_mismatch") if this code did not seal it."""
    kek = _derive(normalise(code), wrapped.salt, wrapped.n, wrapped.r, wrapped.p)
    try:
        return AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, _AAD)
    except InvalidTag:
        raise InvalidRecoveryCode(
            Text(
                "此恢复码不属于本站（校验位正确，但无法解开本站密钥）。请确认使用的是本站的恢复码。",
                "This recovery code does not belong to this station (it is well-formed but does not unlock "
                "this station's key). Check that it is this station's code.",
            ),
            code="recovery_mismatch",
        ) from None


def _derive(data: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(data.encode("ascii"))


def _checksum(data: str) -> str:
    digest = int.from_bytes(hashlib.sha256(b"capture-station recovery:" + data.encode()).digest()[:2], "big")
    return ALPHABET[(digest >> 11) & 31] + ALPHABET[(digest >> 6) & 31]


def _group(chars: str) -> str:
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))
