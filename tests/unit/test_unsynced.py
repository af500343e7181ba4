"""The unsynced backlog: when the desk warns, when it stops capturing; and the masked ID number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from station.domain.identity import mask_id_number
from station.domain.unsynced import Backlog, UnsyncedState, unsynced_state

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def state(hours_waiting: float, warn: int = 24, block: int = 72) -> UnsyncedState:
    return unsynced_state(NOW - timedelta(hours=hours_waiting), NOW, warn, block)


def test_nothing_waiting_is_ok_with_no_age():
    assert unsynced_state(None, NOW, 24, 72) == UnsyncedState(Backlog.OK, 0.0)
    assert unsynced_state(None, NOW, 24, 72).notice() is None


@pytest.mark.parametrize(
    ("hours", "level"),
    [(0, Backlog.OK), (23.99, Backlog.OK), (24, Backlog.WARN), (71.99, Backlog.WARN), (72, Backlog.BLOCK),
     (500, Backlog.BLOCK)],
)  # fmt: skip
def test_the_level_turns_at_the_thresholds_inclusive(hours, level):
    found = state(hours)
    assert found.level is level
    assert found.hours == pytest.approx(hours)


def test_a_zero_threshold_switches_that_level_off():
    assert state(1000, warn=0, block=72).level is Backlog.BLOCK
    assert state(50, warn=0, block=72).level is Backlog.OK
    assert state(1000, warn=24, block=0).level is Backlog.WARN
    assert state(1000, warn=0, block=0).level is Backlog.OK


def test_a_capture_dated_in_the_future_counts_as_just_taken():
    found = state(-5)
    assert found.level is Backlog.OK and found.hours == 0.0


def test_the_notice_names_the_whole_hours_and_what_to_do():
    warn = state(30.7).notice()
    assert "30 小时" in warn.zh and "30 hours" in warn.en and "联系旗县管理员" in warn.zh
    block = state(80.2).notice()
    assert "80 小时" in block.zh and "80 hours" in block.en and "管理员确认" in block.zh
    assert warn.zh != block.zh
    assert state(3).notice() is None


def test_a_masked_id_number_shows_only_its_last_four_characters():
    assert mask_id_number("15010220100304122X") == "*" * 14 + "122X"
    assert mask_id_number("1222") == "1222"
    assert mask_id_number("22") == "22"
    assert mask_id_number("") == ""
