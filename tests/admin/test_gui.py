"""The county administrator without a terminal, widget by widget under the offscreen platform, on a
real encrypted station: the first-run wizard, accounts and unlocking, the audit viewer, progress with
the sign-off sheet, settings validation, the self-check agreeing with ``station doctor``, and the
desk's stop for captures waiting too long until an administrator acknowledges."""

from __future__ import annotations

import json
import subprocess
import unicodedata

import pytest
import sqlalchemy as sa
from PySide6.QtWidgets import QDialog

from station.admin.setup import SetupState, setup_state
from station.domain.unsynced import Backlog, UnsyncedState
from station.services.tasks import BackgroundOps, Lane
from station.store.operators import MAX_FAILED_ATTEMPTS
from tests.admin.conftest import ADMIN, ADMIN_PASSWORD
from tests.support.stations import settings_for
from tests.support.system import require_tool


@pytest.fixture
def ops():
    background = BackgroundOps()
    yield background
    background.shutdown()


def _pdf_text(path) -> str:
    out = subprocess.run(
        [require_tool("pdftotext", "poppler-utils"), str(path), "-"], capture_output=True, text=True
    )
    return unicodedata.normalize("NFKC", out.stdout)


# --------------------------------------------------------------------------- first run


def test_first_run_wizard_sets_up_a_demo_station_and_shows_the_code_once(qtbot, station_home, tmp_path):
    from station.ui.admin.first_run import FirstRunWizard

    wizard = FirstRunWizard(settings_for(station_home))
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.state is SetupState.NEW
    wizard.source_page.demo.setChecked(True)
    wizard.next()
    admin = wizard.admin_page
    admin.username.setText("wu yun")
    admin.password.setText(ADMIN_PASSWORD)
    admin.again.setText(ADMIN_PASSWORD)
    wizard.next()
    assert wizard.currentPage() is admin and "用户名" in admin.message.text()  # a space is refused
    admin.username.setText(ADMIN)
    admin.again.setText(ADMIN_PASSWORD)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.create_page.done, timeout=30_000)
    wizard.next()
    page = wizard.recovery_page
    code = page.code.text()
    assert wizard.currentPage() is page and len(code.replace("-", "")) >= 24
    assert not page.isComplete()
    page.confirm.setChecked(True)
    assert not page.isComplete()  # confirming without printing or saving is not enough
    wizard.reject()
    assert wizard.isVisible()  # the code cannot be lost by closing the window
    sheet = tmp_path / "recovery.pdf"
    page.choose_path = lambda *_args: sheet
    page.save_code()
    assert page.isComplete() and code in _pdf_text(sheet)
    wizard.next()
    wizard.accept()
    assert wizard.recovery_code is None and page.code.text() == ""
    assert setup_state(settings_for(station_home)) is SetupState.READY
    from station.domain.officers import OfficerLogin
    from tests.support.stations import open_station

    with open_station(station_home, OfficerLogin(ADMIN, ADMIN_PASSWORD)) as app:
        assert app.config.enrolled and app.database.queue.count() > 0
        assert app.database.operators.verify(ADMIN, ADMIN_PASSWORD).role == "county_admin"
        assert [e.action for e in app.database.audit.list(action="station_created")] == ["station_created"]


def test_first_run_checks_the_enrollment_file_before_anything_is_written(qtbot, station_home, tmp_path):
    from station.ui.admin.first_run import FirstRunWizard
    from sync.registry.enrollment import enroll
    from sync.registry.pki import init_pki

    wizard = FirstRunWizard(settings_for(station_home))
    qtbot.addWidget(wizard)
    source = wizard.source_page
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    source.path.setText(str(junk))
    assert not source.validatePage() and "注册文件" in source.message.text()
    assert not (station_home / "station.db").exists()
    init_pki(tmp_path / "tls")
    good = tmp_path / "enroll.json"
    enroll(tmp_path / "tls", "150121", "ST-150121-01", "https://127.0.0.1:8443", good)
    source.path.setText(str(good))
    assert source.validatePage()


def test_the_wizard_imports_the_file_the_installer_staged_then_deletes_it(
    qtbot, station_home, tmp_path, monkeypatch
):
    from station.syncing import enrollment as staging
    from station.ui.admin.first_run import FirstRunWizard
    from sync.registry.enrollment import enroll
    from sync.registry.pki import init_pki

    # setup.exe copies the county's file to %ProgramData%\CaptureStation\enrollment (here a tmp folder).
    staged_dir = tmp_path / "ProgramData" / "CaptureStation" / "enrollment"
    staged_dir.mkdir(parents=True)
    monkeypatch.setattr(staging, "STAGED_ENROLLMENT_DIR", staged_dir)
    init_pki(tmp_path / "tls")
    staged = staged_dir / "enrollment.json"
    enroll(tmp_path / "tls", "150121", "ST-150121-01", "https://127.0.0.1:8443", staged)

    wizard = FirstRunWizard(settings_for(station_home))
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.source_page.path.text() == str(staged)  # nothing to choose
    wizard.next()
    admin = wizard.admin_page
    admin.username.setText(ADMIN)
    admin.password.setText(ADMIN_PASSWORD)
    admin.again.setText(ADMIN_PASSWORD)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.create_page.done, timeout=30_000)
    assert not staged.exists()  # the private key does not stay behind in ProgramData
    from station.domain.officers import OfficerLogin
    from tests.support.stations import open_station

    with open_station(station_home, OfficerLogin(ADMIN, ADMIN_PASSWORD)) as app:
        assert app.config.station_id == "ST-150121-01" and app.config.enrolled


