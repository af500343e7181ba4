"""The county queue as a Qt table model: school, class, name, sex, status."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from station.domain.students import STATUS_NAMES, Student
from station.i18n import Text

COLUMNS = (
    Text("学校", "School"),
    Text("班级", "Class"),
    Text("姓名", "Name"),
    Text("性别", "Sex"),
    Text("状态", "Status"),
)


class QueueModel(QAbstractTableModel):
    def __init__(self, students: list[Student] | None = None) -> None:
        super().__init__()
        self._students = students or []

    def set_students(self, students: list[Student]) -> None:
        self.beginResetModel()
        self._students = students
        self.endResetModel()

    def student_at(self, row: int) -> Student:
        return self._students[row]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._students)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return str(COLUMNS[section])
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        student = self._students[index.row()]
        return (
            student.school_name,
            student.class_no,
            student.name,
            student.sex_name,
            str(STATUS_NAMES.get(student.status, Text(student.status, student.status))),
        )[index.column()]
