"""The desk window with background sync against the reference registry over mutual TLS.

A real registry (uvicorn, TLS, SQLite) serves the county feed; the desk pulls the queue by itself,
the officer captures a student through the controller and saves, and the background sync pushes the
record at once and shows the outcome, with the registration number in the store.
"""

from __future__ import annotations

import pytest

from station.capture.workflow import State
from station.idcard.events import CardEvent
from station.services.station_services import build_services
from station.ui.main_window import DeskWindow
from sync.protocol import regno
from tests.support.stations import open_station
from tests.sync.harness import chip_for, make_pki, make_station, photo, start_registry


@pytest.fixture
def registry(tmp_path):
    tls = make_pki(tmp_path / "tls")
    running = start_registry(tmp_path / "registry", tls, students=12)
    yield running
    running.server.stop()


def test_desk_pulls_the_queue_and_pushes_a_capture_in_the_background(qtbot, tmp_path, registry):
    home = make_station(tmp_path / "station", f"https://127.0.0.1:{registry.port}", registry.tls_dir)
    app = open_station(home)
    services = build_services(app, "officer-1", sync_interval_s=0.5)
    controller, sync = services.controller, services.sync
    window = DeskWindow(controller, services.camera, sync)
    qtbot.addWidget(window)
    sync.start()
    try:
        qtbot.waitUntil(lambda: window.queue_model.rowCount() == 12, timeout=30_000)
        assert "已同步" in window.banner.text()

        student = registry.approved()[0]
        controller.on_card_event(CardEvent("result", chip_for(student.national_id)))
        assert controller.state is State.PHOTO
        controller.on_photo(photo())
        window.save_button.click()
        qtbot.waitUntil(lambda: controller.state is State.SAVED, timeout=10_000)
        record_id = controller.desk.saved.record_id

        def accepted() -> bool:
            entry = app.database.outbox.get(record_id)
            return entry is not None and entry.state == "accepted"

        qtbot.waitUntil(accepted, timeout=30_000)
        number = app.database.outbox.get(record_id).reg_no
        assert regno.parse(number).county_code6 == app.config.county_code6
        assert registry.ledger()[record_id].reg_no == number
        qtbot.waitUntil(lambda: "待同步 0" in window.banner.text(), timeout=10_000)
    finally:
        services.stop()
        app.close()
