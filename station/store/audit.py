"""The append-only audit log: every capture, view, export, purge, settings change, sign-off, manual
override, account change and login, with operator and time, hash-chained.

Triggers forbid UPDATE and DELETE on ``audit_log``; on top of that each entry stores the SHA-256 of
(previous entry's hash, its own fields), so ``check_chain`` detects a history rewritten by someone who
had the key and dropped the triggers: an edited entry no longer matches its own hash, a deleted one
breaks its successor's link, and entries cut off the end leave SQLite's AUTOINCREMENT counter
(``sqlite_sequence``) ahead of the last id. Entries name records and students by their ids only:
never a name, an ID number or a photo (``detail`` is for counts, codes and ids).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from station.store import clock
from station.store.engine import read_transaction, write_transaction
from station.store.models import audit_log

GENESIS = "0" * 64
_ACTION = re.compile(r"^[a-z][a-z_.]{1,40}$")

# The actions the station writes; others may be added as long as they match _ACTION.
VIEW, CAPTURE, EXPORT, PURGE = "view", "capture", "export", "purge"
LOGIN, LOGIN_FAILED, LOCKOUT, LOGOUT = "login", "login_failed", "lockout", "logout"
OPERATOR_CREATED, KEY_RECOVERED, MIGRATE = "operator_created", "key_recovered", "migrate"
OPERATOR_DISABLED, OPERATOR_ENABLED, OPERATOR_UNLOCKED = "operator_disabled", "operator_enabled", "operator_unlocked"
PASSWORD_CHANGED, PASSWORD_RESET = "password_changed", "password_reset"
SETTINGS_CHANGED, ENROLL, STATION_CREATED = "settings_changed", "enroll", "station_created"
SIGNOFF, RECEIPT = "signoff", "receipt"  # a class sign-off sheet / a student's receipt was produced
MANUAL_OVERRIDE = "manual_override"  # an administrator's sign-off let the desk go past a rule


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    operator: str | None
    action: str
    subject: str | None
    detail: dict[str, Any]
    entry_hash: str


def append(
    conn: Connection,
    action: str,
    *,
    operator: str | None = None,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> str:
    """Append one entry inside the caller's (write) transaction; return its hash."""
    if not _ACTION.match(action):
        raise ValueError(f"malformed audit action {action!r}")
    moment = clock.iso(at or clock.utc_now())
    detail_json = json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev = conn.execute(sa.select(audit_log.c.entry_hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
    prev = prev or GENESIS
    entry_hash = _hash(prev, moment, operator, action, subject, detail_json)
    # Parameters passed to execute (not baked in with .values()) keep the compiled statement cached.
    conn.execute(
        audit_log.insert(),
        {
            "at": moment,
            "operator": operator,
            "action": action,
            "subject": subject,
            "detail": detail_json,
            "prev_hash": prev,
            "entry_hash": entry_hash,
        },
    )
    return entry_hash


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of checking the hash chain: ``problem`` is None when the log is intact, else
    ``altered`` (an entry no longer matches its hash), ``broken`` (an entry before this one was taken
    out or rewritten, so the link to it fails) or
    ``truncated`` (entries were cut off the end); ``first_bad_id`` is where it shows."""

    entries: int
    problem: str | None = None
    first_bad_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


class AuditLog:
    """Append and read the audit log (each call its own transaction unless a connection is given)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, action: str, **fields: Any) -> str:
        with write_transaction(self._engine) as conn:
            return append(conn, action, **fields)

    def list(
        self,
        *,
        action: str | None = None,
        subject: str | None = None,
        operator: str | None = None,
        actions: tuple[str, ...] | None = None,
        since: str | None = None,
        before_id: int | None = None,
        limit: int = 200,
    ) -> list[AuditEntry]:
        """Newest first; ``since`` is a UTC ISO time, ``before_id`` pages back through older entries."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        for column, value in (("action", action), ("subject", subject), ("operator", operator)):
            if value is not None:
                query = query.where(audit_log.c[column] == value)
        if actions is not None:
            query = query.where(audit_log.c.action.in_(actions))
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        with read_transaction(self._engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            AuditEntry(
                r["id"],
                r["at"],
                r["operator"],
                r["action"],
                r["subject"],
                json.loads(r["detail"] or "{}"),
                r["entry_hash"],
            )
            for r in rows
        ]

    def verify_chain(self) -> int | None:
        """The id of the first entry whose hash does not follow from its predecessor, or None if intact."""
        check = self.check_chain()
        return check.first_bad_id if not check.intact else None

    def check_chain(self) -> ChainCheck:
        """Walk the whole log from the first entry: is every entry where, and what, it was written?"""
        prev, last_id, count = GENESIS, 0, 0
        with read_transaction(self._engine) as conn:
            for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings():
                count += 1
                own = _hash(r["prev_hash"], r["at"], r["operator"], r["action"], r["subject"], r["detail"])
                if r["entry_hash"] != own:
                    return ChainCheck(count, "altered", int(r["id"]))
                if r["prev_hash"] != prev or r["id"] != last_id + 1:
                    return ChainCheck(count, "broken", int(r["id"]))
                prev, last_id = r["entry_hash"], int(r["id"])
            issued = conn.execute(
                sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'")
            ).scalar()
        if issued is not None and int(issued) > last_id:
            return ChainCheck(count, "truncated", last_id + 1)
        return ChainCheck(count)

    def count(self) -> int:
        with read_transaction(self._engine) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() or 0)


def _hash(
    prev: str, at: str, operator: str | None, action: str, subject: str | None, detail: str | None
) -> str:
    fields = [prev, at, operator or "", action, subject or "", detail or ""]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
