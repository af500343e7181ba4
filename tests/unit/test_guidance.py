"""What the desk says: the step banner, the one photo instruction that matters, refusals."""

from __future__ import annotations

from dataclasses import dataclass

from station.capture.guidance import Tone, current_step, primary_instruction, refusal
from station.capture.presence import Presence
from station.capture.workflow import State
from station.i18n import Text


@dataclass
class Check:
    name: str
    status: str
    message: Text


def test_the_most_important_failure_comes_first_then_warnings():
    checks = [
        Check("background_colour", "fail", Text("背景颜色不符合要求", "backdrop")),
        Check("exposure", "fail", Text("面部过暗", "dark")),
        Check("framing", "warn", Text("取景已贴近画面边缘", "edge")),
    ]
    first = primary_instruction(checks)
    assert first.text.zh == "面部过暗" and first.status == "fail"
    assert primary_instruction(checks[2:]).status == "warn"
    assert primary_instruction([Check("one_face", "pass", Text("一张人脸", "one"))]).status == "pass"


def test_steps_say_what_to_do_with_the_keys():
    assert current_step(State.WAITING_FOR_CARD).number == 1
    assert "Enter" in current_step(State.REVIEW).keys.zh
    waiting = current_step(State.PHOTO, Presence.WAIT_LEAVE)
    assert "空格" in waiting.text.zh
    counting = current_step(State.PHOTO, Presence.SETTLING, countdown=2.2)
    assert "2 秒" in counting.text.zh and counting.tone is Tone.BUSY
    assert current_step(State.PHOTO, Presence.ARMED, camera_ok=False).tone is Tone.STOP
    blocked = current_step(State.WAITING_FOR_CARD, blocked=Text("数据长时间未同步", "unsynced"))
    assert blocked.tone is Tone.STOP and "数据长时间未同步" in blocked.text.zh


def test_a_refusal_names_what_the_student_must_do():
    shown = refusal("CARD_EXPIRED", [Text("身份证已于 2026-01-01 过期", "expired")])
    assert shown.title.zh == "身份证已过期" and "换领新证" in shown.next_step.zh
    unknown = refusal("SOMETHING_NEW", [])
    assert unknown.title.zh == "不能采集" and unknown.code == "SOMETHING_NEW"
