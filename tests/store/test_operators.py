"""Operators: salted scrypt hashes, lockout after repeated failures, every attempt audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from station.store import clock
from station.store.errors import InvalidCredentialsError, OperatorExistsError, OperatorLockedError
from station.store.operators import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    OperatorRepository,
    check_password,
    hash_password,
)


class Clock:
    def __init__(self) -> None:
        self.now = clock.utc_now()

    def __call__(self):
        return self.now


@pytest.fixture
def clocked(station):
    fake = Clock()
    return OperatorRepository(station.engine, now=fake), fake


def test_hashes_are_salted_and_check(station):
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert check_password("correct horse", first) and not check_password("wrong horse", first)
    assert not check_password("anything", "garbage")


def test_create_and_verify(clocked):
    repo, _ = clocked
    repo.create("admin", "county-admin-pw", role="county_admin", display_name="旗县管理员")
    operator = repo.verify("admin", "county-admin-pw")
    assert operator.role == "county_admin" and operator.last_login_at is not None
    with pytest.raises(OperatorExistsError):
        repo.create("admin", "another-password")
    with pytest.raises(InvalidCredentialsError) as short:
        repo.create("op2", "short")
    assert short.value.code == "password_too_short"


def test_lockout_after_repeated_failures_then_unlock_after_the_period(station, clocked):
    repo, fake = clocked
    repo.create("op1", "operator-pw-1")
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(InvalidCredentialsError):
            repo.verify("op1", "wrong-password")
    with pytest.raises(OperatorLockedError) as locked:
        repo.verify("op1", "wrong-password")
    assert "15" in locked.value.message.en
    # While locked even the right password is refused.
    fake.now += timedelta(minutes=5)
    with pytest.raises(OperatorLockedError):
        repo.verify("op1", "operator-pw-1")
    fake.now += LOCKOUT
    assert repo.verify("op1", "operator-pw-1").failed_attempts == 0
    actions = [e.action for e in station.audit.list(subject="op1")]
    assert actions.count("login_failed") == MAX_FAILED_ATTEMPTS + 1
    assert actions.count("lockout") == 1 and actions[0] == "login"


def test_unknown_user_is_the_same_error_and_audited(station, clocked):
    repo, _ = clocked
    with pytest.raises(InvalidCredentialsError) as error:
        repo.verify("nobody", "whatever-pw")
    assert error.value.message.en == "Wrong username or password."
    assert station.audit.list(action="login_failed", subject="nobody")


def test_password_change_clears_a_lock(clocked):
    repo, _ = clocked
    repo.create("op3", "operator-pw-3")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises((InvalidCredentialsError, OperatorLockedError)):
            repo.verify("op3", "nope-nope")
    repo.set_password("op3", "a-new-password", changed_by="admin")
    assert repo.verify("op3", "a-new-password").username == "op3"
