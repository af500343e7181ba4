"""The county administrator's reports: progress per school and class (today and the season), its CSV
export, a class's sign-off sheet and a student's receipt.

Progress carries no personal data (ids, states and counts). A sign-off sheet and a receipt do (name,
photo, ID number masked to its last four digits): the store writes their audit entry in the same
transaction as the read. Export, sign-off sheets and receipts are for county administrators only
(rule 2.2). Layout and printing are the window's (``station.ui.documents``): this module only says
what goes on the page.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from station.admin.common import local_time, require_admin
from station.domain import rules
from station.domain.identity import mask_id_number
from station.domain.progress import FIGURE_NAMES, ClassProgress, Figures, Progress, tally
from station.domain.students import STATUS_NAMES
from station.errors import OfficerError
from station.i18n import Text
from sync.protocol import codes

FIGURE_LABELS: dict[str, Text] = {
    "approved": Text("审核通过", "approved"),
    "captured": Text("已采集", "captured"),
    "synced": Text("已同步", "synced"),
    "registered": Text("已注册", "registered"),
    "rejected": Text("被退回", "rejected"),
}
AWAITING_NUMBER = Text("待注册", "awaiting number")
_STATE_TEXT = {
    "pending": Text("已采集，待同步", "captured, awaiting sync"),
    "inflight": Text("已采集，同步中", "captured, syncing"),
    "accepted": Text("已注册", "registered"),
    "rejected": Text("被退回，需重新采集", "rejected: capture again"),
    "conflict": Text("被退回，需核查", "rejected: check"),
}


class ReportError(OfficerError):
    code = "report_failed"


@dataclass(frozen=True)
class SheetHeader:
    county: str
    station_id: str
    school_code: str
    school_name: str
    class_no: str
    entry_year: int
    printed_at: str  # China Standard Time
    printed_by: str


@dataclass(frozen=True)
class SheetLine:
    number: int
    student_id: str
    name: str
    masked_id: str
    reg_no: str | None
    state: Text
    photo_jpeg: bytes | None = field(repr=False)
    record_id: str | None = None
    captured_at: str = "—"

    @property
    def reg_no_text(self) -> str:
        return self.reg_no or str(AWAITING_NUMBER)

    @property
    def receipt_no(self) -> str:
        """The receipt number the desk showed at saving (``CaptureRecord.short_id``)."""
        return self.record_id.replace("-", "")[-8:].upper() if self.record_id else "—"


@dataclass(frozen=True)
class SignoffSheet:
    header: SheetHeader
    lines: list[SheetLine]

    @property
    def registered(self) -> int:
        return sum(1 for line in self.lines if line.reg_no)


@dataclass(frozen=True)
class Receipt:
    header: SheetHeader
    line: SheetLine


def county_name(county_code6: str) -> str:
    county = codes.county(county_code6)
    return f"{county.league_name_zh}{county.name_zh}" if county else county_code6


def _state(row) -> Text:  # type: ignore[no-untyped-def]
    if row.state is None:
        return STATUS_NAMES.get(row.status, Text(row.status, row.status))
    if row.state == "accepted" and not row.reg_no:
        return _STATE_TEXT["pending"]
    return _STATE_TEXT.get(row.state, Text(row.state, row.state))


def _line(number: int, row) -> SheetLine:  # type: ignore[no-untyped-def]
    return SheetLine(
        number,
        row.student_id,
        row.name,
        mask_id_number(row.national_id),
        row.reg_no,
        _state(row),
        row.photo_jpeg,
        row.record_id,
        local_time(row.captured_at),
    )


class Reports:
    """Reports of one station for the county administrator ``acting``."""

    def __init__(self, app, acting: str) -> None:  # type: ignore[no-untyped-def]
        require_admin(app, acting)
        self._app = app
        self.acting = acting

    def progress(self, today: date | None = None) -> Progress:
        students, records = self._app.database.reports.progress_facts()
        return tally(students, records, today or rules.today_in_china())

    def classes(self) -> list:  # type: ignore[type-arg]
        return self._app.database.reports.classes()

    def _header(self, school_code: str, school_name: str, class_no: str) -> SheetHeader:
        config = self._app.config
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return SheetHeader(
            county_name(config.county_code6),
            config.station_id,
            school_code,
            school_name,
            class_no,
            config.entry_year,
            local_time(now),
            self.acting,
        )

    def signoff_sheet(self, school_code: str, class_no: str, *, action: str = "signoff") -> SignoffSheet:
        """The class's sheet; reading it is audited as ``action`` (a printed sheet, or a roster view)."""
        rows = self._app.database.reports.class_sheet(
            school_code, class_no, operator=self.acting, action=action
        )
        if not rows:
            raise ReportError(
                Text(
                    "名单中没有 {s} 学校 {c} 班的学生。",
                    "The queue has no students of school {s}, class {c}.",
                ).format(s=school_code, c=class_no),
                fix=Text(
                    "请核对学校代码和班级，或先同步名单。",
                    "Check the school code and class, or sync the queue.",
                ),
            )
        header = self._header(school_code, rows[0].school_name, class_no)
        return SignoffSheet(header, [_line(number, row) for number, row in enumerate(rows, 1)])

    def roster(self, school_code: str, class_no: str) -> SignoffSheet:
        """The class's students on screen (audited as a view)."""
        return self.signoff_sheet(school_code, class_no, action="view")

    def receipt(self, student_id: str) -> Receipt:
        row = self._app.database.reports.student_sheet(student_id, operator=self.acting)
        if row is None:
            raise ReportError(
                Text("名单中没有学生编号 {s}。", "There is no student {s} in the queue.").format(s=student_id)
            )
        return Receipt(self._header(row.school_code, row.school_name, row.class_no), _line(1, row))

    def export_progress(self, path: Path, today: date | None = None) -> int:
        """Write the season's and today's figures per class as CSV (UTF-8 with BOM, for spreadsheets);
        return the number of class rows. Audited."""
        progress = self.progress(today)
        path = Path(path)
        try:
            with open(path, "w", newline="", encoding="utf-8-sig") as handle:
                write_progress_csv(handle, progress)
        except OSError:
            path.unlink(missing_ok=True)
            raise ReportError(
                Text("无法写入文件 {f}。", "Cannot write the file {f}.").format(f=path),
                fix=Text(
                    "请选择可写的位置（例如 U 盘或桌面）。",
                    "Choose a writable place (a USB stick, the desktop).",
                ),
            ) from None
        self._app.database.audit.append(
            "export",
            operator=self.acting,
            subject="progress",
            detail={"kind": "progress", "rows": len(progress.classes), "file": path.name},
        )
        return len(progress.classes)


def write_progress_csv(handle, progress: Progress) -> None:  # type: ignore[no-untyped-def]
    writer = csv.writer(handle)
    today = [f"{Text('今日', 'today ')}{FIGURE_LABELS[name]}" for name in FIGURE_NAMES[1:]]
    writer.writerow(
        [str(Text("学校代码", "school code")), str(Text("学校", "school")), str(Text("班级", "class"))]
        + [str(FIGURE_LABELS[name]) for name in FIGURE_NAMES]
        + today
    )
    for row in progress.classes:
        writer.writerow(_csv_row(row))
    total = ClassProgress("", str(Text("合计", "total")), "", progress.season, progress.today)
    writer.writerow(_csv_row(total))
    writer.writerow([str(Text("统计日期", "date")), progress.day.isoformat()])


def _csv_row(row: ClassProgress) -> list[str | int]:
    season, today = row.season.as_dict(), row.today.as_dict()
    return [row.school_code, row.school_name, row.class_no, *season.values(), *list(today.values())[1:]]


__all__ = ["FIGURE_LABELS", "Figures", "Receipt", "ReportError", "Reports", "SheetLine", "SignoffSheet"]
