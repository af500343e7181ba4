"""Records of today: each capture at this desk with its state, as the officer needs to act on it.

saved (waiting to be sent) → sent (waiting for the answer) → registered with its 11-digit number, or
returned with the reason and what to do (for ID_MISMATCH the fields, for ALREADY_REGISTERED the
school holding the registration: kept as structured fields in the outbox). Names come from the
queue; the records themselves carry no personal data to this view.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from station.i18n import Text
from station.syncing.messages import rejection_sentence
from station.ui.theme import AMBER, BLUE, GREEN, GREY, RED

COLUMNS = (
    Text("时间", "Time"),
    Text("姓名", "Name"),
    Text("状态", "State"),
    Text("考籍号 / 说明", "Number / note"),
)

STATES = {
    "pending": (Text("已保存，待发送", "saved, to send"), GREY),
    "inflight": (Text("已发送，待回复", "sent, awaiting answer"), BLUE),
    "accepted": (Text("已注册", "registered"), GREEN),
    "rejected": (Text("被退回", "returned"), RED),
    "conflict": (Text("冲突，请联系技术支持", "conflict: call IT support"), AMBER),
}


@dataclass(frozen=True)
class RecordLine:
    record_id: str
    time: str  # HH:MM, China time
    name: str
    school_class: str
    state: str
    note: str


def line_for(summary, result: dict | None, students: dict, time_text: str) -> RecordLine:  # type: ignore[no-untyped-def]
    student = students.get(summary.student_id)
    note = ""
    if summary.state == "accepted":
        note = summary.reg_no or ""
    elif summary.state == "rejected":
        note = str(rejection_sentence(result))
    elif summary.state == "pending":
        note = str(Text("考籍号待同步后发放", "number after sync"))
    return RecordLine(
        summary.record_id,
        time_text,
        student.name if student else "—",
        f"{student.school_name} {student.class_no}班" if student else "",
        summary.state,
        note,
    )


class RecordsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[RecordLine] = []

    def set_lines(self, lines: list[RecordLine]) -> None:
        self.beginResetModel()
        self.lines = lines
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return str(COLUMNS[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        label, colour = STATES.get(line.state, (Text(line.state, line.state), GREY))
        if role == Qt.ItemDataRole.ForegroundRole and index.column() in (2, 3):
            return QBrush(QColor(colour))
        if role == Qt.ItemDataRole.ToolTipRole:
            return line.school_class if index.column() == 1 else line.note
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (line.time, line.name, str(label), line.note)[index.column()]


class RecordsView(QTableView):
    def __init__(self) -> None:
        super().__init__()
        self.model_ = RecordsModel()
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()  # fixed widths: see QueuePanel
        metrics = self.fontMetrics()
        for column, sample in ((0, "00:00 "), (1, "乌云其其格 "), (2, "已发送，待回复 ")):
            self.setColumnWidth(column, metrics.horizontalAdvance(sample) + 12)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
