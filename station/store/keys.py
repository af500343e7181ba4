"""The database key: made once per station, kept in the OS credential store or wrapped by officers' passwords.

* ``setup(home, admin)`` makes a random 32-byte key, seals a copy under a fresh recovery code
  (``station.store.recovery``) and keeps it: in the OS credential store through ``keyring`` (Windows
  Credential Manager / DPAPI, macOS Keychain, Secret Service) when a usable backend exists, proven by
  a write-then-read round trip; otherwise wrapped by the first county administrator's password in a
  key slot (``station.store.keyslots``), so nothing at rest opens the database without a password or
  the paper recovery code. With no keyring and no administrator, ``AdminRequiredError``.
* ``unlock(home, officer)`` gives the key: from the credential store, or from the officer's key slot
  (``OfficerRequiredError`` when the key is slot-wrapped and no officer was given).
* ``station.json`` records where the key is kept (``keyring``, ``slots``; ``file`` for a station set
  up before key slots existed) and a short key check value (an HMAC of a constant under the key: it
  identifies the key without revealing it), so a wrong key is told apart from a damaged database.
* A ``file`` station (its key in plaintext in ``station.key``) is converted the first time it opens:
  ``convert_key_file`` wraps the key for every officer from their stored password hashes (the scrypt
  output is what a slot's key derivation starts from), records ``slots`` in ``station.json`` and only
  then deletes ``station.key``. A station without officers keeps its key file until the first county
  administrator is added (``station doctor`` says so).
* ``recover(code, home, admin)`` unseals the key with the recovery code and keeps it again (in the
  credential store, or in ``admin``'s key slot).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import stat
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import keyring
import keyring.errors

from station.domain.officers import OfficerLogin, OfficerSource
from station.i18n import Text
from station.store import paths, recovery
from station.store.errors import (
    AdminRequiredError,
    InvalidRecoveryCode,
    KeyMissingError,
    OfficerRequiredError,
    StoreError,
    WrongKeyError,
)
from station.store.keyslots import KeySlots

KEY_BYTES = 32
KEYRING_SERVICE = "capture-station"
KEYRING = "keyring"
SLOTS = "slots"
KEY_FILE = "file"  # before key slots: the key in plaintext in station.key (converted at the next open)


@dataclass(frozen=True)
class StationMetadata:
    """Contents of ``station.json``: no secrets, no personal data."""

    station_uid: str
    key_store: str  # "keyring", "slots" or (before key slots) "file"
    key_check: str
    created_at: str
    format: int = 1

    @property
    def keyring_username(self) -> str:
        return f"database-key:{self.station_uid}"


def key_check(key: bytes) -> str:
    return hmac.new(key, b"capture-station key check v1", hashlib.sha256).hexdigest()[:16]


def read_metadata(home: Path) -> StationMetadata | None:
    path = home / paths.METADATA_FILE
    try:
        document = json.loads(path.read_bytes())
        return StationMetadata(**{name: document[name] for name in StationMetadata.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            Text("站点信息文件 station.json 已损坏。", "The station file station.json is damaged."),
            code="metadata_damaged",
        ) from exc


def _write_metadata(home: Path, metadata: StationMetadata) -> None:
    paths.write_atomically(
        home / paths.METADATA_FILE, json.dumps(asdict(metadata), indent=2).encode() + b"\n"
    )


def setup(home: Path, admin: OfficerLogin | None = None) -> tuple[bytes, str]:
    """Make and keep a new database key for ``home``; return it with its recovery code (show once)."""
    paths.ensure_home(home)
    key = secrets.token_bytes(KEY_BYTES)
    station_uid = str(uuid.uuid4())
    in_keyring = _store_in_keyring(station_uid, key)
    if not in_keyring and admin is None:
        raise AdminRequiredError(NO_KEYRING_NEEDS_ADMIN)
    code = recovery.generate()
    # The sealed copy goes to disk first: whatever happens next, the paper code can bring the key back.
    paths.write_atomically(home / paths.RECOVERY_FILE, recovery.wrap(key, code).to_json())
    if not in_keyring:
        assert admin is not None
        KeySlots(home).put(admin.username, admin.password, key)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    _write_metadata(home, StationMetadata(station_uid, KEYRING if in_keyring else SLOTS, key_check(key), created))
    return key, code


@dataclass(frozen=True)
class Unlocked:
    """The key of a station and, when an officer's password was used, that officer's log-in."""

    key: bytes
    key_store: str
    login: OfficerLogin | None = None


def unlock(home: Path, officer: OfficerSource = None) -> Unlocked:
    """This station's database key, or a typed error saying what is missing and what to do."""
    metadata = read_metadata(home)
    if metadata is None:
        raise _missing(Text("缺少站点信息文件 station.json", "station.json is missing"))
    login = officer if isinstance(officer, OfficerLogin) else None
    if metadata.key_store == KEYRING:
        key = _from_keyring(metadata)
    elif metadata.key_store == SLOTS:
        slots = KeySlots(home)
        if not slots.exists():
            raise _missing(Text("密钥槽文件 keyslots.json 不存在", "the key slot file keyslots.json is missing"))
        if login is None and callable(officer):
            login = officer()  # asked only now, when a password is really needed
        if login is None:
            raise OfficerRequiredError(OFFICER_REQUIRED, fix=OFFICER_REQUIRED_FIX)
        key = slots.unlock(login)
        if (home / paths.KEY_FILE).exists():  # left by a conversion interrupted before its end
            (home / paths.KEY_FILE).unlink()
    else:
        key = _from_key_file(home)
    if not hmac.compare_digest(key_check(key), metadata.key_check):
        raise WrongKeyError(
            Text(
                "保存的密钥与本站不符。请使用恢复码恢复密钥。",
                "The stored key is not this station's key. Restore it with the recovery code.",
            )
        )
    return Unlocked(key, metadata.key_store, login)


