"""The progress panel: today's and the season's figures per school and class as a table and a chart;
the class sign-off sheet (PDF), a class roster with each student's receipt, and the CSV export.

Reading a class's names and photos is audited by the store (a roster is a "view", a sheet a
"signoff", a receipt a "receipt"); the read runs on the store lane, the pages are drawn on a work
lane (50 students with photos take about half a second: the desk's preview must not stall) and
written straight to the chosen file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from station.admin.reports import FIGURE_LABELS, Reports
from station.domain.progress import FIGURE_NAMES
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.ui.admin.chart import ProgressChart
from station.ui.admin.widgets import MessageLine, choose_save_path, fill, selected_row, table
from station.ui.documents.receipt import write_receipt_pdf
from station.ui.documents.signoff import write_signoff_pdf

PathChooser = Callable[[QWidget, Text, str, str], Path | None]


class RosterDialog(QDialog):
    """A class's students (name, masked ID number, state, registration number); a receipt for one."""

    def __init__(self, panel: ReportsPanel, sheet) -> None:  # type: ignore[no-untyped-def]
        super().__init__(panel)
        header = sheet.header
        self.panel, self.sheet = panel, sheet
        self.setWindowTitle(f"{header.school_name} {header.class_no} {Text('班', 'class')}")
        self.table = table([Text("序号", "No."), Text("姓名", "Name"), Text("身份证号", "ID number"),
                            Text("状态", "State"), Text("考籍号", "Reg. number")])  # fmt: skip
        fill(self.table, [(l.number, l.name, l.masked_id, l.state, l.reg_no_text) for l in sheet.lines])  # noqa: E741
        self.receipt_button = QPushButton(str(Text("打印回执…", "Receipt…")))
        self.receipt_button.clicked.connect(self.receipt)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.receipt_button)
        self.resize(720, 480)

    def receipt(self) -> None:
        row = selected_row(self.table)
        if row is not None:
            self.panel.write_receipt(self.sheet.lines[row].student_id)


