"""Key slots: the database key wrapped by each officer's password, for stations without an OS keyring.

As LUKS keeps one key slot per passphrase, ``keyslots.json`` beside the database holds, for every
officer who may open the store, the database key encrypted with AES-256-GCM under a key-encryption
key derived from that officer's password: ``HKDF-SHA256(scrypt(password, salt, n, r, p))``, with its
own salt and cost per slot and the username as associated data (a slot cannot be passed off as
another officer's). Nothing in the file opens anything without a password, and it names each slot by
the officer's username only: no other personal data. The recovery code wraps the same key in
``recovery.json`` (``station.store.recovery``).

The scrypt step is the one the officer's password hash in the database uses
(``station.store.operators.hash_password``). That is what lets a station that kept its key in a
plaintext ``station.key`` (before key slots existed) be converted without anyone typing a password:
the stored hash is the scrypt output, so ``put_from_hash`` wraps the key for every officer from
inside the unlocked database (``station.store.keys.convert_key_file``).

The database cannot be read before it is unlocked, so a wrong password typed here is counted in the
file itself, with the desk log-in's limits (``station.store.operators``): that stops guessing at the
desk; a copied folder is protected by the cost of scrypt and the password.

Changes are read-modify-write of the whole file under an OS lock (``keyslots.lock``) and written
atomically (``paths.write_atomically``): a crash leaves the old file or the new one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from station.domain.officers import OfficerLogin
from station.i18n import Text
from station.store import clock, paths
from station.store.errors import InvalidCredentialsError, KeySlotsDamagedError, StoreError
from station.store.operators import LOCKOUT, MAX_FAILED_ATTEMPTS, locked_error

SLOTS_FILE = "keyslots.json"
LOCK_FILE = "keyslots.lock"
_FORMAT = 1
# scrypt cost: about 0.1 s and 32 MiB per attempt on a county office PC (as the recovery code).
_N, _R, _P = 2**15, 8, 1
_MAX_COST = 2**20 * 8  # n * r * p above this (1 GiB of scrypt memory) is a hostile file, not a slot
_AAD = b"capture-station key slot v1:"
_INVALID = Text("用户名或密码不正确。", "Wrong username or password.")


@dataclass(frozen=True)
class Slot:
    salt: bytes
    n: int
    r: int
    p: int
    nonce: bytes
    wrapped: bytes
    failed: int = 0
    locked_until: str | None = None


class KeySlots:
    """The key slots of the station at ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / SLOTS_FILE

    def exists(self) -> bool:
        return self.path.exists()

    def usernames(self) -> list[str]:
        return sorted(self._read())

    def unlock(self, login: OfficerLogin, *, now: datetime | None = None) -> bytes:
        """The database key, or InvalidCredentialsError / OperatorLockedError (failures are counted)."""
        moment = now or clock.utc_now()
        slot = self._read().get(login.username)
        if slot is None:
            _scrypt(login.password, secrets.token_bytes(16), _N, _R, _P)  # same time as a wrong password
            raise InvalidCredentialsError(_INVALID)
        if slot.locked_until and (until := clock.parse(slot.locked_until)) > moment:
            raise locked_error(until, moment)
        kek = _kek(_scrypt(login.password, slot.salt, slot.n, slot.r, slot.p))
        try:
            key = AESGCM(kek).decrypt(slot.nonce, slot.wrapped, _AAD + login.username.encode())
        except InvalidTag:
            raise self._failed(login.username, moment) from None
        if slot.failed or slot.locked_until:
            self._change(login.username, lambda s: replace(s, failed=0, locked_until=None))
        return key

    def put(self, username: str, password: str, key: bytes) -> Slot | None:
        """Add or rewrap ``username``'s slot (new salt and nonce); returns the slot it replaced."""
        salt = secrets.token_bytes(16)
        return self._put(
            {username: _wrap(username, key, _scrypt(password, salt, _N, _R, _P), salt, _N, _R, _P)}
        )[username]

    def put_from_hashes(self, hashes: dict[str, str], key: bytes) -> list[str]:
        """Slots made from officers' stored password hashes (``scrypt$n$r$p$salt$digest``); the names done."""
        made = {}
        for username, stored in hashes.items():
            parsed = _parse_hash(stored)
            if parsed is not None:
                salt, n, r, p, digest = parsed
                made[username] = _wrap(username, key, digest, salt, n, r, p)
        self._put(made)
        return sorted(made)

    def restore(self, username: str, previous: Slot | None) -> None:
        """Undo a ``put``: the slot as it was (or none)."""
        with self._locked():
            slots = self._read()
            if previous is None:
                slots.pop(username, None)
            else:
                slots[username] = previous
            self._write(slots)

    def remove(self, username: str) -> bool:
        """Remove ``username``'s slot; the last slot is never removed (the store would open for nobody)."""
        with self._locked():
            slots = self._read()
            if username not in slots:
                return False
            if len(slots) == 1:
                raise StoreError(
                    Text(
                        "这是唯一能打开本站数据库的账号，不能删除。请先添加另一名旗县管理员。",
                        "This is the only account that can open the station's database; it cannot be removed. "
                        "Add another county administrator first.",
                    ),
                    code="last_key_slot",
                )
            del slots[username]
            self._write(slots)
        return True

    def clear_lockout(self, username: str) -> None:
        """An administrator unlocked the account: wrong passwords counted here start again too."""
        self._change(username, lambda s: replace(s, failed=0, locked_until=None))

    def _put(self, new: dict[str, Slot]) -> dict[str, Slot | None]:
        with self._locked():
            slots = self._read()
            previous = {name: slots.get(name) for name in new}
            slots.update(new)
            self._write(slots)
        return previous

    def _failed(self, username: str, moment: datetime) -> Exception:
        outcome: list[Exception] = [InvalidCredentialsError(_INVALID)]

        def count(slot: Slot) -> Slot:
            failed = slot.failed + 1
            if failed < MAX_FAILED_ATTEMPTS:
                return replace(slot, failed=failed)
            until = moment + LOCKOUT
            outcome[0] = locked_error(until, moment)
            return replace(slot, failed=0, locked_until=clock.iso(until))

        try:
            self._change(username, count)
        except OSError:  # a read-only or full disk: the password is still refused, the count is not kept
            pass
        return outcome[0]

    def _change(self, username: str, change: Callable[[Slot], Slot]) -> None:
        with self._locked():
            slots = self._read()
            if username in slots:
                slots[username] = change(slots[username])
                self._write(slots)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self) -> dict[str, Slot]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            document = json.loads(raw)
            if document.get("format") != _FORMAT:
                raise ValueError("unknown format")
            return {str(name): _slot(entry) for name, entry in document["slots"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeySlotsDamagedError(
                Text("密钥槽文件 keyslots.json 已损坏。", "The key slot file keyslots.json is damaged."),
                fix=Text(
                    "数据仍完好：运行 station store recover --admin 用户名，输入恢复码。",
                    "The data is intact: run `station store recover --admin NAME` and type the recovery code.",
                ),
            ) from exc

    def _write(self, slots: dict[str, Slot]) -> None:
        b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
        document = {
            "format": _FORMAT,
            "kdf": "scrypt+hkdf-sha256",
            "cipher": "AES-256-GCM",
            "slots": {
                name: {
                    "n": slot.n,
                    "r": slot.r,
                    "p": slot.p,
                    "salt": b64(slot.salt),
                    "nonce": b64(slot.nonce),
                    "wrapped_key": b64(slot.wrapped),
                    "failed": slot.failed,
                    "locked_until": slot.locked_until,
                }
                for name, slot in sorted(slots.items())
            },
        }
        paths.write_atomically(self.path, json.dumps(document, indent=2).encode() + b"\n")


def _slot(entry: dict) -> Slot:
    slot = Slot(
        salt=base64.b64decode(entry["salt"], validate=True),
        n=int(entry["n"]),
        r=int(entry["r"]),
        p=int(entry["p"]),
        nonce=base64.b64decode(entry["nonce"], validate=True),
        wrapped=base64.b64decode(entry["wrapped_key"], validate=True),
        failed=int(entry.get("failed") or 0),
        locked_until=entry.get("locked_until"),
    )
    if not (slot.n > 1 and slot.r > 0 and slot.p > 0 and slot.n * slot.r * slot.p <= _MAX_COST):
        raise ValueError("scrypt cost out of range")
    return slot


def _wrap(username: str, key: bytes, digest: bytes, salt: bytes, n: int, r: int, p: int) -> Slot:
    nonce = secrets.token_bytes(12)
    return Slot(salt, n, r, p, nonce, AESGCM(_kek(digest)).encrypt(nonce, key, _AAD + username.encode()))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """The same scrypt as the officers' password hashes (``operators.hash_password``)."""
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024**2)


def _kek(digest: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"capture-station key slot v1").derive(digest)


def _parse_hash(stored: str) -> tuple[bytes, int, int, int, bytes] | None:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        parsed = base64.b64decode(salt), int(n), int(r), int(p), base64.b64decode(digest)
    except (ValueError, TypeError):
        return None
    return parsed if scheme == "scrypt" and len(parsed[4]) == 32 else None
