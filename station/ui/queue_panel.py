"""The queue panel: search as you type (F3), a status filter, a sortable table, the current student.

Enter on a row asks to open that student without a readable card (``open_requested``): the
unreadable-card path with a county administrator's sign-off. Esc in the search box clears it and
gives the keyboard back to the desk (``done``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from station.domain.students import Student
from station.i18n import Text
from station.ui.queue_model import STATUS_FILTERS, STUDENT_ROLE, QueueFilter, QueueModel


class QueuePanel(QWidget):
    open_requested = Signal(object)  # Student
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.model = QueueModel()
        self.proxy = QueueFilter()
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(
            str(
                Text(
                    "F3 搜索：姓名、身份证号或后六位、学校、班级",
                    "F3 search: name, ID or last 6, school, class",
                )
            )
        )
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.status = QComboBox()
        self.status.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for label, statuses in STATUS_FILTERS:
            self.status.addItem(str(label), statuses)
        self.status.currentIndexChanged.connect(lambda i: self.proxy.set_statuses(self.status.itemData(i)))
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        # Widths from the font, set once: "resize to contents" re-measures every row on every change,
        # which on a county's queue stalls the window each time the current student moves.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = self.table.fontMetrics()
        for column, sample in ((0, "乌云其其格 "), (1, "证件号后六位 "), (3, "班级 "), (4, "中考已采集 ")):
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 12)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._activated)
        self.search.installEventFilter(self)
        self.table.installEventFilter(self)
        top = QHBoxLayout()
        top.addWidget(self.search, stretch=1)
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, stretch=1)

    def set_students(self, students: list[Student]) -> None:
        self.model.set_students(students)

    def set_current(self, student_id: str | None) -> None:
        self.model.set_current(student_id)
        row = self.model.row_of(student_id) if student_id else None
        if row is not None:
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                self.table.scrollTo(index)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def visible_students(self) -> list[Student]:
        return [self.proxy.index(r, 0).data(STUDENT_ROLE) for r in range(self.proxy.rowCount())]

    def _activated(self, index) -> None:  # type: ignore[no-untyped-def]
        student = index.data(STUDENT_ROLE)
        if student is not None:
            self.open_requested.emit(student)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        key = event.key()  # type: ignore[attr-defined]
        if watched is self.search:
            if key == Qt.Key.Key_Escape:
                self.search.clear()
                self.done.emit()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.proxy.rowCount():
                self.table.setFocus()
                self.table.selectRow(0)
                self.table.setCurrentIndex(self.proxy.index(0, 0))
                return True
        elif watched is self.table:
            if key == Qt.Key.Key_Space:  # Space is always the desk's capture key, never "select row"
                QApplication.sendEvent(self.window(), event)
                return True
            if key == Qt.Key.Key_Escape:
                self.done.emit()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                index = self.table.currentIndex()
                if index.isValid():
                    self._activated(index)
                return True  # never also "Enter = save" on the desk
        return False