def load_key(home: Path, officer: OfficerSource = None) -> bytes:
    return unlock(home, officer).key


def uses_slots(home: Path) -> bool:
    metadata = read_metadata(home)
    return metadata is not None and metadata.key_store == SLOTS


def needs_officer(home: Path) -> bool:
    """True when opening the store takes an officer's password (no keyring; the key is slot-wrapped)."""
    return uses_slots(home)


def convert_key_file(home: Path, key: bytes, password_hashes: dict[str, str]) -> list[str]:
    """Move a ``file`` station's key into key slots made from its officers' password hashes, then delete
    ``station.key``. Returns the officers given a slot (none: nothing changed, the key file stays)."""
    metadata = read_metadata(home)
    if metadata is None or metadata.key_store != KEY_FILE:
        return []
    done = KeySlots(home).put_from_hashes(password_hashes, key)
    if not done:
        return []
    _write_metadata(home, StationMetadata(metadata.station_uid, SLOTS, metadata.key_check, metadata.created_at))
    (home / paths.KEY_FILE).unlink(missing_ok=True)
    paths.fsync_directory(home)
    return done


def recover(code: str, home: Path, admin: OfficerLogin | None = None) -> bytes:
    """Unseal the database key with the recovery code, keep it again and return it."""
    try:
        wrapped = recovery.WrappedKey.from_json((home / paths.RECOVERY_FILE).read_bytes())
    except FileNotFoundError:
        raise InvalidRecoveryCode(
            Text(
                "站点目录中没有恢复文件 recovery.json，无法用恢复码恢复。",
                "There is no recovery file (recovery.json) in the station directory; the code cannot be used.",
            ),
            code="recovery_missing",
        ) from None
    key = recovery.unwrap(wrapped, code)
    metadata = read_metadata(home)
    if metadata is not None and not hmac.compare_digest(key_check(key), metadata.key_check):
        raise InvalidRecoveryCode(
            Text("恢复文件与本站信息不符。", "The recovery file does not match this station."),
            code="recovery_mismatch",
        )
    station_uid = metadata.station_uid if metadata else str(uuid.uuid4())
    in_keyring = _store_in_keyring(station_uid, key)
    if not in_keyring:
        if admin is None:
            raise AdminRequiredError(NO_KEYRING_NEEDS_ADMIN)
        KeySlots(home).put(admin.username, admin.password, key)
    created = metadata.created_at if metadata else datetime.now(UTC).isoformat(timespec="seconds")
    _write_metadata(home, StationMetadata(station_uid, KEYRING if in_keyring else SLOTS, key_check(key), created))
    (home / paths.KEY_FILE).unlink(missing_ok=True)
    return key


