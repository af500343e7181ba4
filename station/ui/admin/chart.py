"""The progress chart: one horizontal bar per school — approved students as the full bar, captured
and registered drawn over it — painted with QPainter (no charting library)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.i18n import Text

SERIES = (
    ("approved", Text("审核通过", "approved"), QColor("#d9dde3")),
    ("captured", Text("已采集", "captured"), QColor("#4a7fc1")),
    ("registered", Text("已注册", "registered"), QColor("#2e9d57")),
)
BAR_HEIGHT, GAP, LABEL_WIDTH, LEGEND = 18, 8, 170, 26


class ProgressChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, dict[str, int]]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: list[tuple[str, dict[str, int]]]) -> None:
        """``rows``: (label, figures) pairs, e.g. one per school."""
        self.rows = rows
        self.setFixedHeight(LEGEND + len(rows) * (BAR_HEIGHT + GAP) + GAP)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = LABEL_WIDTH
        for _key, label, colour in SERIES:  # the legend
            painter.fillRect(QRectF(x, 6, 12, 12), colour)
            painter.setPen(QColor("#333333"))
            painter.drawText(QRectF(x + 16, 2, 90, 20), int(Qt.AlignmentFlag.AlignVCenter), str(label))
            x += 110
        widest = max((figures["approved"] for _label, figures in self.rows), default=0) or 1
        span = max(10, self.width() - LABEL_WIDTH - 70)
        y = LEGEND
        for label, figures in self.rows:
            painter.setPen(QColor("#333333"))
            painter.drawText(
                QRectF(0, y, LABEL_WIDTH - 8, BAR_HEIGHT),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
            for key, _label, colour in SERIES:
                width = span * figures[key] / widest
                painter.fillRect(QRectF(LABEL_WIDTH, y, width, BAR_HEIGHT), colour)
            total = figures["approved"]
            share = f"{figures['registered']}/{figures['captured']}/{total}"
            painter.drawText(
                QRectF(LABEL_WIDTH + span * total / widest + 6, y, 70, BAR_HEIGHT),
                int(Qt.AlignmentFlag.AlignVCenter),
                share,
            )
            y += BAR_HEIGHT + GAP
        painter.end()
