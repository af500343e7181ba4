"""What the desk tells the officer: the current step, the one photo instruction that matters, refusals.

Pure functions over the workflow's state, the wrong-person guard and the photo checks, so every
sentence the desk shows is decided (and tested) without Qt:

* ``current_step`` -- the large banner: what to do now, in one line, with the key to press;
* ``primary_instruction`` -- of all the photo checks, the one to act on first (a failing check before
  a warning; the person and the framing before the light; the light before the backdrop);
* ``refusal`` -- a refusal as a title, the reasons and what the student must do next.

Check names and codes never reach the sentences; they may follow in small print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from station.capture.presence import Presence
from station.capture.workflow import State
from station.i18n import Text


class Tone(StrEnum):
    """How the banner looks: a neutral instruction, an action in progress, done, a problem."""

    ASK = "ask"
    BUSY = "busy"
    DONE = "done"
    STOP = "stop"


@dataclass(frozen=True)
class Step:
    number: int | None  # ①②③ of the normal path; None for a refusal
    text: Text
    tone: Tone
    keys: Text | None = None  # the keys that act now, in small type


KEYS_WAITING = Text(
    "F2 重新读卡 · F3 搜索名单（证件无法读取时） · F1 按键说明", "F2 re-read · F3 search · F1 keys"
)
KEYS_PHOTO = Text("空格 立即拍照 · Esc 取消", "Space capture now · Esc cancel")
KEYS_REVIEW = Text("Enter 保存 · Esc 重拍", "Enter save · Esc retake")
KEYS_NEXT = Text("放下一张身份证 · Esc 清空", "Place the next card · Esc clear")


def current_step(
    state: State,
    presence: Presence = Presence.IDLE,
    *,
    countdown: float | None = None,
    saving: bool = False,
    camera_ok: bool = True,
    blocked: Text | None = None,
) -> Step:
    """The banner for the desk's state (``blocked``: capture disabled by the administration)."""
    if blocked is not None and state in (State.WAITING_FOR_CARD, State.SAVED, State.REFUSED):
        return Step(None, Text(f"暂停采集：{blocked.zh}", f"Capture paused: {blocked.en}"), Tone.STOP)
    if state is State.WAITING_FOR_CARD:
        return Step(
            1,
            Text("请将学生的身份证放在读卡器上", "Place the student's ID card on the reader"),
            Tone.ASK,
            KEYS_WAITING,
        )
    if state is State.REFUSED:
        return Step(
            None, Text("不能采集：原因见下方", "Cannot capture: see the reason below"), Tone.STOP, KEYS_NEXT
        )
    if state is State.SAVED:
        return Step(
            3,
            Text("已保存。请放下一位学生的身份证", "Saved. Place the next student's card"),
            Tone.DONE,
            KEYS_NEXT,
        )
    if state is State.REVIEW:
        if saving:
            return Step(3, Text("正在保存…", "Saving…"), Tone.BUSY)
        return Step(
            3,
            Text("核对照片与证件：确认无误按 Enter 保存", "Check the photo: Enter saves it"),
            Tone.ASK,
            KEYS_REVIEW,
        )
    if state is State.CONFIRM_RECAPTURE:
        return Step(
            2,
            Text("该生已采集过：重新采集须填写原因并确认", "Captured before: a recapture needs a reason"),
            Tone.ASK,
        )
    # State.PHOTO
    if not camera_ok:
        return Step(
            2,
            Text("摄像头没有画面：请检查摄像头连接", "No picture from the camera: check its cable"),
            Tone.STOP,
            KEYS_PHOTO,
        )
    if presence is Presence.WAIT_LEAVE:
        return Step(
            2,
            Text(
                "镜头前的人在读卡前就已在座：如是本人按空格拍照，否则请其离开、本人就座",
                "The person in view was there before the card was read: Space if it is the student, "
                "otherwise seat the student",
            ),
            Tone.ASK,
            KEYS_PHOTO,
        )
    if presence is Presence.WAIT_ARRIVE:
        return Step(
            2, Text("请学生就座，正对镜头", "Seat the student facing the camera"), Tone.ASK, KEYS_PHOTO
        )
    if presence is Presence.SETTLING:
        seconds = max(1, round(countdown or 0))
        return Step(
            2,
            Text(f"请保持不动，{seconds} 秒后自动拍照", f"Hold still: automatic photo in {seconds} s"),
            Tone.BUSY,
            KEYS_PHOTO,
        )
    return Step(
        2,
        Text("请保持不动，符合规格即自动拍照", "Hold still: the photo is taken when it conforms"),
        Tone.BUSY,
        KEYS_PHOTO,
    )


