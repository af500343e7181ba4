"""The desk's guidance state by state: numbers, tones and keys; the check order; refusals without a code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from station.camera.quality import CHECK_NAMES
from station.capture.guidance import (
    KEYS_NEXT,
    KEYS_PHOTO,
    KEYS_REVIEW,
    KEYS_WAITING,
    PRIORITY,
    Tone,
    current_step,
    primary_instruction,
    refusal,
)
from station.capture.presence import Presence
from station.capture.workflow import State
from station.i18n import Text

PAUSED = Text("数据长时间未同步", "unsynced")


@dataclass
class Check:
    name: str
    status: str
    message: Text


@pytest.mark.parametrize(
    ("state", "number", "tone", "keys"),
    [
        (State.WAITING_FOR_CARD, 1, Tone.ASK, KEYS_WAITING),
        (State.REFUSED, None, Tone.STOP, KEYS_NEXT),
        (State.SAVED, 3, Tone.DONE, KEYS_NEXT),
        (State.REVIEW, 3, Tone.ASK, KEYS_REVIEW),
        (State.CONFIRM_RECAPTURE, 2, Tone.ASK, None),
    ],
)
def test_each_state_has_its_step_tone_and_keys(state, number, tone, keys):
    step = current_step(state)
    assert (step.number, step.tone, step.keys) == (number, tone, keys)


def test_saving_shows_progress_without_keys():
    step = current_step(State.REVIEW, saving=True)
    assert (step.number, step.tone, step.keys) == (3, Tone.BUSY, None)
    assert "保存" in step.text.zh


@pytest.mark.parametrize("state", [State.WAITING_FOR_CARD, State.SAVED, State.REFUSED])
def test_a_pause_replaces_the_banner_between_students(state):
    step = current_step(state, blocked=PAUSED)
    assert (step.number, step.tone, step.keys) == (None, Tone.STOP, None)
    assert step.text.zh.endswith("数据长时间未同步") and step.text.en.endswith("unsynced")


@pytest.mark.parametrize("state", [State.PHOTO, State.REVIEW, State.CONFIRM_RECAPTURE])
def test_a_pause_never_interrupts_the_student_at_the_desk(state):
    assert current_step(state, Presence.ARMED, blocked=PAUSED).tone is not Tone.STOP


@pytest.mark.parametrize(
    ("presence", "tone"),
    [(Presence.WAIT_LEAVE, Tone.ASK), (Presence.WAIT_ARRIVE, Tone.ASK), (Presence.SETTLING, Tone.BUSY),
     (Presence.ARMED, Tone.BUSY)],
)  # fmt: skip
def test_the_photo_step_follows_the_wrong_person_guard(presence, tone):
    step = current_step(State.PHOTO, presence)
    assert (step.number, step.tone, step.keys) == (2, tone, KEYS_PHOTO)


def test_each_guard_state_says_something_different():
    texts = {current_step(State.PHOTO, p, countdown=2).text.zh for p in Presence if p is not Presence.IDLE}
    assert len(texts) == 4
    assert "就座" in current_step(State.PHOTO, Presence.WAIT_ARRIVE).text.zh
    assert "符合规格即自动拍照" in current_step(State.PHOTO, Presence.ARMED).text.zh


def test_a_lost_camera_outweighs_the_guard():
    step = current_step(State.PHOTO, Presence.WAIT_ARRIVE, camera_ok=False)
    assert (step.number, step.tone, step.keys) == (2, Tone.STOP, KEYS_PHOTO)
    assert "摄像头" in step.text.zh


@pytest.mark.parametrize(
    ("countdown", "seconds"), [(None, 1), (0.0, 1), (0.4, 1), (1.6, 2), (2.5, 2), (3.0, 3)]
)
def test_the_countdown_shows_whole_seconds_and_never_zero(countdown, seconds):
    step = current_step(State.PHOTO, Presence.SETTLING, countdown=countdown)
    assert f"{seconds} 秒" in step.text.zh and f"in {seconds} s" in step.text.en


def test_the_priority_names_every_photo_check():
    """A misspelt name would silently send that check to the back of the queue."""
    assert set(PRIORITY) == set(CHECK_NAMES) | {"output_file"}
    assert len(PRIORITY) == len(set(PRIORITY))


def test_the_person_and_framing_come_before_the_light_and_the_light_before_the_backdrop():
    def first(*names: str) -> str:
        found = primary_instruction([Check(n, "fail", Text(n, n)) for n in names])
        return found.text.en

    assert first("exposure", "framing") == "framing"
    assert first("background_colour", "shadows", "one_face") == "one_face"
    assert first("background_uniformity", "exposure") == "exposure"


def test_an_unknown_check_comes_after_the_known_ones_in_the_given_order():
    unknown = [Check("new_b", "warn", Text("b", "b")), Check("new_a", "warn", Text("a", "a"))]
    assert primary_instruction(unknown).text.en == "b"
    later = primary_instruction([*unknown, Check("output_file", "warn", Text("o", "o"))])
    assert later.text.en == "o" and later.status == "warn"


def test_a_failure_anywhere_outranks_a_warning_on_a_more_important_check():
    found = primary_instruction(
        [Check("one_face", "warn", Text("w", "w")), Check("output_file", "fail", Text("f", "f"))]
    )
    assert (found.text.en, found.status) == ("f", "fail")


def test_skipped_and_passing_checks_mean_all_is_well():
    found = primary_instruction(
        [Check("one_face", "skipped", Text("s", "s")), Check("pose", "pass", Text("p", "p"))]
    )
    assert found.status == "pass" and found.text.zh == "照片符合规格"
    assert primary_instruction([]).status == "pass"


def test_a_refusal_without_a_code_has_the_general_wording():
    reasons = [Text("原因", "reason")]
    shown = refusal(None, reasons)
    assert shown.code == "" and shown.reasons == (reasons[0],)
    assert shown.title.zh == "不能采集" and shown.next_step.zh == "请按上述原因处理后再来。"


def test_each_refusal_code_has_its_own_next_step():
    codes = ["NOT_IN_QUEUE", "OTHER_COUNTY", "NOT_APPROVED", "CAPTURED_AT_ZHONGKAO", "ALREADY_REGISTERED",
             "WITHDRAWN", "TRANSFERRED", "SUSPENDED", "CHIP_MISMATCH", "CARD_EXPIRED", "CARD_NOT_YET_VALID"]  # fmt: skip
    shown = [refusal(code, []) for code in codes]
    assert len({s.title.zh for s in shown}) == len(codes) and len({s.next_step.zh for s in shown}) == len(
        codes
    )
    assert all(s.title.zh != "不能采集" for s in shown)
    assert [s.code for s in shown] == codes
