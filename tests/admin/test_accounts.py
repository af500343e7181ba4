"""Officer accounts run by the county administrator: in the store (each change audited, the last
administrator kept) and from the command line (``station operator unlock|disable|enable|passwd``)."""

from __future__ import annotations

import pytest

from station.admin.accounts import AccountInputError, Accounts
from station.admin.common import NotAllowed
from station.store.errors import InvalidCredentialsError, LastAdministratorError, OperatorLockedError
from station.store.operators import MAX_FAILED_ATTEMPTS
from tests.admin.conftest import ADMIN, ADMIN_PASSWORD, make_station


@pytest.fixture
def app(station_home):
    opened = make_station(station_home)
    yield opened
    opened.close()


def _lock_out(app, username: str) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises((InvalidCredentialsError, OperatorLockedError)):
            app.database.operators.verify(username, "wrong-password")


def test_the_administrator_runs_an_officers_account_from_start_to_finish(app):
    accounts = Accounts(app, ADMIN)
    accounts.add("bai", "officer-pass-1", role="operator", display_name="白")
    _lock_out(app, "bai")
    assert next(v for v in accounts.list() if v.username == "bai").locked
    accounts.unlock("bai")
    assert app.database.operators.verify("bai", "officer-pass-1").username == "bai"
    accounts.disable("bai")
    with pytest.raises(InvalidCredentialsError):
        app.database.operators.verify("bai", "officer-pass-1")
    accounts.enable("bai")
    accounts.reset_password("bai", "officer-pass-2")
    assert app.database.operators.verify("bai", "officer-pass-2").username == "bai"
    done = [(e.action, e.operator, e.subject) for e in reversed(app.database.audit.list())]
    for action in (
        "operator_created",
        "operator_unlocked",
        "operator_disabled",
        "operator_enabled",
        "password_reset",
    ):
        assert (action, ADMIN, "bai") in done
    assert app.database.audit.check_chain().intact


def test_only_an_enabled_county_administrator_manages_accounts(app):
    Accounts(app, ADMIN).add("bai", "officer-pass-1", role="operator")
    with pytest.raises(NotAllowed):
        Accounts(app, "bai")
    with pytest.raises(NotAllowed):
        Accounts(app, "nobody")


def test_the_last_administrator_stays_and_bad_names_are_refused(app):
    accounts = Accounts(app, ADMIN)
    with pytest.raises(AccountInputError):
        accounts.disable(ADMIN)  # not oneself
    accounts.add("hasi", "admin-pass-2", role="county_admin")
    hasi = Accounts(app, "hasi")
    hasi.disable(ADMIN)
    with pytest.raises(LastAdministratorError) as refused:
        Accounts(app, "hasi")._operators.disable("hasi", by="hasi")
    assert "唯一" in str(refused.value)
    with pytest.raises(AccountInputError):
        hasi.add("白 老师", "officer-pass-1", role="operator")


def test_operator_commands_unlock_disable_enable_and_change_passwords(app, station_cli):
    Accounts(app, ADMIN).add("bai", "officer-pass-1", role="operator")
    _lock_out(app, "bai")
    as_admin = ("--operator", ADMIN, "--password-stdin")

    unlocked = station_cli("operator", "unlock", "bai", *as_admin, stdin=f"{ADMIN_PASSWORD}\n")
    assert unlocked.code == 0 and "bai" in unlocked.out, unlocked.err
    assert app.database.operators.verify("bai", "officer-pass-1")

    # Without an administrator, or as an officer, nothing changes.
    assert station_cli("operator", "disable", "bai").code == 2
    officer = station_cli("operator", "disable", "bai", "--operator", "bai", "--password-stdin",
                       stdin="officer-pass-1\n")  # fmt: skip
    assert officer.code == 2 and "旗县管理员" in officer.err
    wrong = station_cli("operator", "disable", "bai", *as_admin, stdin="not-the-password\n")
    assert wrong.code == 2 and "密码" in wrong.err

    assert station_cli("operator", "disable", "bai", *as_admin, stdin=f"{ADMIN_PASSWORD}\n").code == 0
    assert app.database.operators.get("bai").disabled
    assert station_cli("operator", "enable", "bai", *as_admin, stdin=f"{ADMIN_PASSWORD}\n").code == 0

    # An officer's own change needs the current password; the administrator's reset does not.
    own = station_cli(
        "operator",
        "passwd",
        "bai",
        "--password-stdin",
        stdin="officer-pass-1\nofficer-pass-2\n",
    )
    assert own.code == 0, own.err
    reset = station_cli("operator", "passwd", "bai", *as_admin, stdin=f"{ADMIN_PASSWORD}\nofficer-pass-3\n")
    assert reset.code == 0, reset.err
    short = station_cli("operator", "passwd", "bai", *as_admin, stdin=f"{ADMIN_PASSWORD}\nshort\n")
    assert short.code == 2 and "8" in short.err
    unknown = station_cli("operator", "unlock", "nobody", *as_admin, stdin=f"{ADMIN_PASSWORD}\n")
    assert unknown.code == 2 and "nobody" in unknown.err
    assert app.database.operators.verify("bai", "officer-pass-3")
    actions = [e.action for e in app.database.audit.list(subject="bai")]
    assert {"password_changed", "password_reset", "operator_disabled", "operator_enabled"} <= set(actions)