def test_a_file_chosen_by_hand_is_left_where_it_was(tmp_path, monkeypatch):
    from station.admin.setup import FirstAdministrator, set_up
    from station.syncing import enrollment as staging
    from sync.registry.enrollment import enroll
    from sync.registry.pki import init_pki

    monkeypatch.setattr(staging, "STAGED_ENROLLMENT_DIR", tmp_path / "nothing-staged")
    assert staging.staged_enrollment_file() is None
    init_pki(tmp_path / "tls")
    chosen = tmp_path / "usb" / "st01.json"
    chosen.parent.mkdir()
    enroll(tmp_path / "tls", "150121", "ST-150121-01", "https://127.0.0.1:8443", chosen)
    home = tmp_path / "home"
    set_up(settings_for(home), enrollment=chosen, admin=FirstAdministrator(ADMIN, ADMIN_PASSWORD))
    assert chosen.exists()


# --------------------------------------------------------------------------- the window's panels


def test_accounts_panel_adds_unlocks_and_resets(qtbot, season, ops):
    from station.ui.admin.accounts import AccountDialog, AccountsPanel

    app = season.app
    panel = AccountsPanel(app, ADMIN, ops)
    qtbot.addWidget(panel)

    def answer(**kwargs):
        dialog = AccountDialog(**kwargs)
        if kwargs.get("new"):
            dialog.username.setText("bai")
            dialog.display_name.setText("白")
        dialog.password.setText("officer-pass-1")
        dialog.again.setText("officer-pass-1")
        dialog.exec = lambda: QDialog.DialogCode.Accepted  # the officer pressed OK
        return dialog

    panel.make_dialog = answer
    panel.add()
    qtbot.waitUntil(lambda: any(v.username == "bai" for v in panel.views), timeout=10_000)
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(Exception):  # noqa: B017 - wrong passwords until the lockout
            app.database.operators.verify("bai", "wrong-password")
    panel.refresh()
    panel.select("bai")
    assert panel.unlock_button.isEnabled() and "锁定" in panel.table.item(panel.table.currentRow(), 3).text()
    panel.unlock_button.click()
    qtbot.waitUntil(lambda: "已解锁" in panel.message.text(), timeout=10_000)
    assert app.database.operators.verify("bai", "officer-pass-1").username == "bai"
    panel.select("bai")
    panel.disable_button.click()
    qtbot.waitUntil(lambda: next(v for v in panel.views if v.username == "bai").disabled, timeout=10_000)
    panel.select(ADMIN)
    panel.disable_button.click()  # never oneself
    qtbot.waitUntil(lambda: "不能停用自己" in panel.message.text(), timeout=10_000)


def test_audit_viewer_filters_and_notices_tampering(qtbot, season, ops):
    from station.ui.admin.audit import AuditPanel

    app = season.app
    panel = AuditPanel(app, ADMIN, ops)
    qtbot.addWidget(panel)
    actions = {line.action for line in panel.lines}
    assert {"capture", "station_created", "operator_created"} <= actions
    panel.group.setCurrentIndex(panel.group.findData("records"))
    assert {line.action for line in panel.lines} == {"capture"}
    assert all(line.operator == "officer-1" and line.action_name.zh == "采集" for line in panel.lines)
    panel.verify()
    qtbot.waitUntil(lambda: "完整" in panel.verdict.text(), timeout=10_000)
    with app.database.write() as conn:
        conn.execute(sa.text("DROP TRIGGER audit_no_delete"))
        conn.execute(sa.text("DELETE FROM audit_log WHERE action = 'station_created'"))
    panel.verify()
    qtbot.waitUntil(lambda: "篡改" in panel.verdict.text(), timeout=10_000)


def test_reports_panel_shows_progress_and_prints_the_sign_off_sheet(qtbot, season, ops, tmp_path):
    from station.ui.admin.reports import ReportsPanel, RosterDialog

    app = season.app
    panel = ReportsPanel(app, ADMIN, ops)
    qtbot.addWidget(panel)
    assert "注册 2 人" in panel.summary.text()
    assert panel.chart.rows and sum(figures["registered"] for _, figures in panel.chart.rows) == 2
    panel.signoff()  # nothing selected: it says so
    assert "选中" in panel.message.text()
    panel.select_class(season.school, season.class_no)
    target = tmp_path / "sheet.pdf"
    panel.choose_path = lambda *_args: target
    panel.signoff()
    qtbot.waitUntil(lambda: "已保存签字表" in panel.message.text(), timeout=15_000)
    text = _pdf_text(target)
    assert all(reg_no in text for reg_no in season.registered.values())
    shown: list[RosterDialog] = []
    original_open = RosterDialog.open
    RosterDialog.open = lambda self: shown.append(self)  # type: ignore[method-assign]
    try:
        panel.roster()
        qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    finally:
        RosterDialog.open = original_open  # type: ignore[method-assign]
    roster = shown[0]
    assert roster.table.rowCount() == len(roster.sheet.lines)
    assert all(line.masked_id.startswith("*" * 14) for line in roster.sheet.lines)
    audit = app.database.audit
    assert [e.action for e in audit.list(subject=f"class:{season.school}/{season.class_no}")] == [
        "view",
        "signoff",
    ]


