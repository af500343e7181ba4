"""A desk for the widget tests: a real encrypted demo station, the simulated camera (a real face
photograph) and reader, the real window at 1366×768 offscreen -- and helpers to press keys and wait.

The guard's timings are shortened (a face settles in 0.4 s, leaves in 0.3 s) so a capture cycle takes
about two seconds; everything else is what the officer's desk runs. Cards are the synthetic people's
own cards (``synthetic_chip``), handed to the desk as the reader's events, unless a test starts the
simulated reader itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from station.capture.workflow import State
from station.commands.demo import DEMO_COUNTY, DEMO_OFFICER, DEMO_SEED, setup_demo_station
from station.domain.students import Student, StudentStatus
from station.idcard.emulator import synthetic_chip
from station.idcard.events import CardEvent
from station.services.station_services import DeskServices, build_services
from station.ui.main_window import DeskWindow
from sync.protocol import synthetic
from tests.support.stations import open_station, settings_for

ADMIN, ADMIN_PASSWORD = "admin1", "admin-password-1"
OFFICER, OFFICER_PASSWORD = "officer1", "officer-password-1"
STUDENTS = 16


@dataclass
class Desk:
    window: DeskWindow
    services: DeskServices
    app: object
    qtbot: object

    @property
    def controller(self):  # type: ignore[no-untyped-def]
        return self.services.controller

    @property
    def camera_source(self):  # type: ignore[no-untyped-def]
        return self.services.camera.session.source

    # -- the officer's hands -------------------------------------------------------------------

    def press(
        self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, target=None
    ) -> None:  # type: ignore[no-untyped-def]
        """Press ``key`` where the keyboard focus is (a dialog's field, the search box, the desk)."""
        widget = target or QApplication.activeModalWidget() or self.window.focusWidget() or self.window
        if hasattr(widget, "focusWidget") and widget.focusWidget() is not None and target is None:
            widget = widget.focusWidget()
        self.qtbot.keyClick(widget, key, modifier)

    def type(self, text: str, target=None) -> None:  # type: ignore[no-untyped-def]
        """Type ``text`` into the focused field; Chinese arrives as an input method commits it."""
        widget = target or QApplication.activeModalWidget() or self.window
        widget = widget.focusWidget() or widget
        if text.isascii():
            self.qtbot.keyClicks(widget, text)
            return
        event = QInputMethodEvent("", [])
        event.setCommitString(text)
        QApplication.sendEvent(widget, event)

    def wait(self, condition, timeout: int = 15_000) -> None:  # type: ignore[no-untyped-def]
        self.qtbot.waitUntil(condition, timeout=timeout)

    def wait_state(self, state: State, timeout: int = 15_000) -> None:
        self.wait(lambda: self.controller.state is state, timeout)

    # -- the students ----------------------------------------------------------------------------

    def students(self, status: StudentStatus | None = None) -> list[Student]:
        found = self.app.queue_view()
        return [s for s in found if status is None or s.status is status]

    def chip_for(self, student: Student, **changes):  # type: ignore[no-untyped-def]
        season = self.app.config.entry_year
        people = {
            p.id_number: p
            for p in synthetic.people(STUDENTS, DEMO_COUNTY, seed=DEMO_SEED, birth_year=season - 16)
        }
        chip = synthetic_chip(people[student.national_id], valid_until=date(season + 8, 3, 1))
        return replace(chip, **changes) if changes else chip

    def read_card(self, chip) -> None:  # type: ignore[no-untyped-def]
        """The reader hands the desk this card (what CardFeed emits after a read)."""
        self.controller.on_card_event(CardEvent("result", chip))

    def seat(self, present: bool) -> None:
        self.camera_source.set_present(present)

    def wait_face(self, present: bool) -> None:
        """Until the desk has analysed a frame with (or without) a face."""
        self.wait(
            lambda: (
                self.services.camera.current is not None
                and self.services.camera.current.face_present is present
            )
        )

    def capture_automatically(self, student: Student) -> None:
        """An empty chair, the card, the student sits down: the guard arms and the photo is taken."""
        self.seat(False)
        self.wait_face(False)
        self.read_card(self.chip_for(student))
        assert self.controller.state is State.PHOTO
        self.seat(True)
        self.wait_state(State.REVIEW)


def open_desk(qtbot, home, *, start_camera: bool = True, **environment: str) -> Desk:  # type: ignore[no-untyped-def]
    setup_demo_station(settings_for(home), STUDENTS, card_cycle_seconds=0)
    app = open_station(home, DEMO_OFFICER, **environment)
    app.database.operators.create(ADMIN, ADMIN_PASSWORD, role="county_admin")
    app.database.operators.create(OFFICER, OFFICER_PASSWORD, role="operator")
    services = build_services(app, OFFICER)
    presence = services.controller.desk.presence
    presence.steady_s, presence.away_s = 0.4, 0.3
    window = DeskWindow(services.controller, services.camera, services.sync, cards=services.cards)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    services.cards.event.connect(services.controller.on_card_event)
    if start_camera:
        services.camera.start()
        qtbot.waitUntil(lambda: services.camera.current is not None, timeout=20_000)
    return Desk(window, services, app, qtbot)


def close_desk(desk: Desk) -> None:
    desk.window.close()
    desk.services.stop()
    desk.app.close()