def key_file_mode(home: Path) -> int | None:
    """Permission bits of the key file, or None when the key is not kept in a file."""
    try:
        return stat.S_IMODE((home / paths.KEY_FILE).stat().st_mode)
    except FileNotFoundError:
        return None


def _store_in_keyring(station_uid: str, key: bytes) -> bool:
    """Keep ``key`` in the OS credential store if a write-then-read round trip proves it usable."""
    username = f"database-key:{station_uid}"
    encoded = key.hex()
    try:
        keyring.set_password(KEYRING_SERVICE, username, encoded)
        return keyring.get_password(KEYRING_SERVICE, username) == encoded
    except Exception:  # no backend, a locked store, a headless session: all mean "no keyring here"
        return False


def _from_keyring(metadata: StationMetadata) -> bytes:
    try:
        stored = keyring.get_password(KEYRING_SERVICE, metadata.keyring_username)
    except Exception:  # any backend failure (locked store, no D-Bus...) means: key not available now
        stored = None
    if stored is None:
        raise _missing(Text("系统凭据库中找不到本站密钥", "the key is not in the OS credential store"))
    return _decode(stored)


def _from_key_file(home: Path) -> bytes:
    try:
        return _decode((home / paths.KEY_FILE).read_text(encoding="ascii"))
    except (FileNotFoundError, UnicodeDecodeError):
        raise _missing(
            Text("密钥文件 station.key 不存在或已损坏", "the key file station.key is missing or damaged")
        ) from None


def _decode(stored: str) -> bytes:
    try:
        key = bytes.fromhex(stored.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise _missing(Text("保存的密钥格式不正确", "the stored key is malformed"))
    return key


NO_KEYRING_NEEDS_ADMIN = Text(
    "本机没有系统凭据库，数据库密钥须由旗县管理员的密码保护：请同时创建第一位旗县管理员"
    "（--admin 用户名，密码从终端输入或用 --password-stdin）。",
    "This machine has no OS credential store, so the database key must be protected by a county "
    "administrator's password: create the first county administrator with it (--admin NAME; the password "
    "is asked for, or read with --password-stdin).",
)
OFFICER_REQUIRED = Text(
    "本站数据库由采集员密码保护（本机没有系统凭据库），需要采集员登录才能打开。",
    "The station's database is protected by the officers' passwords (this machine has no OS credential "
    "store): an officer must log in to open it.",
)
OFFICER_REQUIRED_FIX = Text(
    "在命令后加上 --operator 用户名 并输入密码（脚本用 --password-stdin 从标准输入读取密码）。",
    "Add --operator NAME and type the password (scripts: --password-stdin reads it from standard input).",
)


def _missing(why: Text) -> KeyMissingError:
    return KeyMissingError(
        Text(
            f"找不到本站数据库密钥（{why.zh}）。数据仍完好：请用站点设置时打印的恢复码恢复密钥"
            "（station store recover --admin 用户名）。",
            f"The station's database key is not available ({why.en}). The data is intact: restore the key with "
            "the recovery code printed at station set-up (station store recover --admin NAME).",
        )
    )
