"""The desk against the reference registry over mutual TLS: numbers arrive, refusals keep their fields,
a registry that is down reads "offline" within seconds, and the window still closes at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt

from station import config as station_config
from station.capture.workflow import State
from station.services.station_services import build_services
from station.services.sync_runner import RegistryLink
from station.services.tasks import Lane
from station.ui.main_window import DeskWindow
from sync.protocol import regno
from sync.registry.db import Student
from tests.qt.desk import Desk
from tests.support.stations import open_station
from tests.sync.harness import (
    STATION_2,
    capture,
    chip_for,
    engine_for,
    make_pki,
    make_station,
    start_registry,
)

K = Qt.Key


@pytest.fixture
def registry(tmp_path):
    tls = make_pki(tmp_path / "tls")
    running = start_registry(tmp_path / "registry", tls, students=12)
    yield running
    running.server.stop()


@pytest.fixture
def desk(qtbot, tmp_path, registry):
    home = make_station(tmp_path / "station", f"https://127.0.0.1:{registry.port}", registry.tls_dir)
    station_config.save(station_config.update(station_config.load(home), camera="sim"), home)
    app = open_station(home)
    services = build_services(app, "officer-1", sync_interval_s=60)
    services.controller.desk.presence.steady_s = 0.4
    window = DeskWindow(services.controller, services.camera, services.sync, cards=services.cards)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    services.camera.start()
    services.sync.start()
    opened = Desk(window, services, app, qtbot)
    yield opened
    window.close()
    services.stop()
    app.close()


def take(desk, national_id: str) -> str:  # type: ignore[no-untyped-def]
    desk.wait(lambda: desk.services.camera.current is not None)
    desk.read_card(chip_for(national_id))
    assert desk.controller.state is State.PHOTO, desk.controller.desk.refusal_code
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    record_id = desk.controller.desk.saved.record_id
    desk.press(K.Key_Escape)
    return record_id


def test_captures_receive_numbers_and_returned_records_keep_their_reasons(desk, registry, tmp_path):
    desk.wait(lambda: desk.window.queue.model.rowCount() == 12, timeout=30_000)
    desk.wait(lambda: desk.services.sync.link is RegistryLink.ONLINE)
    assert "在线" in desk.window.status.registry.text()
    ok, changed, taken = registry.approved()[:3]
    # The desk works offline-first: three captures before its next session (no sync after each save).
    desk.controller.record_saved.disconnect(desk.services.sync.request)
    first = take(desk, ok.national_id)
    second = take(desk, changed.national_id)
    third = take(desk, taken.national_id)
    # Meanwhile another station registers one of them, and another's pre-registration is corrected.
    other_home = make_station(
        tmp_path / "other", f"https://127.0.0.1:{registry.port}", registry.tls_dir, STATION_2
    )
    with open_station(other_home) as other:
        engine = engine_for(other)
        engine.run_once(push=False)
        capture(other, taken.national_id)
        assert engine.run_once().accepted == 1
    with registry.registry.db.write() as session:
        session.execute(
            sa.update(Student).where(Student.student_id == changed.student_id).values(name="改名")
        )
    desk.press(K.Key_F5)

    def settled() -> bool:
        states = {r: desk.app.database.outbox.get(r).state for r in (first, second, third)}
        return states == {first: "accepted", second: "rejected", third: "rejected"}

    desk.wait(settled, timeout=30_000)
    number = desk.app.database.outbox.get(first).reg_no
    assert regno.parse(number).county_code6 == desk.app.config.county_code6
    desk.window.refresh_records()
    lines = {}
    desk.wait(lambda: len(desk.window.records.model_.lines) == 3 and all(
        line.state != "pending" for line in desk.window.records.model_.lines))  # fmt: skip
    lines = {line.record_id: line for line in desk.window.records.model_.lines}
    assert lines[first].note == number and lines[first].state == "accepted"
    assert "证件信息与预注册不符（姓名）" in lines[second].note and "更正" in lines[second].note
    holder = desk.app.database.outbox.get(third).result
    assert holder["code"] == "ALREADY_REGISTERED" and holder["holder_school_name"]
    assert f"已在{holder['holder_school_name']}注册" in lines[third].note
    desk.wait(lambda: "待同步 0 条" in desk.window.status.outbox.text())


def test_a_registry_that_is_down_reads_offline_within_seconds_and_closing_is_prompt(desk, registry):
    desk.wait(lambda: desk.services.sync.link is RegistryLink.ONLINE, timeout=30_000)
    registry.server.stop()
    desk.press(K.Key_F5)
    desk.wait(lambda: desk.services.sync.link is RegistryLink.OFFLINE, timeout=15_000)
    assert "离线" in desk.window.status.registry.text()
    desk.press(K.Key_F5)  # a session now waits in its backoff ...
    desk.wait(lambda: desk.services.sync.running)
    desk.services.sync.stop()  # ... and closing ends it where it waits
    desk.wait(lambda: desk.services.ops.busy(Lane.SYNC) == 0, timeout=3_000)


def test_the_event_loop_keeps_turning_while_a_sync_is_slow(desk, registry):
    desk.wait(lambda: desk.services.sync.link is RegistryLink.ONLINE, timeout=30_000)
    registry.faults.hold_batch_s = 20.0  # the registry sits on the batch until released
    try:
        record_id = take(desk, registry.approved()[4].national_id)  # the save starts a sync at once
        desk.wait(lambda: desk.services.sync.running)
        shown = desk.services.camera.displayed
        desk.wait(lambda: desk.services.camera.displayed >= shown + 20)
        assert desk.services.sync.running and desk.app.database.outbox.get(record_id).state == "inflight"
        assert desk.services.sync.link is RegistryLink.SYNCING
    finally:
        registry.faults.release()
    desk.wait(lambda: desk.app.database.outbox.get(record_id).state == "accepted", timeout=30_000)


def test_a_signed_off_capture_without_a_readable_chip_receives_a_number(desk, registry):
    desk.app.database.operators.create("admin1", "admin-password-1", role="county_admin")
    desk.wait(lambda: desk.window.queue.model.rowCount() == 12, timeout=30_000)
    student = next(s for s in desk.students() if s.national_id == registry.approved()[5].national_id)
    opened: list = []
    desk.controller.open_without_card(
        student, student.national_id[-6:], "admin1", "admin-password-1", opened.append
    )
    desk.wait(lambda: opened == [None])
    desk.wait(lambda: desk.services.camera.current is not None)
    desk.press(K.Key_Space)
    desk.wait_state(State.REVIEW)
    desk.press(K.Key_Return)
    desk.wait_state(State.SAVED)
    record_id = desk.controller.desk.saved.record_id
    desk.wait(lambda: desk.app.database.outbox.get(record_id).state == "accepted", timeout=30_000)
    assert regno.parse(desk.app.database.outbox.get(record_id).reg_no)
    assert registry.ledger()[record_id].evidence == "manual"
