"""Officer log-in and the idle screen lock, against operators in the real encrypted store."""

from __future__ import annotations

import pytest

from station.app import needs_officer
from station.commands.demo import DEMO_OFFICER, setup_demo_station
from station.services.auth import Authenticator, StoreLogin
from station.services.station_services import build_services
from station.ui.login import LoginDialog
from station.ui.main_window import DeskWindow
from tests.support.stations import context_for, open_station, settings_for


@pytest.fixture
def app(station_home):
    setup_demo_station(settings_for(station_home), 5)
    opened = open_station(station_home, DEMO_OFFICER)
    opened.database.operators.create("wuyun", "long-enough-1", role="operator")
    yield opened
    opened.close()


def test_login_dialog_accepts_the_right_password_only(qtbot, app):
    dialog = LoginDialog(Authenticator(app))
    qtbot.addWidget(dialog)
    dialog.user_edit.setText("wuyun")
    dialog.password_edit.setText("wrong-password")
    dialog.try_login()
    assert dialog.username is None and dialog.error_label.text()
    assert dialog.password_edit.text() == ""  # a failed password is never left in the field
    dialog.password_edit.setText("long-enough-1")
    dialog.try_login()
    assert dialog.username == "wuyun" and dialog.result() == LoginDialog.DialogCode.Accepted


def test_repeated_failures_lock_the_account(qtbot, app):
    dialog = LoginDialog(Authenticator(app))
    qtbot.addWidget(dialog)
    dialog.user_edit.setText("wuyun")
    for _ in range(5):
        dialog.password_edit.setText("wrong-password")
        dialog.try_login()
    dialog.password_edit.setText("long-enough-1")
    dialog.try_login()
    assert dialog.username is None and "锁定" in dialog.error_label.text()


def test_idle_desk_hides_personal_data_until_the_password_is_given(qtbot, app):
    services = build_services(app, "wuyun")
    window = DeskWindow(
        services.controller,
        services.camera,
        services.sync,
        authenticator=Authenticator(app),
        idle_limit_s=0.5,
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.lock_dialog is not None and window.lock_dialog.isVisible(), timeout=10_000)
    assert not window.centralWidget().isVisible()
    assert window.lock_dialog.user_edit.text() == "wuyun" and window.lock_dialog.user_edit.isReadOnly()
    window.lock_dialog.password_edit.setText("long-enough-1")
    window.lock_dialog.try_login()
    assert window.centralWidget().isVisible()
    assert not window.idle.locked


def test_without_a_keyring_the_log_in_opens_the_store(qtbot, station_home):
    """No OS keyring: nothing is readable until an officer logs in, so the desk's log-in dialog opens
    the store with the typed password (the desk then runs on the station it opened)."""
    setup_demo_station(settings_for(station_home), 5)
    context = context_for(station_home)
    context.officer = None
    assert needs_officer(context.settings)
    login = StoreLogin(context)
    dialog = LoginDialog(login)
    qtbot.addWidget(dialog)
    dialog.user_edit.setText(DEMO_OFFICER.username)
    dialog.password_edit.setText("not-the-password")
    dialog.try_login()
    assert login.app is None and dialog.username is None
    assert "Wrong" in dialog.error_label.text() or "不正确" in dialog.error_label.text()
    dialog.password_edit.setText(DEMO_OFFICER.password)
    dialog.try_login()
    assert dialog.username == DEMO_OFFICER.username and login.app is not None
    try:
        assert login.app.database.queue.count() == 5
        assert login.app.database.audit.list(action="login", subject=DEMO_OFFICER.username)
    finally:
        login.app.close()
