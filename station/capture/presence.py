"""The wrong-person guard: auto-capture arms only for a face that sat down after the card was read.

At a busy desk the next card is often read while the previous student is still in the chair. A
camera that fires as soon as a conforming face is in view would save that face under the new
student's name. ``FaceGuard`` is fed the face presence of each analysed frame (``observe``) and
decides when auto-capture may fire:

    IDLE --open(face absent)--> WAIT_ARRIVE --face--> SETTLING --steady for steady_s--> ARMED
    IDLE --open(face present or unknown)--> WAIT_LEAVE --gone for away_s--> WAIT_ARRIVE
    SETTLING --gone for away_s--> WAIT_ARRIVE          ARMED --gone for away_s--> WAIT_ARRIVE
    any open state --confirm (the officer vouches for the person in view)--> ARMED

A face that was in view when the card was read counts only after it has left and come back (or the
officer confirms). Detector flicker -- a face missed in one or two frames -- is not "leaving": only
an absence of ``away_s`` seconds is. Times are the caller's monotonic clock (the frames' own
timestamps), so the guard is deterministic and testable without a camera.

A photo made from a frame taken before the guard armed is never accepted as an auto-capture
(``allows``): it may show the previous person even if it arrives afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Presence(StrEnum):
    IDLE = "idle"  # no student open
    WAIT_LEAVE = "wait_leave"  # the face seen at the card read is still in view
    WAIT_ARRIVE = "wait_arrive"  # nobody in view: waiting for the student to sit down
    SETTLING = "settling"  # a new face: it must stay steady for a moment
    ARMED = "armed"  # auto-capture may fire


@dataclass
class FaceGuard:
    steady_s: float = 1.5  # a newly arrived face must stay this long
    away_s: float = 0.6  # a face must be gone this long to count as having left
    state: Presence = Presence.IDLE
    since: float = 0.0  # when the current state began
    armed_at: float | None = None
    confirmed: bool = False  # armed by the officer, not by the arrival of a face
    _absent_since: float | None = None
    _last_seen: bool | None = None  # the latest observation, also while IDLE

    def open(self, now: float) -> Presence:
        """A student was opened (a card read or a sign-off): start from what the camera sees now."""
        self.armed_at, self.confirmed, self._absent_since = None, False, None
        if self._last_seen is False:
            return self._to(Presence.WAIT_ARRIVE, now)
        return self._to(Presence.WAIT_LEAVE, now)  # a face, or nothing known: it must leave first

    def close(self) -> None:
        self.state, self.armed_at, self.confirmed, self._absent_since = Presence.IDLE, None, False, None

    def confirm(self, now: float) -> Presence:
        """The officer vouches for the person in view (a capture key): auto-capture may fire."""
        if self.state is Presence.IDLE:
            return self.state
        self.confirmed = True
        self._absent_since = None
        return self._arm(now)

    def observe(self, face_present: bool | None, now: float) -> Presence:
        """One analysed frame: a face in view (True), none (False) or the camera not delivering (None)."""
        self._last_seen = face_present
        if self.state is Presence.IDLE:
            return self.state
        if face_present is None:  # no picture: nothing can arrive, and nothing may be photographed
            if self.state in (Presence.SETTLING, Presence.ARMED) and not self.confirmed:
                return self._to(Presence.WAIT_LEAVE, now)
            return self.state
        if face_present:
            self._absent_since = None
            if self.state is Presence.WAIT_ARRIVE:
                return self._to(Presence.SETTLING, now)
            if self.state is Presence.SETTLING and now - self.since >= self.steady_s:
                return self._arm(now)
            return self.state
        if self._absent_since is None:
            self._absent_since = now
        if self.state is not Presence.WAIT_ARRIVE and now - self._absent_since >= self.away_s:
            self.confirmed = False
            return self._to(Presence.WAIT_ARRIVE, now)
        return self.state

    @property
    def armed(self) -> bool:
        return self.state is Presence.ARMED

    def remaining(self, now: float) -> float | None:
        """Seconds until a settling face arms auto-capture (the countdown shown); None otherwise."""
        if self.state is not Presence.SETTLING:
            return None
        return max(0.0, self.steady_s - (now - self.since))

    def allows(self, frame_time: float | None) -> bool:
        """May a photo of the frame taken at ``frame_time`` be accepted as an auto-capture?"""
        return (
            self.state is Presence.ARMED
            and self.armed_at is not None
            and frame_time is not None
            and frame_time >= self.armed_at
        )

    def _arm(self, now: float) -> Presence:
        self.armed_at = now
        return self._to(Presence.ARMED, now)

    def _to(self, state: Presence, now: float) -> Presence:
        self.state, self.since = state, now
        if state is not Presence.ARMED:
            self.armed_at = None
        return state
