"""The desk window end to end under the offscreen platform: simulated reader and camera, real store.

A synthetic student's card is read by the simulated SAM reader, the window shows the card and the
pre-registration, the simulated camera (a real face photograph) feeds the preview and the guidance,
the officer takes the photo and saves it, and the record lands in the encrypted store.
"""

from __future__ import annotations

import pytest

from station.capture.workflow import State
from station.commands.demo import setup_demo_station
from station.services.station_services import build_services
from station.ui.main_window import DeskWindow
from tests.support.stations import open_station, settings_for


@pytest.fixture
def desk(qtbot, station_home):
    setup_demo_station(settings_for(station_home), 12, card_cycle_seconds=0.3)
    app = open_station(station_home)
    services = build_services(app, "officer-1")
    controller, camera = services.controller, services.camera
    window = DeskWindow(controller, camera)
    qtbot.addWidget(window)
    window.show()
    services.cards.event.connect(controller.on_card_event)
    camera.start()
    services.cards.start()
    yield window, controller, camera, app
    services.stop()
    app.close()


def test_preview_guidance_card_photo_save(qtbot, desk):
    window, controller, camera, app = desk
    qtbot.waitUntil(lambda: camera.displayed >= 5, timeout=15_000)
    assert window.preview.pixmap() is not None and not window.preview.pixmap().isNull()
    qtbot.waitUntil(lambda: window.guidance.count() > 5, timeout=15_000)

    # The reader cycles through the queue's people; wait for one the desk may capture.
    qtbot.waitUntil(lambda: controller.state is State.PHOTO, timeout=30_000)
    student = controller.desk.student
    assert window.card_labels["id_number"].text() == student.national_id
    assert window.student_labels["school"].text() == student.school_name
    assert window.capture_button.isEnabled() and not window.save_button.isEnabled()

    # Take the photo (the sim camera passes; if a check only warns, the desk needs a reason).
    def photo_or_manual():
        if controller.state is State.PHOTO:
            report = camera.session.latest_report()
            if report is not None and report.ok:
                photo = camera.session.capture_manual("test: accepted" if report.warnings() else None)
                controller.on_photo(photo, "test: accepted" if report.warnings() else None)
        return controller.state is State.REVIEW

    qtbot.waitUntil(photo_or_manual, timeout=30_000)
    assert window.save_button.isEnabled()
    assert not window.photo_view.pixmap().isNull()
    window.save_button.click()  # the save runs on the store lane; "saved" only after the commit
    qtbot.waitUntil(lambda: controller.state is State.SAVED, timeout=10_000)
    saved = app.database.records.list(student_id=student.student_id)
    assert len(saved) == 1 and saved[0].state == "pending"
    assert controller.desk.saved.record_id == saved[0].record_id
    assert "回执号" in window.messages.item(0).text()
    assert "待同步 1" in window.banner.text()
    row = next(
        i
        for i in range(window.queue_model.rowCount())
        if window.queue_model.student_at(i).student_id == student.student_id
    )
    assert window.queue_model.index(row, 4).data() == "已采集"


def test_refusal_is_shown_and_capture_is_impossible(qtbot, desk):
    window, controller, _, _ = desk
    qtbot.waitUntil(lambda: controller.state is State.REFUSED, timeout=60_000)
    assert not window.capture_button.isEnabled() and not window.save_button.isEnabled()
    assert window.messages.count() > 0


def test_a_new_card_never_discards_an_unsaved_photo(qtbot, desk):
    window, controller, camera, _ = desk
    qtbot.waitUntil(lambda: controller.state is State.PHOTO, timeout=30_000)
    student = controller.desk.student

    def take():
        report = camera.session.latest_report()
        if controller.state is State.PHOTO and report is not None and report.ok:
            note = "test: accepted" if report.warnings() else None
            controller.on_photo(camera.session.capture_manual(note), note)
        return controller.state is State.REVIEW

    qtbot.waitUntil(take, timeout=30_000)
    # The simulated reader keeps presenting the next student's card every 0.3 s.
    qtbot.wait(1500)
    assert controller.state is State.REVIEW and controller.desk.student == student
    assert any("尚未保存" in window.messages.item(i).text() for i in range(window.messages.count()))
