"""The wrong-person guard: auto-capture arms only for a face that arrived after the card read."""

from __future__ import annotations

from station.capture.presence import FaceGuard, Presence


def feed(guard: FaceGuard, *frames: tuple[float, bool | None]) -> Presence:
    state = guard.state
    for at, present in frames:
        state = guard.observe(present, at)
    return state


def test_an_empty_seat_at_the_card_read_arms_after_a_steady_new_face():
    guard = FaceGuard(steady_s=1.5, away_s=0.6)
    guard.observe(False, 0.0)
    assert guard.open(0.1) is Presence.WAIT_ARRIVE
    assert feed(guard, (0.5, True), (1.0, True)) is Presence.SETTLING
    assert guard.remaining(1.0) == 1.0
    assert feed(guard, (1.6, True), (2.0, True)) is Presence.ARMED
    assert guard.allows(2.1) and not guard.allows(1.9) and not guard.allows(None)


def test_the_face_present_at_the_card_read_must_leave_and_come_back():
    guard = FaceGuard(steady_s=1.0, away_s=0.6)
    guard.observe(True, 0.0)
    assert guard.open(0.1) is Presence.WAIT_LEAVE
    # It stays seated for a long time: never armed.
    assert feed(guard, *((t / 5, True) for t in range(1, 50))) is Presence.WAIT_LEAVE
    # The detector misses it for two frames: flicker, not leaving.
    assert feed(guard, (10.0, False), (10.2, False), (10.4, True)) is Presence.WAIT_LEAVE
    # It really leaves, then a face arrives and settles.
    assert feed(guard, (11.0, False), (11.7, False)) is Presence.WAIT_ARRIVE
    assert feed(guard, (12.0, True), (13.1, True)) is Presence.ARMED


def test_unknown_presence_at_the_card_read_counts_as_a_face_already_there():
    guard = FaceGuard()
    assert guard.open(0.0) is Presence.WAIT_LEAVE  # nothing observed yet
    guard.observe(None, 0.2)
    assert guard.state is Presence.WAIT_LEAVE


def test_a_settling_face_that_leaves_starts_over_and_the_countdown_resets():
    guard = FaceGuard(steady_s=1.5, away_s=0.6)
    guard.observe(False, 0.0)
    guard.open(0.0)
    feed(guard, (0.2, True), (1.0, True), (1.2, False), (1.9, False))
    assert guard.state is Presence.WAIT_ARRIVE and guard.remaining(2.0) is None
    feed(guard, (2.0, True), (3.0, True))
    assert guard.state is Presence.SETTLING and guard.remaining(3.0) == 0.5


def test_an_armed_guard_disarms_when_the_face_leaves_or_the_picture_is_lost():
    guard = FaceGuard(steady_s=0.5, away_s=0.6)
    guard.observe(False, 0.0)
    guard.open(0.0)
    feed(guard, (0.1, True), (0.7, True))
    assert guard.armed
    feed(guard, (1.0, False), (1.7, False))
    assert guard.state is Presence.WAIT_ARRIVE and not guard.allows(2.0)
    feed(guard, (2.0, True), (2.6, True))
    assert guard.armed
    assert guard.observe(None, 3.0) is Presence.WAIT_LEAVE  # camera unplugged: no stale arming


def test_the_officer_confirms_the_person_in_view():
    guard = FaceGuard()
    guard.observe(True, 0.0)
    guard.open(0.1)
    assert guard.confirm(0.5) is Presence.ARMED and guard.confirmed
    assert guard.allows(0.6) and not guard.allows(0.4)
    guard.close()
    assert guard.confirm(1.0) is Presence.IDLE and not guard.allows(1.1)
