"""The desk's information panels: photo guidance, the student side by side, a refusal, the review.

* ``GuidancePanel`` -- one primary instruction in large type (the check to act on first), the full
  list of checks folded away behind a toggle; sentences only, never a check's internal name;
* ``StudentPanel`` -- chip and pre-registration field by field, differences highlighted;
* ``RefusalPanel`` -- a refusal as a prominent panel: what, why, what the student must do next, and
  the code in small print;
* ``ReviewPanel`` -- the captured photo beside the chip photo, with the keys that act on it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from station.capture.guidance import Refusal
from station.capture.panels import FieldRow, identity_rows
from station.i18n import Text
from station.services.camera_feed import LiveGuidance
from station.ui.preview import PhotoView
from station.ui.theme import RED, STATUS_COLOURS, STATUS_MARKS

CHIP_PHOTO_SIZE = QSize(102, 126)


class GuidancePanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.instruction = QLabel("—")
        self.instruction.setObjectName("instruction")
        self.instruction.setWordWrap(True)
        self.toggle = QToolButton()
        self.toggle.setText(str(Text("全部检查项 ▸", "All checks ▸")))
        self.toggle.setCheckable(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.toggle.toggled.connect(self._fold)
        self.details = QListWidget()
        self.details.setObjectName("guidance")
        self.details.setWordWrap(True)
        self.details.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.details.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.instruction, stretch=1)
        top.addWidget(self.toggle, alignment=Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.details)

    def show_guidance(self, guidance: LiveGuidance) -> None:
        primary = guidance.primary
        self.instruction.setText(f"{STATUS_MARKS[primary.status]} {primary.text}")
        self.instruction.setStyleSheet(f"color: {STATUS_COLOURS[primary.status]}")
        if self.details.isVisible():
            self._fill(guidance)
        self._latest = guidance

    def clear(self, notice: Text | None = None) -> None:
        """No current analysis: no checks at all (never a stale green tick)."""
        self._latest = None
        self.instruction.setText(str(notice) if notice else "—")
        self.instruction.setStyleSheet(f"color: {STATUS_COLOURS['skipped']}")
        self.details.clear()

    def _fold(self, unfolded: bool) -> None:
        self.toggle.setText(
            str(Text("全部检查项 ▾", "All checks ▾") if unfolded else Text("全部检查项 ▸", "All checks ▸"))
        )
        self.details.setVisible(unfolded)
        if unfolded and getattr(self, "_latest", None) is not None:
            self._fill(self._latest)

    def _fill(self, guidance: LiveGuidance) -> None:
        self.details.clear()
        order = {"fail": 0, "warn": 1, "pass": 2}
        for line in sorted(guidance.checks, key=lambda c: order.get(c.status, 3)):
            item = QListWidgetItem(f"{STATUS_MARKS[line.status]} {line.message}")
            item.setForeground(QColor(STATUS_COLOURS[line.status]))
            self.details.addItem(item)


class StudentPanel(QGroupBox):
    """Chip and pre-registration side by side; a differing field in red on both sides."""

    def __init__(self) -> None:
        super().__init__(str(Text("学生信息", "Student")))
        self.grid = QGridLayout(self)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(3)
        for column, title in enumerate(
            (Text("", ""), Text("身份证芯片", "ID card chip"), Text("预注册信息", "Pre-registration"))
        ):
            header = QLabel(str(title))
            header.setStyleSheet("font-weight: bold; color: #5f6368")
            self.grid.addWidget(header, 0, column)
        self.cells: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        for row, field in enumerate(identity_rows(None, None), start=1):
            labels = (QLabel(str(field.label)), QLabel("—"), QLabel("—"))
            for column, label in enumerate(labels):
                label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
                self.grid.addWidget(label, row, column)
            self.cells[field.label.en] = labels
        self.validity = QLabel("")
        self.validity.setObjectName("small_print")
        self.grid.addWidget(self.validity, len(self.cells) + 1, 0, 1, 3)

    def show_rows(self, rows: list[FieldRow], validity: str) -> None:
        for field in rows:
            label, chip, queue = self.cells[field.label.en]
            chip.setText(field.chip)
            queue.setText(field.queue)
            style = f"color: {RED}; font-weight: bold" if field.differs else ""
            for cell in (label, chip, queue):
                cell.setStyleSheet(style)
        self.validity.setText(str(Text("证件有效期：", "Valid: ")) + validity if validity else "")

    def value(self, english_label: str, side: int) -> str:
        """The text shown in a cell (tests): side 1 chip, 2 pre-registration."""
        return self.cells[english_label][side].text()

    def differs(self, english_label: str) -> bool:
        return "font-weight: bold" in self.cells[english_label][1].styleSheet()


class RefusalPanel(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("refusal")
        self.title = QLabel()
        self.title.setObjectName("refusal_title")
        self.title.setWordWrap(True)
        self.reasons = QLabel()
        self.reasons.setObjectName("refusal_reason")
        self.reasons.setWordWrap(True)
        self.next_step = QLabel()
        self.next_step.setObjectName("refusal_next")
        self.next_step.setWordWrap(True)
        self.hint = QLabel(
            str(Text("放下一张身份证，或按 Esc 清空。", "Place the next card, or press Esc to clear."))
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(self.title)
        layout.addSpacing(8)
        layout.addWidget(self.reasons)
        layout.addSpacing(12)
        layout.addWidget(self.next_step)
        layout.addStretch(1)
        layout.addWidget(self.hint)

    def show_refusal(self, refusal: Refusal) -> None:
        self.title.setText(f"✘ {refusal.title}")
        self.reasons.setText("\n".join(str(reason) for reason in refusal.reasons))
        self.next_step.setText(str(Text("学生需要：", "The student must: ")) + str(refusal.next_step))


class ReviewPanel(QWidget):
    """The captured photo beside the chip photo (when a decoder shows it), in review."""

    def __init__(self) -> None:
        super().__init__()
        self.captured = PhotoView(Text("本次采集照片", "Photo taken now"), QSize(270, 360))
        self.chip = PhotoView(Text("身份证芯片照片", "Chip photo"), CHIP_PHOTO_SIZE * 2)
        self.chip.setVisible(False)
        self.hint = QLabel(
            str(
                Text(
                    "确认是本人、照片清晰：按 Enter 保存；按 Esc 重拍。",
                    "Same person, clear photo: Enter saves; Esc retakes.",
                )
            )
        )
        self.hint.setObjectName("instruction")
        self.hint.setWordWrap(True)
        photos = QHBoxLayout()
        photos.addStretch(1)
        photos.addWidget(self.captured, alignment=Qt.AlignmentFlag.AlignTop)
        photos.addSpacing(24)
        photos.addWidget(self.chip, alignment=Qt.AlignmentFlag.AlignTop)
        photos.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(photos)
        layout.addStretch(1)
        layout.addWidget(self.hint)

    def show_chip(self, bmp: bytes | None, missing: Text | None) -> None:
        """The chip photo beside the capture; hidden when no decoder shows chip photos at this desk."""
        self.chip.setVisible(bmp is not None or missing is not None)
        self.chip.show_bytes(bmp, missing)
