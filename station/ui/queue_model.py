"""The county queue as a Qt table model, and the filter the officer types into.

Columns: name, ID number (only its last six digits shown), school, class, status. The current
student's row is highlighted. ``QueueFilter`` keeps the rows whose name, full ID number, school or
class contain what was typed (so the last six digits find a student) and whose status matches the
chosen filter; sorting is by any column.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from station.domain.students import STATUS_NAMES, Student, StudentStatus
from station.i18n import Text

COLUMNS = (
    Text("姓名", "Name"),
    Text("证件号后六位", "ID (last 6)"),
    Text("学校", "School"),
    Text("班级", "Class"),
    Text("状态", "Status"),
)
STUDENT_ROLE = Qt.ItemDataRole.UserRole + 1

# The status filter's choices: (label, statuses kept; None keeps all).
STATUS_FILTERS: tuple[tuple[Text, frozenset[str] | None], ...] = (
    (Text("全部", "All"), None),
    (Text("待采集", "To capture"), frozenset({StudentStatus.APPROVED})),
    (Text("已采集", "Captured"), frozenset({StudentStatus.CAPTURED})),
    (Text("已注册", "Registered"), frozenset({StudentStatus.REGISTERED, StudentStatus.CAPTURED_AT_ZHONGKAO})),
    (
        Text("不能采集", "Not capturable"),
        frozenset(
            {
                StudentStatus.PENDING,
                StudentStatus.WITHDRAWN,
                StudentStatus.TRANSFERRED,
                StudentStatus.SUSPENDED,
            }
        ),
    ),
)


def masked_id(national_id: str) -> str:
    return "…" + national_id[-6:] if len(national_id) > 6 else national_id


class QueueModel(QAbstractTableModel):
    def __init__(self, students: list[Student] | None = None) -> None:
        super().__init__()
        self._students = students or []
        self._rows = {s.student_id: i for i, s in enumerate(self._students)}
        self.current_student_id: str | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    def set_students(self, students: list[Student]) -> None:
        self.beginResetModel()
        self._students = students
        self._rows = {s.student_id: i for i, s in enumerate(students)}
        self.endResetModel()

    def set_current(self, student_id: str | None) -> None:
        if student_id == self.current_student_id:
            return
        rows = [self.row_of(sid) for sid in (self.current_student_id, student_id) if sid is not None]
        self.current_student_id = student_id
        # Only the two rows, and only their look: the sorted, filtered view need not re-sort for this.
        roles = [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.FontRole]
        for row in rows:
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1), roles)

    def student_at(self, row: int) -> Student:
        return self._students[row]

    def row_of(self, student_id: str) -> int | None:
        return self._rows.get(student_id)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._students)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return str(COLUMNS[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        student = self._students[index.row()]
        if role == STUDENT_ROLE:
            return student
        current = student.student_id == self.current_student_id
        if role == Qt.ItemDataRole.BackgroundRole and current:
            return QBrush(QColor("#fff2b3"))
        if role == Qt.ItemDataRole.FontRole and current:
            return self._bold
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            student.name,
            masked_id(student.national_id),
            student.school_name,
            student.class_no,
            str(STATUS_NAMES.get(student.status, Text(student.status, student.status))),
        )[index.column()]


class QueueFilter(QSortFilterProxyModel):
    """Search as you type (name, ID number or its last six digits, school, class) and a status filter."""

    def __init__(self) -> None:
        super().__init__()
        self._needle = ""
        self._statuses: frozenset[str] | None = None
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_search(self, text: str) -> None:
        self._needle = "".join(text.split()).upper()
        self.invalidateFilter()

    def set_statuses(self, statuses: frozenset[str] | None) -> None:
        self._statuses = statuses
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        model = self.sourceModel()
        student: Student = model.data(model.index(row, 0, parent), STUDENT_ROLE)
        if self._statuses is not None and str(student.status) not in self._statuses:
            return False
        if not self._needle:
            return True
        haystack = (student.name, student.national_id.upper(), student.school_name, student.class_no)
        return any(self._needle in value for value in haystack)
