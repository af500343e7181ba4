"""What the desk's panels show, as plain values: the student side by side, the face guide.

* ``identity_rows`` -- the chip and the pre-registration field by field (name, sex, birth date,
  ethnic group, ID number, school, class), each row marked when the two sides differ;
* ``FaceGuide`` -- the active photo profile's geometry as fractions of its output frame (oval,
  eye line, crown and chin lines), for the overlay on the live preview.

Pure: no Qt, no devices. The services build these; the widgets only draw them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from station.domain import rules
from station.domain.students import STATUS_NAMES, Student
from station.i18n import Text
from sync.protocol import codes, idnumber


class ChipFields(Protocol):
    name: str
    sex: str
    nation: str | None
    birth_date: date
    id_number: str
    valid_from: date | None
    valid_until: date | None


@dataclass(frozen=True)
class FieldRow:
    label: Text
    chip: str  # "" when the side has no such field (the chip has no school)
    queue: str
    differs: bool = False


NONE = "—"


def identity_rows(chip: ChipFields | None, student: Student | None) -> list[FieldRow]:
    """The two sides field by field; ``differs`` marks a field both sides carry with different values."""
    sexes, groups = codes.sexes(), codes.ethnic_groups()

    def row(
        label: Text, chip_value: str | None, queue_value: str | None, same: bool | None = None
    ) -> FieldRow:
        a, b = chip_value or NONE, queue_value or NONE
        both = chip_value is not None and queue_value is not None
        differs = both and not (same if same is not None else a == b)
        return FieldRow(label, a, b, differs)

    c, s = chip, student
    return [
        row(
            Text("姓名", "Name"),
            c.name if c else None,
            s.name if s else None,
            rules.normalize_name(c.name) == rules.normalize_name(s.name) if c and s else None,
        ),
        row(
            Text("性别", "Sex"),
            sexes.get(c.sex, c.sex) if c else None,
            sexes.get(s.sex, s.sex) if s else None,
        ),
        row(
            Text("出生日期", "Born"),
            c.birth_date.isoformat() if c else None,
            s.birth_date.isoformat() if s else None,
        ),
        row(
            Text("民族", "Ethnic group"),
            groups.get(c.nation, c.nation) if c and c.nation else None,
            groups.get(s.nation, s.nation) if s and s.nation else None,
        ),
        row(
            Text("身份证号", "ID number"),
            c.id_number if c else None,
            s.national_id if s else None,
            idnumber.normalize(c.id_number) == idnumber.normalize(s.national_id) if c and s else None,
        ),
        FieldRow(Text("学校", "School"), "", s.school_name if s else NONE),
        FieldRow(Text("班级", "Class"), "", s.class_no if s else NONE),
        FieldRow(Text("状态", "Status"), "", str(STATUS_NAMES.get(s.status, s.status)) if s else NONE),
    ]


def validity_text(chip: ChipFields | None) -> str:
    """The card's validity as printed on it: "2024-03-01 – 2029-03-01" or "… – 长期"."""
    if chip is None or chip.valid_from is None:
        return NONE
    until = chip.valid_until.isoformat() if chip.valid_until else "长期"
    return f"{chip.valid_from.isoformat()} – {until}"


class ProfileGeometry(Protocol):
    width: int
    height: int


@dataclass(frozen=True)
class FaceGuide:
    """A profile's targets as fractions of its output frame (x across, y down)."""

    aspect: float  # width / height of the output photo
    centre_x: float  # the eye midpoint
    eye_y: float
    crown_y: float
    chin_y: float  # estimated: the eyes sit about halfway between the crown and the chin
    face_width: float  # cheek to cheek

    @classmethod
    def from_targets(
        cls, width: int, height: int, eye_mid_x: float, eye_line: float, crown_gap: float, face_width: float
    ) -> FaceGuide:
        chin = min(height * 0.97, 2 * eye_line - crown_gap)
        return cls(
            aspect=width / height,
            centre_x=eye_mid_x / width,
            eye_y=eye_line / height,
            crown_y=crown_gap / height,
            chin_y=chin / height,
            face_width=face_width / width,
        )
