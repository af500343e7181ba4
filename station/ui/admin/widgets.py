"""Small pieces the administration panels share: a message line, tables, file choosers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from station.errors import OfficerError
from station.i18n import Text

COLOURS = {"ok": "#1b7f3b", "info": "#333333", "warn": "#a86400", "error": "#b00020"}


class MessageLine(QLabel):
    """One line under a panel saying what just happened, coloured by how it went."""

    def __init__(self) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def say(self, text: Text | str, level: str = "info") -> None:
        self.setStyleSheet(f"color: {COLOURS.get(level, COLOURS['info'])}")
        self.setText(str(text))

    def failed(self, error: BaseException) -> None:
        """A background operation failed: its sentence when it is an officer's error."""
        if isinstance(error, OfficerError):
            self.say(error.sentence(), "error")
        else:
            self.say(
                Text("操作未能完成，已记录错误报告。", "The operation failed; an error report was written."),
                "error",
            )


def table(headers: Sequence[Text]) -> QTableWidget:
    widget = QTableWidget(0, len(headers))
    widget.setHorizontalHeaderLabels([str(h) for h in headers])
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.verticalHeader().setVisible(False)
    widget.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    widget.horizontalHeader().setStretchLastSection(True)
    return widget


def fill(
    widget: QTableWidget, rows: Sequence[Sequence[object]], *, colours: Sequence[str | None] | None = None
) -> None:
    widget.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            if colours is not None and colours[r]:
                item.setForeground(QColor(colours[r]))
            widget.setItem(r, c, item)


def selected_row(widget: QTableWidget) -> int | None:
    rows = widget.selectionModel().selectedRows()
    return rows[0].row() if rows else None


def choose_save_path(parent: QWidget, title: Text, suggested: str, file_filter: str) -> Path | None:
    """Ask where to save (the panels hold this as an attribute, so a test can answer instead)."""
    chosen, _ = QFileDialog.getSaveFileName(parent, str(title), str(Path.home() / suggested), file_filter)
    return Path(chosen) if chosen else None
