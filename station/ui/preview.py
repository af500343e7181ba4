"""The live preview with the profile's face guide, and the photo views (chip photo, captured photo).

``PreviewView`` paints the newest camera frame scaled into its box and, over it, the active profile's
guide: the output frame's outline, the face oval, the eye line and the crown and chin lines (green
when the framing check passes, amber when it does not, grey while no face is found). When the camera
is lost the picture is withdrawn and the view says so: a frozen frame never stays on screen. A large
countdown shows while a newly seated face settles.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.capture.panels import FaceGuide
from station.i18n import Text
from station.ui.theme import AMBER, GREEN, GREY

NO_PICTURE = Text("正在打开摄像头…", "Opening the camera…")


class PreviewView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("preview")
        self.setMinimumSize(QSize(400, 260))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.guide: FaceGuide | None = None
        self.framing_ok: bool | None = None
        self.countdown: int | None = None
        self.notice: Text | None = NO_PICTURE
        self.painted = 0
        self.on_resized = None  # called with the width frames should be delivered at

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if self.on_resized is not None:
            self.on_resized(int(self.width() * self.devicePixelRatioF()))

    def show_frame(self, image: QImage) -> None:
        self.image = image
        self.notice = None
        self.update()

    def withdraw(self, notice: Text) -> None:
        """No current picture: show ``notice`` instead of the last frame."""
        self.image = None
        self.notice = notice
        self.update()

    def set_guide(self, guide: FaceGuide | None) -> None:
        self.guide = guide
        self.update()

    def set_framing(self, framing_ok: bool | None) -> None:
        if framing_ok != self.framing_ok:
            self.framing_ok = framing_ok
            self.update()

    def set_countdown(self, seconds: int | None) -> None:
        if seconds != self.countdown:
            self.countdown = seconds
            self.update()

    def image_rect(self) -> QRectF:
        """Where the frame is drawn: scaled to fit, centred."""
        if self.image is None or self.image.isNull():
            return QRectF(self.rect())
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        width, height = self.image.width() * scale, self.image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def paintEvent(self, _event) -> None:  # type: ignore[no-untyped-def]
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202124"))
        if self.image is not None and not self.image.isNull():
            target = self.image_rect()
            painter.drawImage(target, self.image)
            if self.guide is not None:
                self._draw_guide(painter, target)
            self.painted += 1
        if self.notice is not None:
            painter.setPen(QColor("white"))
            font = QFont(self.font())
            font.setPointSize(15)
            font.setBold(True)
            painter.setFont(font)
            painter.drawText(
                self.rect().adjusted(20, 20, -20, -20),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                str(self.notice),
            )
        if self.countdown is not None and self.image is not None:
            font = QFont(self.font())
            font.setPointSize(48)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor(AMBER))
            painter.drawText(
                self.rect().adjusted(0, 10, -20, 0),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                str(self.countdown),
            )
        painter.end()

    def _draw_guide(self, painter: QPainter, target: QRectF) -> None:
        guide = self.guide
        assert guide is not None
        colour = {True: GREEN, False: AMBER, None: GREY}[self.framing_ok]
        height = target.height()
        width = height * guide.aspect
        frame = QRectF(target.center().x() - width / 2, target.top(), width, height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(QColor(colour))
        pen.setWidth(2)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(frame)
        x = frame.left() + guide.centre_x * frame.width()
        crown = frame.top() + guide.crown_y * frame.height()
        eyes = frame.top() + guide.eye_y * frame.height()
        chin = frame.top() + guide.chin_y * frame.height()
        face = guide.face_width * frame.width()
        pen.setStyle(Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        painter.drawEllipse(QRectF(x - face / 2, crown, face, chin - crown))
        pen.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(pen)
        for y in (crown, eyes, chin):
            painter.drawLine(int(frame.left()), int(y), int(frame.right()), int(y))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)


class PhotoView(QWidget):
    """A still photo (BMP or JPEG bytes) above its caption; a reason in place of a missing photo."""

    def __init__(self, caption: Text, size: QSize) -> None:
        super().__init__()
        self._size = size
        self.picture = QLabel()
        self.picture.setFixedSize(size)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #e8eaed; color: #5f6368;")
        self.picture.setWordWrap(True)
        self.caption = QLabel(str(caption))
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picture, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        layout.addStretch(1)

    def show_bytes(self, data: bytes | None, missing: Text | None = None) -> bool:
        """Show the photo; False (and ``missing`` as text) when there is none or it cannot be read."""
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data):
            self.picture.setPixmap(
                pixmap.scaled(
                    self._size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
            return True
        self.picture.clear()
        self.picture.setText(str(missing) if missing else "")
        return False

    def has_photo(self) -> bool:
        pixmap = self.picture.pixmap()
        return pixmap is not None and not pixmap.isNull()
