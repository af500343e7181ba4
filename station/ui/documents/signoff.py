"""The class sign-off sheet: one row per student with photo thumbnail, name, ID number masked to its
last four digits, registration number (or 待注册) and a column for the student's signature; the
class header on every page, the totals and the signatures of the class teacher and the officer on
the last one. The content comes from ``station.admin.reports.Reports.signoff_sheet`` (audited)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPagedPaintDevice, QPainter

from station.i18n import Text
from station.ui.documents.page import Page, render_pdf

ROW_MM = 22.0
HEADER_MM = 30.0
FOOTER_MM = 22.0
# Column x positions and widths (mm) across the 186 mm printable width of A4 with 12 mm margins.
_COLUMNS = (
    ("number", Text("序号", "No."), 10),
    ("photo", Text("照片", "Photo"), 18),
    ("name", Text("姓名", "Name"), 30),
    ("id", Text("身份证号", "ID number"), 42),
    ("reg_no", Text("考籍号", "Reg. number"), 30),
    ("state", Text("状态", "State"), 28),
    ("signature", Text("学生签字", "Signature"), 28),
)


def title(sheet) -> str:  # type: ignore[no-untyped-def]
    header = sheet.header
    return str(
        Text(
            "{county}{year}级普通高中学生考籍注册签字确认表",
            "{county} {year} high-school registration sign-off sheet",
        ).format(county=header.county, year=header.entry_year)
    )


def rows_per_page(page_height_mm: float) -> int:
    return max(1, int((page_height_mm - HEADER_MM - FOOTER_MM - 8) // ROW_MM))


def draw_sheet(sheet, device: QPagedPaintDevice, painter: QPainter) -> None:  # type: ignore[no-untyped-def]
    page = Page(painter, device)
    per_page = rows_per_page(page.height)
    chunks = [sheet.lines[i : i + per_page] for i in range(0, len(sheet.lines), per_page)] or [[]]
    for index, chunk in enumerate(chunks):
        if index:
            device.newPage()
        _header(page, sheet)
        y = _table_head(page, HEADER_MM)
        for line in chunk:
            _row(page, line, y)
            y += ROW_MM
        _footer(page, sheet, index + 1, len(chunks), last=index == len(chunks) - 1)


def _header(page: Page, sheet) -> None:  # type: ignore[no-untyped-def]
    header = sheet.header
    page.font(15, bold=True)
    page.text(0, 0, page.width, 10, title(sheet), align=Qt.AlignmentFlag.AlignCenter)
    page.font(10)
    page.text(
        0, 12, page.width, 7,
        str(
            Text(
                "学校：{school}（{code}）    班级：{cls}    采集站：{station}",
                "School: {school} ({code})    Class: {cls}    Station: {station}",
            ).format(school=header.school_name, code=header.school_code, cls=header.class_no, station=header.station_id)
        ),
    )  # fmt: skip
    page.text(
        0, 19, page.width, 7,
        str(
            Text("共 {n} 人，已注册 {r} 人。打印时间：{at}（{by}）", "{n} students, {r} registered. Printed {at} by {by}.").format(
                n=len(sheet.lines), r=sheet.registered, at=header.printed_at, by=header.printed_by
            )
        ),
    )  # fmt: skip


def _table_head(page: Page, y: float) -> float:
    page.font(9, bold=True)
    x = 0.0
    for _key, label, width in _COLUMNS:
        page.box(x, y, width, 8)
        page.text(x, y, width, 8, str(label), align=Qt.AlignmentFlag.AlignCenter)
        x += width
    return y + 8


def _row(page: Page, line, y: float) -> None:  # type: ignore[no-untyped-def]
    values = {
        "number": str(line.number),
        "name": line.name,
        "id": line.masked_id,
        "reg_no": line.reg_no_text,
        "state": str(line.state),
        "signature": "",
    }
    x = 0.0
    for key, _label, width in _COLUMNS:
        page.box(x, y, width, ROW_MM)
        if key == "photo":
            if not page.image(x + 1.5, y + 1, width - 3, ROW_MM - 2, line.photo_jpeg):
                page.font(7)
                page.text(x, y, width, ROW_MM, "—", align=Qt.AlignmentFlag.AlignCenter)
        else:
            page.font(10 if key in ("name", "reg_no") else 9, mono=key in ("id", "reg_no"))
            page.text(
                x + 1,
                y,
                width - 2,
                ROW_MM,
                values[key],
                align=Qt.AlignmentFlag.AlignCenter,
                wrap=key == "state",
            )
        x += width


def _footer(page: Page, sheet, number: int, total: int, *, last: bool) -> None:  # type: ignore[no-untyped-def]
    bottom = page.height
    page.font(10)
    if last:
        page.text(
            0, bottom - FOOTER_MM, page.width, 8,
            str(Text("班主任签字：________________    采集员签字：________________    日期：____________",
                     "Class teacher: ________________    Officer: ________________    Date: ____________")),
        )  # fmt: skip
    page.font(8)
    page.text(
        0, bottom - 8, page.width, 6,
        str(Text("身份证号仅显示后四位。第 {n}/{t} 页", "ID numbers show their last four digits only. Page {n}/{t}").format(
            n=number, t=total)),
        align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    )  # fmt: skip


def write_signoff_pdf(sheet, path: Path) -> int:  # type: ignore[no-untyped-def]
    """The sign-off sheet as a PDF file at ``path``; the bytes written."""
    return render_pdf(path, lambda device, painter: draw_sheet(sheet, device, painter), title=title(sheet))