class ReportsPanel(QWidget):
    def __init__(self, app, acting: str, ops: BackgroundOps, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.reports = Reports(app, acting)
        self.ops = ops
        self.progress = None
        self.choose_path: PathChooser = choose_save_path
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.chart = ProgressChart()
        chart_area = QScrollArea()
        chart_area.setWidget(self.chart)
        chart_area.setWidgetResizable(True)
        chart_area.setMaximumHeight(220)
        self.table = table(
            [Text("学校", "School"), Text("班级", "Class")]
            + [Text(f"{FIGURE_LABELS[n].zh}（今日）", f"{FIGURE_LABELS[n].en} (today)") if n != "approved"
               else FIGURE_LABELS[n] for n in FIGURE_NAMES]
        )  # fmt: skip
        self.message = MessageLine()
        self.refresh_button = QPushButton(str(Text("刷新", "Refresh")))
        self.signoff_button = QPushButton(str(Text("打印签字表…", "Sign-off sheet…")))
        self.roster_button = QPushButton(str(Text("班级名单与回执…", "Class roster…")))
        self.export_button = QPushButton(str(Text("导出统计（CSV）…", "Export figures (CSV)…")))
        self.refresh_button.clicked.connect(self.refresh)
        self.signoff_button.clicked.connect(self.signoff)
        self.roster_button.clicked.connect(self.roster)
        self.export_button.clicked.connect(self.export)
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.signoff_button, self.roster_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(chart_area)
        layout.addLayout(buttons)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.message)
        self.refresh()

    def refresh(self) -> None:
        self.progress = progress = self.reports.progress()
        season, today = progress.season, progress.today
        self.summary.setText(
            str(
                Text(
                    "{d}　今日采集 {tc} 人、注册 {tr} 人；本季审核通过 {a} 人，已采集 {c} 人，已注册 {r} 人，被退回 {x} 人。",
                    "{d}: today {tc} captured, {tr} registered; season {a} approved, {c} captured, {r} registered, "
                    "{x} rejected.",
                ).format(
                    d=progress.day.isoformat(), tc=today.captured, tr=today.registered, a=season.approved,
                    c=season.captured, r=season.registered, x=season.rejected,
                )
            )
        )  # fmt: skip
        self.chart.set_rows([(row.school_name, row.season.as_dict()) for row in progress.schools()])
        fill(
            self.table,
            [
                [row.school_name, row.class_no]
                + [
                    getattr(row.season, n)
                    if n == "approved"
                    else f"{getattr(row.season, n)}（+{getattr(row.today, n)}）"
                    for n in FIGURE_NAMES
                ]
                for row in progress.classes
            ],
        )

    def selected_class(self) -> tuple[str, str] | None:
        row = selected_row(self.table)
        if row is None or self.progress is None:
            self.message.say(Text("请先在表中选中一个班级。", "Select a class in the table first."), "warn")
            return None
        chosen = self.progress.classes[row]
        return chosen.school_code, chosen.class_no

    def select_class(self, school_code: str, class_no: str) -> None:
        for row, found in enumerate(self.progress.classes if self.progress else []):
            if (found.school_code, found.class_no) == (school_code, class_no):
                self.table.selectRow(row)

    def signoff(self) -> None:
        chosen = self.selected_class()
        if chosen is None:
            return
        path = self.choose_path(self, Text("保存签字表", "Save the sign-off sheet"),
                                f"签字表-{chosen[0]}-{chosen[1]}.pdf", "PDF (*.pdf)")  # fmt: skip
        if path is None:
            return

        def written(sheet) -> None:  # type: ignore[no-untyped-def]
            self.message.say(
                Text(
                    "已保存签字表：{f}（{n} 人，已注册 {r} 人）", "Saved {f} ({n} students, {r} registered)"
                ).format(f=path, n=len(sheet.lines), r=sheet.registered),
                "ok",
            )

        # The read (audited) on the store lane; the pages are drawn on a worker, never on the GUI thread.
        self.ops.run(
            lambda: self.reports.signoff_sheet(*chosen),
            lane=Lane.STORE,
            on_success=lambda sheet: self._draw(
                lambda: write_signoff_pdf(sheet, path), lambda: written(sheet)
            ),
            on_failure=self.message.failed,
            label="sign-off sheet",
        )

    def _draw(self, render, done) -> None:  # type: ignore[no-untyped-def]
        self.ops.run(render, lane=Lane.WORK, on_success=lambda _size: done(), on_failure=self.message.failed,
                     label="draw PDF")  # fmt: skip

    def roster(self) -> None:
        chosen = self.selected_class()
        if chosen is None:
            return
        self.ops.run(lambda: self.reports.roster(*chosen), lane=Lane.STORE,
                     on_success=lambda sheet: RosterDialog(self, sheet).open(), on_failure=self.message.failed,
                     label="class roster")  # fmt: skip

    def write_receipt(self, student_id: str) -> None:
        path = self.choose_path(
            self, Text("保存回执", "Save the receipt"), f"回执-{student_id}.pdf", "PDF (*.pdf)"
        )
        if path is None:
            return

        def written() -> None:
            self.message.say(Text("已保存回执：{f}", "Saved the receipt: {f}").format(f=path), "ok")

        self.ops.run(
            lambda: self.reports.receipt(student_id),
            lane=Lane.STORE,
            on_success=lambda receipt: self._draw(lambda: write_receipt_pdf(receipt, path), written),
            on_failure=self.message.failed,
            label="receipt",
        )

    def export(self) -> None:
        path = self.choose_path(
            self, Text("导出统计", "Export the figures"), "考籍注册进度.csv", "CSV (*.csv)"
        )
        if path is None:
            return
        self.ops.run(
            lambda: self.reports.export_progress(path),
            lane=Lane.STORE,
            on_success=lambda rows: self.message.say(
                Text("已导出 {n} 个班级的统计：{f}", "Exported {n} classes: {f}").format(n=rows, f=path), "ok"
            ),
            on_failure=self.message.failed,
            label="export",
        )
