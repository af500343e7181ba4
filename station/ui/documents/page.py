"""Pages in millimetres: the writer (PDF in memory, or a printer), fonts, text boxes and images.

``render_pdf(path, size, draw)`` paints into a ``QPdfWriter`` over an in-memory buffer and writes
the finished bytes to ``path`` at once (a failure leaves no half-written file). ``print_pages``
paints the same pages on a ``QPrinter``. ``ensure_gui`` gives command-line callers a Qt GUI
application on the offscreen platform, which is all the painter needs (fonts come from fontconfig).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from station.errors import OfficerError
from station.i18n import Text

FONT_FAMILIES = [
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "WenQuanYi Micro Hei",
    "sans-serif",
]
RESOLUTION_DPI = 200


class DocumentError(OfficerError):
    code = "document_not_written"


def ensure_gui() -> None:
    """A QGuiApplication for painting, created offscreen when the process has none (commands)."""
    if QGuiApplication.instance() is None:
        ensure_gui.app = QGuiApplication(["station", "-platform", "offscreen"])  # type: ignore[attr-defined]


class Page:
    """Drawing on one device in millimetres from the top-left corner of the printable area."""

    def __init__(self, painter: QPainter, device: QPagedPaintDevice) -> None:
        self.painter = painter
        self.device = device
        self.scale = device.logicalDpiX() / 25.4
        rect = device.pageLayout().paintRect(QPageLayout.Unit.Millimeter)
        self.width, self.height = rect.width(), rect.height()

    def mm(self, value: float) -> float:
        return value * self.scale

    def rect(self, x: float, y: float, w: float, h: float) -> QRectF:
        return QRectF(self.mm(x), self.mm(y), self.mm(w), self.mm(h))

    def font(self, size_pt: float, *, bold: bool = False, mono: bool = False) -> None:
        font = QFont()
        font.setFamilies(
            ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"] if mono else FONT_FAMILIES
        )
        font.setPointSizeF(size_pt)
        font.setBold(bold)
        self.painter.setFont(font)

    def text(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        *,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        wrap: bool = False,
    ) -> None:
        flags = align | (Qt.TextFlag.TextWordWrap if wrap else Qt.AlignmentFlag(0))
        self.painter.drawText(self.rect(x, y, w, h), int(flags), text)

    def line(self, x1: float, y1: float, x2: float, y2: float, width_mm: float = 0.2) -> None:
        self.painter.setPen(QPen(Qt.GlobalColor.black, self.mm(width_mm)))
        self.painter.drawLine(self.rect(x1, y1, 0, 0).topLeft(), self.rect(x2, y2, 0, 0).topLeft())

    def box(self, x: float, y: float, w: float, h: float, width_mm: float = 0.2) -> None:
        self.painter.setPen(QPen(Qt.GlobalColor.black, self.mm(width_mm)))
        self.painter.setBrush(Qt.BrushStyle.NoBrush)
        self.painter.drawRect(self.rect(x, y, w, h))

    def image(self, x: float, y: float, w: float, h: float, jpeg: bytes | None) -> bool:
        """The photo scaled into the box (kept in memory only); False when there is none to draw."""
        if not jpeg:
            return False
        image = QImage.fromData(jpeg)
        if image.isNull():
            return False
        target = self.rect(x, y, w, h)
        # Down-sample to the printed size first: the PDF then carries a thumbnail, not the photo.
        thumbnail = image.scaled(
            int(target.width()), int(target.height()), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )  # fmt: skip
        offset_x = (target.width() - thumbnail.width()) / 2
        offset_y = (target.height() - thumbnail.height()) / 2
        self.painter.drawImage(int(target.x() + offset_x), int(target.y() + offset_y), thumbnail)
        return True


Draw = Callable[[QPagedPaintDevice, QPainter], None]


def _layout(device: QPagedPaintDevice, size: QPageSize.PageSizeId, margins_mm: float) -> None:
    device.setPageLayout(
        QPageLayout(
            QPageSize(size),
            QPageLayout.Orientation.Portrait,
            QMarginsF(margins_mm, margins_mm, margins_mm, margins_mm),
            QPageLayout.Unit.Millimeter,
        )
    )


def render_pdf(
    path: Path,
    draw: Draw,
    *,
    title: str,
    size: QPageSize.PageSizeId = QPageSize.PageSizeId.A4,
    margins_mm: float = 12,
) -> int:
    """Paint the document as PDF and write it to ``path``; the number of bytes written."""
    ensure_gui()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION_DPI)
    writer.setTitle(title)
    writer.setCreator("capture-station")
    _layout(writer, size, margins_mm)
    painter = QPainter(writer)
    try:
        draw(writer, painter)
    finally:
        painter.end()
        buffer.close()
    content = bytes(data.data())
    try:
        Path(path).write_bytes(content)
    except OSError:
        Path(path).unlink(missing_ok=True)
        raise DocumentError(
            Text("无法写入文件 {f}。", "Cannot write the file {f}.").format(f=path),
            fix=Text(
                "请选择可写的位置（例如 U 盘或桌面）。", "Choose a writable place (a USB stick, the desktop)."
            ),
        ) from None
    return len(content)


def print_pages(
    printer, draw: Draw, *, size: QPageSize.PageSizeId = QPageSize.PageSizeId.A4, margins_mm: float = 12
) -> None:  # type: ignore[no-untyped-def]
    """Paint the document on ``printer`` (a ``QPrinter`` the print dialog set up)."""
    _layout(printer, size, margins_mm)
    painter = QPainter(printer)
    try:
        draw(printer, painter)
    finally:
        painter.end()
