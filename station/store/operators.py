"""Station operators: offline login with a salted slow hash, roles, lockout after repeated failures.

Passwords are hashed with scrypt (hashlib) under a per-operator random salt; the stored string names
its parameters, so they can be raised later without breaking existing logins. After
``MAX_FAILED_ATTEMPTS`` consecutive failures the account is locked for ``LOCKOUT``; every login,
failure and lockout goes to the audit log. An unknown username costs the same hashing time as a
wrong password, so timing does not reveal which usernames exist.

Account maintenance (``unlock``, ``disable``, ``enable``, ``set_password``) happens here, each change
and its audit entry in one transaction, so whatever else an account carries (a key slot) can be kept
in step in the same place. The station never loses its last enabled county administrator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from station.i18n import Text
from station.store import audit, clock
from station.store.engine import read_transaction, write_transaction
from station.store.errors import (
    InvalidCredentialsError,
    LastAdministratorError,
    OperatorExistsError,
    OperatorLockedError,
    OperatorUnknownError,
)
from station.store.models import ROLES, operators
from station.store.rows import Operator

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return f"scrypt${n}${r}${p}${b64(salt)}${b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_new_password(password: str) -> None:
    """Refuse a password too short to be set (before anything is written)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidCredentialsError(
            Text("密码至少需要 {n} 个字符。", "A password needs at least {n} characters.").format(
                n=MIN_PASSWORD_LENGTH
            ),
            code="password_too_short",
        )


_DUMMY_HASH = hash_password(secrets.token_hex(8))
_INVALID = Text("用户名或密码不正确。", "Wrong username or password.")


class KeySlotKeeper(Protocol):
    """Keeps each officer's key slot (``station.store.keyslots``) in step with their password.

    ``password_set`` rewraps the slot before the password change commits and returns how to undo
    that if the change does not commit; ``removed`` drops the slot of an officer who was disabled;
    ``unlocked`` clears the slot's own lockout when an administrator unlocks the account; ``enabled``
    gives an account enabled again its slot back from its stored password hash.
    """

    def password_set(self, username: str, password: str) -> Callable[[], None]: ...

    def removed(self, username: str) -> None: ...

    def unlocked(self, username: str) -> None: ...

    def enabled(self, username: str, password_hash: str) -> None: ...


class _NoKeySlots:
    def password_set(self, username: str, password: str) -> Callable[[], None]:
        return lambda: None

    def removed(self, username: str) -> None:
        pass

    def unlocked(self, username: str) -> None:
        pass

    def enabled(self, username: str, password_hash: str) -> None:
        pass