class CheckLike(Protocol):
    name: str
    status: str
    message: Text


# The order an officer should act in: the person and the framing, then the light, then the rest.
PRIORITY = (
    "one_face", "framing", "source_resolution", "pose", "roll", "exposure", "clipping", "shadows",
    "sharpness", "glasses_glare", "lighting_symmetry", "dynamic_range", "output_ied",
    "background_colour", "background_uniformity", "clothing_contrast", "skin_colour", "output_file",
)  # fmt: skip


@dataclass(frozen=True)
class Instruction:
    text: Text
    status: str  # "fail" blocks the capture, "warn" needs a reason, "pass" all is well


ALL_GOOD = Text("照片符合规格", "The photo conforms")


def primary_instruction(checks: Sequence[CheckLike]) -> Instruction:
    """The one check to act on first: the most important failure, else the most important warning."""
    rank = {name: index for index, name in enumerate(PRIORITY)}

    def order(check: CheckLike) -> int:
        return rank.get(check.name, len(rank))

    for status in ("fail", "warn"):
        matching = sorted((c for c in checks if c.status == status), key=order)
        if matching:
            return Instruction(matching[0].message, status)
    return Instruction(ALL_GOOD, "pass")


@dataclass(frozen=True)
class Refusal:
    title: Text
    reasons: tuple[Text, ...]
    next_step: Text
    code: str  # small print only


_REFUSAL_TITLES: dict[str, tuple[Text, Text]] = {
    "NOT_IN_QUEUE": (
        Text("不在本旗县待采集名单中", "Not in this county's queue"),
        Text(
            "请学生确认已完成预注册并经班主任审核；名单刚更新时可按 F5 同步后再读卡。",
            "The student checks the pre-registration and its approval; press F5 to sync, then read again.",
        ),
    ),
    "OTHER_COUNTY": (
        Text("属于其他旗县", "Belongs to another county"),
        Text("请学生到所属旗县的采集点采集。", "The student goes to the capture point of their own county."),
    ),
    "NOT_APPROVED": (
        Text("预注册尚未审核通过", "Pre-registration not approved"),
        Text(
            "请学生联系班主任完成审核后再来。",
            "The student asks the class teacher to approve it, then comes back.",
        ),
    ),
    "CAPTURED_AT_ZHONGKAO": (
        Text("中考时已采集，无需再采集", "Captured at 中考: no capture needed"),
        Text(
            "无需采集。请学生离开，班主任审核后即完成注册。",
            "Nothing to do here: registration completes on approval.",
        ),
    ),
    "ALREADY_REGISTERED": (
        Text("已完成考籍注册", "Already registered"),
        Text(
            "不能重复采集。如信息有误，请通过学校申请更正。",
            "No second capture; corrections go through the school.",
        ),
    ),
    "WITHDRAWN": (
        Text("学籍已注销", "Registration cancelled"),
        Text("不能采集。如有疑问请联系学校。", "No capture; the school can explain."),
    ),
    "TRANSFERRED": (
        Text("已转籍", "Transferred"),
        Text("请到转入地旗县采集。", "The student is captured in the county they moved to."),
    ),
    "SUSPENDED": (
        Text("休学中", "Suspended"),
        Text("复学后再来采集。", "The student comes back after resuming."),
    ),
    "CHIP_MISMATCH": (
        Text("身份证与预注册信息不符", "The card differs from the pre-registration"),
        Text(
            "请学生通过班主任更正预注册信息，审核通过后再来采集。",
            "The student has the pre-registration corrected through the class teacher, then comes back.",
        ),
    ),
    "CARD_EXPIRED": (
        Text("身份证已过期", "The ID card has expired"),
        Text(
            "请学生换领新证，或持临时身份证再来。", "The student renews the card or brings a temporary one."
        ),
    ),
    "CARD_NOT_YET_VALID": (
        Text("身份证尚未生效", "The ID card is not valid yet"),
        Text(
            "请核对证件有效期，证件生效后再来。",
            "Check the validity dates; come back once the card is valid.",
        ),
    ),
}
_DEFAULT_REFUSAL = (
    Text("不能采集", "Cannot capture"),
    Text("请按上述原因处理后再来。", "Resolve the reason above, then come back."),
)


def refusal(code: str | None, reasons: Sequence[Text]) -> Refusal:
    """A refusal for the prominent panel: what happened, why, and what the student must do next."""
    title, next_step = _REFUSAL_TITLES.get(code or "", _DEFAULT_REFUSAL)
    return Refusal(title, tuple(reasons), next_step, code or "")
