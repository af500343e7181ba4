"""The wrong-person guard at its edges: exact thresholds, the officer's confirmation, a lost picture."""

from __future__ import annotations

from station.capture.presence import FaceGuard, Presence


def arrived(steady_s: float = 1.0, away_s: float = 0.5) -> FaceGuard:
    """A guard opened on an empty seat (WAIT_ARRIVE at t=0)."""
    guard = FaceGuard(steady_s=steady_s, away_s=away_s)
    guard.observe(False, 0.0)
    assert guard.open(0.0) is Presence.WAIT_ARRIVE
    return guard


def test_the_defaults_wait_one_and_a_half_seconds_steady_and_0_6_seconds_away():
    guard = FaceGuard()
    guard.observe(False, 0.0)
    guard.open(0.0)
    guard.observe(True, 1.0)
    assert guard.observe(True, 2.25) is Presence.SETTLING and guard.remaining(2.25) == 0.25
    assert guard.observe(True, 2.5) is Presence.ARMED
    guard.observe(False, 3.0)
    assert guard.observe(False, 3.5) is Presence.ARMED  # gone 0.5 s: flicker
    assert guard.observe(False, 3.625) is Presence.WAIT_ARRIVE  # gone 0.625 s: left


def test_a_face_arms_exactly_when_it_has_been_steady_long_enough():
    guard = arrived(steady_s=1.0)
    assert guard.observe(True, 2.0) is Presence.SETTLING and guard.since == 2.0
    assert guard.observe(True, 2.75) is Presence.SETTLING and guard.since == 2.0  # not restarted
    assert guard.observe(True, 3.0) is Presence.ARMED
    assert guard.armed_at == 3.0 and guard.since == 3.0 and guard.armed and not guard.confirmed
    assert guard.allows(3.0) and not guard.allows(2.999)


def test_a_face_counts_as_gone_exactly_after_away_s():
    guard = arrived(away_s=0.5)
    guard.observe(True, 1.0)
    guard.observe(True, 2.0)
    assert guard.armed
    assert guard.observe(False, 3.0) is Presence.ARMED
    assert guard.observe(False, 3.25) is Presence.ARMED
    assert guard.observe(False, 3.5) is Presence.WAIT_ARRIVE
    assert guard.since == 3.5 and guard.armed_at is None and not guard.allows(10.0)


def test_an_empty_seat_stays_waiting_from_when_it_emptied():
    guard = arrived(away_s=0.5)
    guard.observe(False, 1.0)
    assert guard.observe(False, 5.0) is Presence.WAIT_ARRIVE and guard.since == 0.0


def test_a_face_seen_again_restarts_the_absence():
    guard = arrived(away_s=0.5)
    guard.observe(True, 1.0)
    guard.observe(True, 2.0)
    guard.observe(False, 3.0)
    guard.observe(True, 3.25)
    assert guard.observe(False, 3.5) is Presence.ARMED  # absent since 3.5, not 3.0
    assert guard.observe(False, 3.75) is Presence.ARMED
    assert guard.observe(False, 4.0) is Presence.WAIT_ARRIVE


def test_the_remaining_countdown_never_goes_below_zero():
    guard = arrived(steady_s=1.0)
    assert guard.remaining(0.5) is None  # nobody seated yet
    guard.observe(True, 2.0)
    assert guard.remaining(2.25) == 0.75
    assert guard.remaining(9.0) == 0.0
    guard.observe(True, 3.0)
    assert guard.remaining(3.0) is None  # armed: no countdown


def test_a_confirmation_arms_at_once_and_survives_a_lost_picture():
    guard = FaceGuard(steady_s=1.0, away_s=0.5)
    guard.observe(True, 0.0)
    guard.open(0.0)
    assert guard.confirm(1.0) is Presence.ARMED and guard.armed_at == 1.0 and guard.confirmed
    assert guard.observe(None, 1.5) is Presence.ARMED  # the officer vouched: a dropped frame changes nothing
    assert guard.allows(1.5)


