"""A student's receipt: the photo, the name, the ID number masked to its last four digits, school and
class, when and where the capture was made, its receipt number and the registration number (or
待注册). The content comes from ``station.admin.reports.Reports.receipt`` (audited)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPagedPaintDevice, QPageSize, QPainter

from station.i18n import Text
from station.ui.documents.page import Page, render_pdf

TITLE = Text("考籍注册采集回执", "Registration capture receipt")


def draw_receipt(receipt, device: QPagedPaintDevice, painter: QPainter) -> None:  # type: ignore[no-untyped-def]
    page = Page(painter, device)
    header, line = receipt.header, receipt.line
    page.font(15, bold=True)
    page.text(0, 0, page.width, 10, str(TITLE), align=Qt.AlignmentFlag.AlignCenter)
    page.font(9)
    page.text(0, 10, page.width, 6, f"{header.county} · {Text('采集站', 'station')} {header.station_id}",
              align=Qt.AlignmentFlag.AlignCenter)  # fmt: skip
    left = (page.width - 30) / 2
    page.box(left, 18, 30, 40)
    if not page.image(left + 1, 19, 28, 38, line.photo_jpeg):
        page.text(left, 18, 30, 40, str(Text("未采集", "not captured")), align=Qt.AlignmentFlag.AlignCenter)
    fields = (
        (Text("姓名", "Name"), line.name),
        (Text("身份证号", "ID number"), line.masked_id),
        (Text("学校", "School"), f"{header.school_name}（{header.school_code}）"),
        (Text("班级", "Class"), header.class_no),
        (Text("学生编号", "Student"), line.student_id),
        (Text("采集时间", "Captured"), line.captured_at),
        (Text("回执号", "Receipt"), line.receipt_no),
        (Text("状态", "State"), str(line.state)),
        (Text("考籍号", "Reg. number"), line.reg_no_text),
    )
    y = 61.0
    for label, value in fields:
        page.font(9)
        page.text(0, y, 22, 6, f"{label}：")
        page.font(10, bold=label.zh == "考籍号", mono=label.zh in ("身份证号", "考籍号", "回执号"))
        page.text(22, y, page.width - 22, 6, value)
        y += 6
    page.font(7.5)
    page.text(
        0, y + 2, page.width, 12,
        str(Text("考籍号以自治区考籍注册中心发放为准，可凭学生编号查询。打印时间：{at}（{by}）",
                 "The registration number is the one the regional registry issues. Printed {at} by {by}.").format(
            at=header.printed_at, by=header.printed_by)),
        wrap=True,
    )  # fmt: skip


def write_receipt_pdf(receipt, path: Path) -> int:  # type: ignore[no-untyped-def]
    return render_pdf(
        path,
        lambda device, painter: draw_receipt(receipt, device, painter),
        title=str(TITLE),
        size=QPageSize.PageSizeId.A6,
        margins_mm=8,
    )
