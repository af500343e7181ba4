"""Typed errors of the local store: each carries a machine code and an officer-facing ``Text``.

Nothing here ever includes personal data (names, ID numbers, photos) in its message: these errors are
shown to officers and may be logged.
"""

from __future__ import annotations

from station.errors import OfficerError
from station.i18n import Text


class StoreError(OfficerError):
    """Base of every store error: ``code`` for programs, ``message`` (Text) for people."""

    code = "store_error"

    def __init__(self, message: Text, *, code: str | None = None, fix: Text | None = None) -> None:
        super().__init__(message, code=code, fix=fix)


class WrongKeyError(StoreError):
    """The key does not open this station's database. The file is left exactly as it was."""

    code = "wrong_key"


class KeyMissingError(StoreError):
    """The database exists but its key is neither in the credential store nor in the key file."""

    code = "key_missing"


class OfficerRequiredError(StoreError):
    """The key is wrapped by the officers' passwords (no OS keyring): an officer must log in to open it."""

    code = "officer_required"


class AdminRequiredError(StoreError):
    """No OS keyring to keep a new key in: the first county administrator must be created with it."""

    code = "admin_required"


class KeySlotsDamagedError(KeyMissingError):
    code = "keyslots_damaged"


class DatabaseMissingError(StoreError):
    code = "database_missing"


class DatabaseExistsError(StoreError):
    code = "database_exists"


class DatabaseNotInitialisedError(StoreError):
    """The file opens but holds no station schema: refuse rather than silently start an empty station."""

    code = "database_not_initialised"


class DatabaseCorruptError(StoreError):
    """SQLCipher or SQLite found damaged pages (a failed page HMAC, a malformed b-tree)."""

    code = "database_corrupt"


class DatabaseHeaderDamagedError(DatabaseCorruptError):
    """The first page does not decrypt although the key is proven right (its key check value matches)."""

    code = "database_header_damaged"


class StoreUnwritableError(StoreError):
    """The station directory or a file in it cannot be written (read-only disk, missing permissions)."""

    code = "store_unwritable"


class SchemaTooNewError(StoreError):
    """The database was written by a newer station version; never downgrade it."""

    code = "schema_too_new"


class MigrationError(StoreError):
    code = "migration_failed"


class InvalidRecoveryCode(StoreError):
    """``code`` is one of recovery_length, recovery_characters, recovery_checksum, recovery_mismatch,
    recovery_missing."""

    code = "recovery_invalid"


class RecordIntegrityError(StoreError):
    """A record to save is inconsistent (hash mismatch, wrong chip block size, duplicate id)."""

    code = "record_integrity"


class RecordImmutableError(StoreError):
    code = "record_immutable"


class PurgeNotAllowedError(StoreError):
    code = "purge_not_allowed"


class OutboxError(StoreError):
    code = "outbox_error"


class InvalidCredentialsError(StoreError):
    code = "invalid_credentials"


class OperatorLockedError(StoreError):
    code = "operator_locked"


class OperatorExistsError(StoreError):
    code = "operator_exists"


class OperatorUnknownError(StoreError):
    code = "operator_unknown"


class LastAdministratorError(StoreError):
    """The change would leave the station without an enabled county administrator."""

    code = "last_administrator"


class DiskFullError(StoreError):
    """The disk is full or failed a write; the transaction was rolled back."""

    code = "disk_full"


class BusyError(StoreError):
    """Another writer held the database longer than the busy timeout."""

    code = "database_busy"


WRONG_KEY = Text(
    "密钥无法打开本站数据库（数据库文件未被改动）。请使用站点设置时打印的恢复码恢复密钥，或联系旗县管理员。",
    "The key does not open this station's database (the file was not changed). "
    "Restore the key with the recovery code printed at station set-up, or call the county administrator.",
)
