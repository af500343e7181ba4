"""The student as the station's queue knows them, and what the desk may do for each status.

A queue entry is an approved pre-registration pulled from the registry's feed (rule 1.4(3)): the
station only reads it, never edits it (rule 1.4(2)). ``desk_decision`` answers the first question at
the desk, "may this student be captured here now?", with the officer-facing reason when not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from station.i18n import Text
from sync.protocol import codes


class StudentStatus(StrEnum):
    PENDING = "pending"  # the class teacher has not approved the pre-registration yet
    APPROVED = "approved"  # waiting for capture at the county office
    CAPTURED_AT_ZHONGKAO = "captured_at_zhongkao"  # photo and card taken at 中考: no capture needed
    CAPTURED = "captured"  # captured at this station, not yet confirmed by the registry
    REGISTERED = "registered"  # the registry issued the registration number
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"
    SUSPENDED = "suspended"


class TeachingLanguage(StrEnum):
    CHINESE = "汉语"
    MONGOLIAN = "蒙古语"


class StudentCategory(StrEnum):
    REGULAR = "普通"
    GUEST = "借读"  # guest student without regional student status (rule 4)


STATUS_NAMES: dict[str, Text] = {
    StudentStatus.PENDING: Text("待审核", "awaiting approval"),
    StudentStatus.APPROVED: Text("待采集", "to capture"),
    StudentStatus.CAPTURED_AT_ZHONGKAO: Text("中考已采集", "captured at 中考"),
    StudentStatus.CAPTURED: Text("已采集", "captured"),
    StudentStatus.REGISTERED: Text("已注册", "registered"),
    StudentStatus.WITHDRAWN: Text("已退学", "withdrawn"),
    StudentStatus.TRANSFERRED: Text("已转籍", "transferred"),
    StudentStatus.SUSPENDED: Text("休学", "suspended"),
}


@dataclass(frozen=True)
class Student:
    """One approved (or once approved) pre-registration in this county's queue."""

    student_id: str
    national_id: str
    name: str
    sex: str
    nation: str | None
    birth_date: date
    political_status: str
    school_code: str
    school_name: str
    class_no: str
    teaching_language: TeachingLanguage
    student_category: StudentCategory
    county_code6: str
    status: StudentStatus
    version: int
    reg_no: str | None = None

    @property
    def sex_name(self) -> str:
        return codes.sexes().get(self.sex, self.sex)

    @property
    def nation_name(self) -> str:
        return codes.ethnic_groups().get(self.nation or "", "—")

    @classmethod
    def from_feed(cls, data: dict) -> Student:
        """Build from a feed item's ``data`` (the pre-registration fields of the sync protocol)."""
        return cls(
            student_id=str(data["student_id"]),
            national_id=data["national_id"],
            name=data["name"],
            sex=data["sex"],
            nation=data.get("nation"),
            birth_date=date.fromisoformat(data["birth_date"]),
            political_status=data.get("political_status", "13"),
            school_code=data["school_code"],
            school_name=data["school_name"],
            class_no=data["class_no"],
            teaching_language=TeachingLanguage(data.get("teaching_language", "汉语")),
            student_category=StudentCategory(data.get("student_category", "普通")),
            county_code6=data["county_code6"],
            status=StudentStatus(data.get("status", "approved")),
            version=int(data.get("version", 1)),
            reg_no=data.get("reg_no"),
        )

    def to_feed(self) -> dict:
        return {
            "student_id": self.student_id,
            "national_id": self.national_id,
            "name": self.name,
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": self.birth_date.isoformat(),
            "political_status": self.political_status,
            "school_code": self.school_code,
            "school_name": self.school_name,
            "class_no": self.class_no,
            "teaching_language": str(self.teaching_language),
            "student_category": str(self.student_category),
            "county_code6": self.county_code6,
            "status": str(self.status),
            "version": self.version,
            "reg_no": self.reg_no,
        }


@dataclass(frozen=True)
class DeskDecision:
    may_capture: bool
    code: str
    message: Text
    is_recapture: bool = False


_REFUSALS: dict[StudentStatus, tuple[str, Text]] = {
    StudentStatus.PENDING: (
        "NOT_APPROVED",
        Text(
            "该生的预注册尚未经班主任审核通过，不能采集。请学生联系班主任完成审核后再来。",
            "The class teacher has not approved this pre-registration yet. Ask the student to have it approved first.",
        ),
    ),
    StudentStatus.CAPTURED_AT_ZHONGKAO: (
        "CAPTURED_AT_ZHONGKAO",
        Text(
            "该生中考报名时已采集照片和身份证信息，班主任审核后即完成注册，无需再采集。",
            "This student's photo and ID card were taken at the 中考 registration: registration completes on approval, no capture.",
        ),
    ),
    StudentStatus.REGISTERED: (
        "ALREADY_REGISTERED",
        Text(
            "该生已完成考籍注册（考籍号 {reg_no}），不能重复采集。",
            "This student is already registered (number {reg_no}).",
        ),
    ),
    StudentStatus.WITHDRAWN: (
        "WITHDRAWN",
        Text(
            "该生已退学，考籍已注销，不能采集。", "This student has withdrawn; the registration is cancelled."
        ),
    ),
    StudentStatus.TRANSFERRED: (
        "TRANSFERRED",
        Text(
            "该生已转籍，不在本旗县采集。", "This student has transferred and is not captured in this county."
        ),
    ),
    StudentStatus.SUSPENDED: (
        "SUSPENDED",
        Text("该生处于休学状态，复学后方可采集。", "This student is suspended; capture after resumption."),
    ),
}


def desk_decision(student: Student | None, station_county: str) -> DeskDecision:
    """May this student be captured at a station of ``station_county``? With the officer's reason."""
    if student is None:
        return DeskDecision(
            False,
            "NOT_IN_QUEUE",
            Text(
                "本旗县的待采集名单中没有此身份证号。请确认学生已完成预注册并经班主任审核，或先同步名单。",
                "This ID number is not in the county's queue. Check the pre-registration and approval, or sync the queue.",
            ),
        )
    if student.county_code6 != station_county:
        return DeskDecision(
            False,
            "OTHER_COUNTY",
            Text(
                "该生属于其他旗县（{county}），请到所属旗县采集。",
                "This student belongs to another county ({county}).",
            ).format(county=student.county_code6),
        )
    if student.status in _REFUSALS:
        code, message = _REFUSALS[student.status]
        return DeskDecision(False, code, message.format(reg_no=student.reg_no or "—"))
    if student.status is StudentStatus.CAPTURED:
        return DeskDecision(
            True,
            "RECAPTURE",
            Text(
                "该生已在本站采集过。重新采集将生成新记录并替代原记录，请确认确有必要。",
                "Already captured here. A recapture creates a new record that supersedes the old one.",
            ),
            is_recapture=True,
        )
    return DeskDecision(True, "OK", Text("可以采集。", "Ready to capture."))
