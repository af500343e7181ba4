"""The append-only audit log: every view, capture, export, purge and login, hash-chained.

Triggers forbid UPDATE and DELETE on ``audit_log``; on top of that each entry stores the SHA-256 of
(previous entry's hash, its own fields), so ``verify_chain`` detects a history rewritten by someone who
had the key and dropped the triggers. Entries name records and students by their ids only: never a
name, an ID number or a photo (``detail`` is for counts, codes and ids).
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
        limit: int = 200,
    ) -> list[AuditEntry]:
        """Newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        for column, value in (("action", action), ("subject", subject), ("operator", operator)):
            if value is not None:
                query = query.where(audit_log.c[column] == value)
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
        prev = GENESIS
        with read_transaction(self._engine) as conn:
            for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings():
                expected = _hash(prev, r["at"], r["operator"], r["action"], r["subject"], r["detail"])
                if r["prev_hash"] != prev or r["entry_hash"] != expected:
                    return int(r["id"])
                prev = r["entry_hash"]
        return None


def _hash(
    prev: str, at: str, operator: str | None, action: str, subject: str | None, detail: str | None
) -> str:
    fields = [prev, at, operator or "", action, subject or "", detail or ""]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
