"""The database key: made once per station, kept in the OS credential store or a user-only key file.

* ``setup(home)`` makes a random 32-byte key, stores it, seals a copy under a fresh recovery code
  (``station.store.recovery``) and returns both; the code is shown once and never stored.
* The key goes to the OS credential store through ``keyring`` (Windows Credential Manager / DPAPI,
  macOS Keychain, Secret Service) when a usable backend exists, proven by a write-then-read round trip.
  Otherwise it goes to ``station.key`` in the station home, created atomically with mode 0600.
* ``station.json`` records where the key went and a short key check value (an HMAC of a constant under
  the key: it identifies the key without revealing it), so a wrong key is told apart from a damaged
  database before SQLCipher is even asked.
* ``recover(code)`` unseals the key with the recovery code and stores it again.
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

from station.i18n import Text
from station.store import paths, recovery
from station.store.errors import InvalidRecoveryCode, KeyMissingError, StoreError, WrongKeyError

KEY_BYTES = 32
KEYRING_SERVICE = "capture-station"
KEYRING = "keyring"
KEY_FILE = "file"


@dataclass(frozen=True)
class StationMetadata:
    """Contents of ``station.json``: no secrets, no personal data."""

    station_uid: str
    key_store: str  # "keyring" or "file"
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


def setup(home: Path) -> tuple[bytes, str]:
    """Make and store a new database key for ``home``; return it with its recovery code (show once)."""
    paths.ensure_home(home)
    key = secrets.token_bytes(KEY_BYTES)
    code = recovery.generate()
    # The sealed copy goes to disk first: whatever happens next, the paper code can bring the key back.
    paths.write_atomically(home / paths.RECOVERY_FILE, recovery.wrap(key, code).to_json())
    station_uid = str(uuid.uuid4())
    key_store = _store(home, station_uid, key)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    _write_metadata(home, StationMetadata(station_uid, key_store, key_check(key), created))
    return key, code


def load_key(home: Path) -> bytes:
    """This station's database key, or KeyMissingError telling the officer to use the recovery code."""
    metadata = read_metadata(home)
    if metadata is None:
        raise _missing(Text("缺少站点信息文件 station.json", "station.json is missing"))
    if metadata.key_store == KEYRING:
        try:
            stored = keyring.get_password(KEYRING_SERVICE, metadata.keyring_username)
        except Exception:  # any backend failure (locked store, no D-Bus...) means: key not available now
            stored = None
        if stored is None:
            raise _missing(Text("系统凭据库中找不到本站密钥", "the key is not in the OS credential store"))
        key = _decode(stored)
    else:
        key_path = home / paths.KEY_FILE
        try:
            key = _decode(key_path.read_text(encoding="ascii"))
        except (FileNotFoundError, UnicodeDecodeError):
            raise _missing(
                Text("密钥文件 station.key 不存在或已损坏", "the key file station.key is missing or damaged")
            ) from None
    if not hmac.compare_digest(key_check(key), metadata.key_check):
        raise WrongKeyError(
            Text(
                "保存的密钥与本站不符。请使用恢复码恢复密钥。",
                "The stored key is not this station's key. Restore it with the recovery code.",
            )
        )
    return key


def recover(code: str, home: Path) -> bytes:
    """Unseal the database key with the recovery code, store it again and return it."""
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
    key_store = _store(home, station_uid, key)
    created = metadata.created_at if metadata else datetime.now(UTC).isoformat(timespec="seconds")
    _write_metadata(home, StationMetadata(station_uid, key_store, key_check(key), created))
    return key


def key_file_mode(home: Path) -> int | None:
    """Permission bits of the key file, or None when the key is not kept in a file."""
    try:
        return stat.S_IMODE((home / paths.KEY_FILE).stat().st_mode)
    except FileNotFoundError:
        return None


def _store(home: Path, station_uid: str, key: bytes) -> str:
    """Keep ``key`` in the credential store if a round trip proves it usable, else in a 0600 file."""
    username = f"database-key:{station_uid}"
    encoded = key.hex()
    try:
        keyring.set_password(KEYRING_SERVICE, username, encoded)
        if keyring.get_password(KEYRING_SERVICE, username) == encoded:
            (home / paths.KEY_FILE).unlink(missing_ok=True)
            return KEYRING
    except Exception:  # no backend, a locked store, a headless session: all mean "use the file"
        pass
    paths.write_atomically(home / paths.KEY_FILE, encoded.encode("ascii") + b"\n", mode=0o600)
    return KEY_FILE


def _decode(stored: str) -> bytes:
    try:
        key = bytes.fromhex(stored.strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise _missing(Text("保存的密钥格式不正确", "the stored key is malformed"))
    return key


def _missing(why: Text) -> KeyMissingError:
    return KeyMissingError(
        Text(
            f"找不到本站数据库密钥（{why.zh}）。数据仍完好：请用站点设置时打印的恢复码恢复密钥（station store recover）。",
            f"The station's database key is not available ({why.en}). The data is intact: restore the key with "
            "the recovery code printed at station set-up (station store recover).",
        )
    )