def test_a_confirmation_forgets_an_absence_that_began_before_it():
    guard = arrived(away_s=0.5)
    guard.observe(True, 1.0)
    guard.observe(False, 1.25)  # absent since 1.25
    guard.confirm(1.5)
    assert guard.observe(False, 1.875) is Presence.ARMED  # absent 0.375 s since the confirmation
    assert guard.observe(False, 2.375) is Presence.WAIT_ARRIVE
    assert not guard.confirmed  # the vouched-for person left: the next one must arrive and settle


def test_a_lost_picture_disarms_an_unconfirmed_guard_and_drops_a_settling_face():
    guard = arrived(steady_s=1.0)
    guard.observe(True, 1.0)
    assert guard.observe(None, 1.5) is Presence.WAIT_LEAVE and guard.since == 1.5
    guard = arrived()
    assert guard.observe(None, 1.0) is Presence.WAIT_ARRIVE and guard.since == 0.0


def test_reopening_forgets_the_previous_student_s_confirmation_and_arming():
    guard = FaceGuard(steady_s=1.0, away_s=0.5)
    guard.observe(True, 0.0)
    guard.open(0.0)
    guard.confirm(0.5)
    guard.observe(False, 1.0)  # absent since 1.0 ...
    assert guard.open(1.25) is Presence.WAIT_ARRIVE  # ... the next card is read on an empty seat
    assert not guard.confirmed and guard.armed_at is None and not guard.allows(5.0)
    assert guard.since == 1.25
    guard.observe(True, 1.5)
    assert guard.observe(False, 1.75) is Presence.SETTLING  # absence restarts after the open


def test_reopening_while_absent_does_not_carry_the_old_absence():
    guard = FaceGuard(steady_s=1.0, away_s=0.5)
    guard.observe(True, 0.0)
    guard.open(0.0)
    guard.observe(False, 1.0)  # absent since 1.0, the last observation says "nobody"
    guard.observe(True, 1.25)  # back: the last observation says "a face"
    assert guard.open(1.25) is Presence.WAIT_LEAVE and guard.since == 1.25
    assert guard.observe(False, 1.5) is Presence.WAIT_LEAVE
    assert guard.observe(False, 1.75) is Presence.WAIT_LEAVE  # absent 0.25 s since 1.5
    assert guard.observe(False, 2.0) is Presence.WAIT_ARRIVE


def test_a_reopen_in_the_middle_of_an_absence_measures_it_afresh():
    guard = FaceGuard(steady_s=1.0, away_s=0.5)
    guard.observe(True, 0.0)
    guard.open(0.0)
    guard.observe(False, 1.0)  # absent since 1.0 in WAIT_LEAVE
    guard.observe(None, 1.25)  # nothing known at the open: a face may be there
    assert guard.open(1.25) is Presence.WAIT_LEAVE
    assert guard.observe(False, 1.5) is Presence.WAIT_LEAVE  # with the old absence it would have left


def test_closing_stops_everything_until_the_next_student():
    guard = arrived(steady_s=1.0)
    guard.observe(True, 1.0)
    guard.observe(True, 2.0)
    guard.close()
    assert guard.state is Presence.IDLE and guard.armed_at is None and not guard.confirmed
    assert guard.observe(True, 3.0) is Presence.IDLE and guard.remaining(3.0) is None
    assert not guard.allows(3.0) and not guard.armed
    assert guard.observe(False, 4.0) is Presence.IDLE
    assert guard.open(4.0) is Presence.WAIT_ARRIVE  # the seat was seen empty while closed


def test_a_confirmed_guard_closed_and_reopened_is_not_confirmed():
    guard = FaceGuard()
    guard.observe(True, 0.0)
    guard.open(0.0)
    guard.confirm(0.5)
    guard.close()
    assert not guard.confirmed
    guard.open(1.0)
    assert guard.observe(None, 1.5) is Presence.WAIT_LEAVE


def test_no_photo_without_an_arming_time():
    guard = arrived()
    guard.state = Presence.ARMED  # armed by hand, without a time: refuse rather than guess
    assert not guard.allows(1.0)