class OperatorRepository:
    def __init__(
        self,
        engine: Engine,
        *,
        now: Callable[[], datetime] = clock.utc_now,
        key_slots: KeySlotKeeper | None = None,
    ) -> None:
        self._engine = engine
        self._now = now
        self._key_slots = key_slots or _NoKeySlots()

    @contextmanager
    def _slot_follows(self, username: str, password: str) -> Iterator[None]:
        """Rewrap ``username``'s key slot for ``password``; undone if the block (the transaction) fails."""
        undo = self._key_slots.password_set(username, password)
        try:
            yield
        except BaseException:
            undo()
            raise

    def create(
        self,
        username: str,
        password: str,
        *,
        role: str = "operator",
        display_name: str | None = None,
        created_by: str | None = None,
    ) -> Operator:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        check_new_password(password)
        row = {
            "username": username,
            "display_name": display_name or username,
            "role": role,
            "password_hash": hash_password(password),
            "created_at": clock.iso(self._now()),
        }
        try:
            with self._slot_follows(username, password), write_transaction(self._engine) as conn:
                conn.execute(operators.insert().values(**row))
                audit.append(
                    conn, audit.OPERATOR_CREATED, operator=created_by, subject=username, detail={"role": role}
                )
        except sa_exc.IntegrityError:
            raise OperatorExistsError(
                Text("操作员 {name} 已存在。", "Operator {name} already exists.").format(name=username)
            ) from None
        return Operator(username, row["display_name"], role)

    def get(self, username: str) -> Operator | None:
        with read_transaction(self._engine) as conn:
            row = (
                conn.execute(sa.select(operators).where(operators.c.username == username)).mappings().first()
            )
        return _operator(row) if row else None

    def list(self) -> list[Operator]:
        with read_transaction(self._engine) as conn:
            return [
                _operator(r)
                for r in conn.execute(sa.select(operators).order_by(operators.c.username)).mappings()
            ]

    def verify(self, username: str, password: str) -> Operator:
        """The operator on success; InvalidCredentialsError or OperatorLockedError otherwise."""
        now = self._now()
        failure: Exception | None = None
        with write_transaction(self._engine) as conn:
            row = (
                conn.execute(sa.select(operators).where(operators.c.username == username)).mappings().first()
            )
            if row is None or row["disabled"]:
                check_password(password, _DUMMY_HASH)
                audit.append(conn, audit.LOGIN_FAILED, subject=username, detail={"reason": "unknown"}, at=now)
                failure = InvalidCredentialsError(_INVALID)
            elif row["locked_until"] and (locked_until := clock.parse(row["locked_until"])) > now:
                audit.append(conn, audit.LOGIN_FAILED, subject=username, detail={"reason": "locked"}, at=now)
                failure = locked_error(locked_until, now)
            elif check_password(password, row["password_hash"]):
                conn.execute(
                    operators.update()
                    .where(operators.c.username == username)
                    .values(failed_attempts=0, locked_until=None, last_login_at=clock.iso(now))
                )
                audit.append(conn, audit.LOGIN, operator=username, subject=username, at=now)
                return _operator(
                    {**row, "failed_attempts": 0, "locked_until": None, "last_login_at": clock.iso(now)}
                )
            else:
                failed = row["failed_attempts"] + 1
                values: dict[str, object] = {"failed_attempts": failed}
                audit.append(conn, audit.LOGIN_FAILED, subject=username, detail={"attempt": failed}, at=now)
                failure = InvalidCredentialsError(_INVALID)
                if failed >= MAX_FAILED_ATTEMPTS:
                    until = now + LOCKOUT
                    values = {"failed_attempts": 0, "locked_until": clock.iso(until)}
                    audit.append(
                        conn, audit.LOCKOUT, subject=username, detail={"until": clock.iso(until)}, at=now
                    )
                    failure = locked_error(until, now)
                conn.execute(operators.update().where(operators.c.username == username).values(**values))
        # Raised after COMMIT, so the failure count and the audit entries are kept.
        assert failure is not None
        raise failure

    def set_password(self, username: str, password: str, *, changed_by: str) -> None:
        """A new password (the officer's own change, or an administrator's reset when ``changed_by``
        is someone else); it also lifts a lockout."""
        check_new_password(password)
        with self._slot_follows(username, password), write_transaction(self._engine) as conn:
            result = conn.execute(
                operators.update()
                .where(operators.c.username == username)
                .values(password_hash=hash_password(password), failed_attempts=0, locked_until=None)
            )
            if result.rowcount == 0:
                raise _unknown(username)
            action = audit.PASSWORD_CHANGED if changed_by == username else audit.PASSWORD_RESET
            audit.append(conn, action, operator=changed_by, subject=username)

    def unlock(self, username: str, *, by: str) -> None:
        """Lift a lockout after too many wrong passwords (the failure count starts again)."""
        self._change(username, audit.OPERATOR_UNLOCKED, by, failed_attempts=0, locked_until=None)

    def disable(self, username: str, *, by: str) -> None:
        """The officer can no longer log in (the account and its history stay)."""
        self._change(username, audit.OPERATOR_DISABLED, by, disabled=True)

    def enable(self, username: str, *, by: str) -> None:
        self._change(username, audit.OPERATOR_ENABLED, by, disabled=False, failed_attempts=0, locked_until=None)

    def _change(self, username: str, action: str, by: str, **values: object) -> None:
        with write_transaction(self._engine) as conn:
            row = conn.execute(sa.select(operators).where(operators.c.username == username)).mappings().first()
            if row is None:
                raise _unknown(username)
            if values.get("disabled") and row["role"] == "county_admin" and not row["disabled"]:
                others = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(operators)
                    .where(
                        operators.c.role == "county_admin",
                        operators.c.disabled.is_(False),
                        operators.c.username != username,
                    )
                ).scalar()
                if not others:
                    raise LastAdministratorError(
                        Text(
                            "这是本站唯一可用的旗县管理员账号，不能停用。请先添加另一名旗县管理员。",
                            "This is the station's only enabled county administrator; add another one first.",
                        )
                    )
            conn.execute(operators.update().where(operators.c.username == username).values(**values))
            audit.append(conn, action, operator=by, subject=username)
            # The key slot follows, inside the transaction (a refusal, such as the last slot, undoes it):
            # a disabled officer's password no longer opens the store, not even from a copied folder; an
            # account enabled again gets its slot back from its stored password hash (the same password
            # works again); an unlocked one may try again at the store's own lock too.
            if values.get("disabled"):
                self._key_slots.removed(username)
            elif action == audit.OPERATOR_ENABLED:
                self._key_slots.enabled(username, row["password_hash"])
            elif action == audit.OPERATOR_UNLOCKED:
                self._key_slots.unlocked(username)

    def password_hashes(self) -> dict[str, str]:
        """``username -> stored password hash`` of the officers who are not disabled (for key slots)."""
        query = sa.select(operators.c.username, operators.c.password_hash).where(operators.c.disabled.is_(False))
        with read_transaction(self._engine) as conn:
            return {row.username: row.password_hash for row in conn.execute(query)}


def _unknown(username: str) -> OperatorUnknownError:
    return OperatorUnknownError(Text("没有名为 {name} 的账号。", "There is no account {name}.").format(name=username))


def locked_error(until: datetime, now: datetime) -> OperatorLockedError:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return OperatorLockedError(
        Text(
            "密码错误次数过多，账户已锁定，请 {m} 分钟后再试，或请旗县管理员解锁。",
            "Too many wrong passwords: the account is locked. Try again in {m} minutes, or ask the county "
            "administrator to unlock it.",
        ).format(m=minutes)
    )


def _operator(row) -> Operator:  # type: ignore[no-untyped-def]
    return Operator(
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
        disabled=bool(row["disabled"]),
        last_login_at=row["last_login_at"],
    )