def test_settings_panel_names_wrong_fields_and_saves_a_revision(qtbot, season, ops):
    from station.ui.admin.settings import SettingsPanel

    app = season.app
    changed = []
    panel = SettingsPanel(app, ADMIN, ops, on_changed=changed.append)
    qtbot.addWidget(panel)
    panel.show()
    panel.fields["registry_proxy"].setText("proxy.example")
    panel.fields["unsynced_block_hours"].setValue(0)
    panel.save()
    qtbot.waitUntil(lambda: panel.errors["registry_proxy"].isVisible(), timeout=10_000)
    assert panel.errors["registry_proxy"].text().startswith("格式应为")
    assert "1 到 1440" in panel.errors["unsynced_block_hours"].text()
    assert not changed and app.config.revision == 0
    panel.fields["registry_proxy"].setText("")
    panel.fields["unsynced_block_hours"].setValue(96)
    panel.fields["idle_lock_minutes"].setValue(12)
    panel.save()
    qtbot.waitUntil(lambda: bool(changed), timeout=10_000)
    assert not panel.errors["registry_proxy"].isVisible()
    assert "修订号 1" in panel.message.text() and app.config.idle_lock_minutes == 12
    assert app.database.audit.list(action="settings_changed")[0].detail["fields"] == [
        "idle_lock_minutes", "unsynced_block_hours",
    ]  # fmt: skip
    panel.preview_button.setChecked(True)  # the demo's simulated camera, live
    qtbot.waitUntil(
        lambda: panel.preview.pixmap() is not None and not panel.preview.pixmap().isNull(), timeout=20_000
    )
    panel.preview_button.setChecked(False)
    assert panel.preview_feed is None


def test_self_check_panel_agrees_with_station_doctor(qtbot, season, ops, station_cli):
    from station.ui.admin.selfcheck import SelfCheckPanel

    panel = SelfCheckPanel(season.app, ADMIN, ops)
    qtbot.addWidget(panel)
    panel.run()
    qtbot.waitUntil(lambda: bool(panel.items), timeout=20_000)
    # No keyring here: doctor opens the store with the administrator's log-in.
    doctor = station_cli(
        "doctor", "--json", "--operator", ADMIN, "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n"
    )
    printed = json.loads(doctor.out)
    assert [(i["name"], i["status"], i["fix"]) for i in printed["items"]] == [
        (i.name, str(i.status), str(i.fix) if i.fix else None) for i in panel.items
    ]
    names = {i.name for i in panel.items}
    assert {"operators", "unsynced", "audit", "retention"} <= names
    assert doctor.code == 0 and "状态良好" in panel.message.text()


# --------------------------------------------------------------------------- the desk


def test_the_desk_stops_past_the_second_threshold_until_an_administrator_acknowledges(qtbot, season):
    from station.services.station_services import build_services
    from station.ui.admin.desk_hook import AdminSignIn, attach_administration
    from station.ui.main_window import DeskWindow

    app = season.app
    services = build_services(app, "officer-1")
    window = DeskWindow(services.controller, services.camera)
    qtbot.addWidget(window)
    administration = attach_administration(window, app, services, "officer-1")
    try:
        qtbot.waitUntil(lambda: services.ops.busy(Lane.WORK) == 0, timeout=10_000)
        assert administration.state.level is Backlog.OK and not administration.blocked
        administration.apply(UnsyncedState(Backlog.WARN, 30))
        assert not administration.blocked
        administration.apply(UnsyncedState(Backlog.BLOCK, 80))
        assert administration.blocked and isinstance(administration.dialog, AdminSignIn)
        dialog = administration.dialog
        dialog.username.setText("officer-1")
        dialog.password.setText("whatever-1")
        dialog.try_submit()
        qtbot.waitUntil(lambda: bool(dialog.message.text()), timeout=10_000)
        assert administration.blocked and dialog.isVisible()
        dialog.username.setText(ADMIN)
        dialog.password.setText(ADMIN_PASSWORD)
        dialog.try_submit()
        qtbot.waitUntil(lambda: not administration.blocked, timeout=10_000)
        override = app.database.audit.list(action="manual_override")[0]
        assert (override.operator, override.subject, override.detail["hours"]) == (ADMIN, "officer-1", 80)
        administration.apply(UnsyncedState(Backlog.BLOCK, 81))  # still acknowledged: no new stop
        assert not administration.blocked
    finally:
        services.stop()
