"""The demo's simulated people and its walkthrough: what ``station demo`` does besides opening the desk.

* ``DemoHand`` -- the simulated students: the one in the chair stands up, the next one's card goes
  on the simulated reader, the next one sits down in front of the simulated camera. F8 in the demo
  window does this, so a newcomer works the desk with the keyboard exactly as at a real desk.
* ``Walkthrough`` -- plays the officer: presses Enter on a good photo, Esc on a refusal, moves the
  hand on; with a goal (``--headless``) it stops once it has several captures and a refusal and the
  registry has issued their numbers, saving a PNG of each main state on the way. It presses the
  desk's own keys (posted key events), so it exercises the same paths an officer does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from station.capture.presence import Presence
from station.capture.workflow import State
from station.i18n import Text

log = logging.getLogger("station.demo")


class DemoHand:
    """Moves the simulated people: stand up, next card on the reader, sit down."""

    def __init__(self, services) -> None:  # type: ignore[no-untyped-def]
        self.services = services
        self.cards_placed = 0

    @property
    def camera(self):  # type: ignore[no-untyped-def]
        source = self.services.camera.session.source
        return source if hasattr(source, "set_present") else None

    @property
    def reader(self):  # type: ignore[no-untyped-def]
        reader = self.services.cards.stream.reader
        return reader if hasattr(reader, "request_next") else None

    def next_student(
        self, *, card_after_ms: int = 800, sit_after_ms: int = 2000, leave_first: bool = True
    ) -> None:
        """The seated student leaves; the next one's card is placed, then they sit down.

        The chair stays empty well beyond the desk's ``away_s`` so the guard sees the seat empty.
        ``leave_first=False``: the card is read while the previous student still sits there (what
        the wrong-person guard is for).
        """
        camera = self.camera
        if not leave_first:
            QTimer.singleShot(0, self._place_card)
            return
        if camera is not None:
            camera.set_present(False)
        QTimer.singleShot(card_after_ms, self._place_card)
        if camera is not None:
            QTimer.singleShot(sit_after_ms, lambda: camera.set_present(True))

    def _place_card(self) -> None:
        reader = self.reader
        if reader is not None:
            reader.request_next()
            self.cards_placed += 1


def press(window, key: Qt.Key) -> None:  # type: ignore[no-untyped-def]
    """The officer presses ``key`` on the desk window."""
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.postEvent(window, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier))


@dataclass
class Outcome:
    captures: list[str] = field(default_factory=list)  # record ids
    refusals: list[str] = field(default_factory=list)  # refusal codes
    screenshots: list[Path] = field(default_factory=list)
    registered: list[tuple[str, str, str]] = field(default_factory=list)  # (name, class, number)
    ok: bool = False
    problem: str | None = None
    per_student_s: list[float] = field(default_factory=list)  # desk time per student, devices excluded


class Walkthrough(QObject):
    """Plays the officer on a timer. ``goal`` None: forever (``--autoplay``); else stop when reached."""

    def __init__(
        self,
        window,  # type: ignore[no-untyped-def]
        services,  # type: ignore[no-untyped-def]
        *,
        captures_goal: int | None = None,
        screenshots: Path | None = None,
        pace: float = 1.0,
        timeout_s: float = 240.0,
        on_done: Callable[[Outcome], None] | None = None,
    ) -> None:
        super().__init__(window)
        self.window, self.services = window, services
        self.controller = services.controller
        self.hand = DemoHand(services)
        self.goal = captures_goal
        self.shots = screenshots
        self.pace = pace
        self.outcome = Outcome()
        self.on_done = on_done
        self._deadline = time.monotonic() + timeout_s
        self._seen: set[str] = set()
        self._waiting_since: float | None = None
        self._busy_until = 0.0
        self._syncing = False
        self._last_refused = None
        self._started = datetime.now(UTC)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)
        self.controller.record_saved.connect(self.outcome.captures.append)

    def start(self) -> None:
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
        self._timer.start()

    # -- the loop ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        now = time.monotonic()
        if self.goal is not None and now > self._deadline:
            self._finish(False, "the walkthrough did not complete in time")
            return
        if now < self._busy_until:
            return
        state, presence = self.controller.state, self.controller.presence
        if self._syncing:
            self._await_numbers()
            return
        if state is State.PHOTO:
            if presence is Presence.WAIT_LEAVE and self.services.camera.current is None:
                return  # the camera is still opening: show the guard with the person in view
            self._shoot("02-wrong-person-guard" if presence is Presence.WAIT_LEAVE else None)
            self._shoot("03-countdown" if presence is Presence.SETTLING else None)
            if presence is Presence.WAIT_LEAVE and self.hand.camera is not None and self.hand.camera.present:
                self.hand.camera.set_present(False)  # the previous student gets up
                QTimer.singleShot(1500, lambda: self.hand.camera.set_present(True))
                self._pause(2.0 / self.pace)
        elif state is State.REVIEW:
            self._shoot("04-review")
            self._pause(1.0)
            QTimer.singleShot(int(600 * self.pace), lambda: press(self.window, Qt.Key.Key_Return))
        elif state is State.SAVED:
            self._shoot("05-saved")
            self._next_or_finish(after=1.2)
        elif state is State.REFUSED:
            card = self.controller.desk.card
            if card is not self._last_refused:
                self._last_refused = card
                self.outcome.refusals.append(self.controller.desk.refusal_code or "")
            self._shoot("06-refused")
            press_later = int(1800 * self.pace)
            QTimer.singleShot(press_later, lambda: press(self.window, Qt.Key.Key_Escape))
            self._pause(2.2)
        elif state is State.CONFIRM_RECAPTURE:
            dialog = getattr(self.window, "recapture_dialog", None)
            if dialog is not None and dialog.isVisible():
                dialog.reject()  # the demo never recaptures
            self._pause(0.5)
        elif state is State.WAITING_FOR_CARD:
            self._shoot("01-waiting")
            self._next_or_finish(after=0.4)

    def _next_or_finish(self, *, after: float) -> None:
        captures = len(self.outcome.captures)
        if self.goal is not None and captures >= self.goal and self.outcome.refusals:
            self._syncing = True
            press(self.window, Qt.Key.Key_F5)
            return
        if self.goal is not None and self.hand.cards_placed > 40:
            self._finish(False, "no refusal among the demo cards")
            return
        show_guard = self.shots is not None and "02-wrong-person-guard" not in self._seen
        self.hand.next_student(leave_first=not show_guard)
        self._pause(after + 2.4 / self.pace)

    def _await_numbers(self) -> None:
        app = self.controller.app
        found = app.records_since(self._started)
        accepted = [s for s, _ in found if s.state == "accepted" and s.record_id in self.outcome.captures]
        if len(accepted) < len(self.outcome.captures):
            self._pause(0.3)
            if self.services.sync is not None and not self.services.sync.running:
                self.services.sync.request()
            return
        students = {s.student_id: s for s in self.window.queue.model._students}
        for summary in accepted:
            student = students.get(summary.student_id)
            name = student.name if student else summary.student_id
            where = f"{student.school_name} {student.class_no}班" if student else ""
            self.outcome.registered.append((name, where, summary.reg_no or ""))
        self.window.refresh_records()
        self.window.tabs.setCurrentIndex(1)
        QTimer.singleShot(600, self._final_shots)
        self._syncing = False
        self._busy_until = float("inf")

    def _final_shots(self) -> None:
        self._shoot("07-records-with-numbers")
        camera = self.hand.camera
        if camera is None or not hasattr(camera, "set_plugged"):
            self._finish(True)
            return
        camera.set_plugged(False)  # show the desk's camera fault state once

        def unplugged() -> None:
            self._shoot("08-camera-unplugged")
            camera.set_plugged(True)
            self._finish(True)

        QTimer.singleShot(1500, unplugged)

    # -- helpers ---------------------------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        self._busy_until = time.monotonic() + seconds * self.pace

    def _shoot(self, name: str | None) -> None:
        if name is None or name in self._seen:
            return
        self._seen.add(name)
        if self.shots is None:
            return
        path = self.shots / f"{name}.png"
        self.window.grab().save(str(path), "PNG")
        self.outcome.screenshots.append(path)

    def _finish(self, ok: bool, problem: str | None = None) -> None:
        self._timer.stop()
        self.outcome.ok, self.outcome.problem = ok, problem
        if problem:
            log.warning("demo walkthrough: %s", problem)
        if self.on_done is not None:
            self.on_done(self.outcome)
        QCoreApplication.exit(0 if ok else 1)


def summary_lines(outcome: Outcome) -> list[Text]:
    lines = [
        Text(
            "演示完成：采集 {c} 人，拒绝 {r} 人，登记中心已发放 {n} 个考籍号：",
            "Demo done: {c} captured, {r} refused, {n} registration numbers issued:",
        ).format(c=len(outcome.captures), r=len(outcome.refusals), n=len(outcome.registered))
    ]
    lines += [
        Text(f"  {number}  {name}  {where}", f"  {number}  {name}  {where}")
        for name, where, number in outcome.registered
    ]
    if outcome.screenshots:
        lines.append(Text("截图：", "Screenshots:"))
        lines += [Text(f"  {path}", f"  {path}") for path in outcome.screenshots]
    return lines
