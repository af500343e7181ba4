"""The settings panel: camera (with a live preview), card reader (with a test read), photo profile and
backdrop, registry address and proxy, language, idle lock, retention and the unsynced thresholds.

Saving validates the whole configuration (``station.config``: each wrong field gets its message in
the officer's words beside it), raises the revision, writes ``config.json`` and audits the change
(``station.admin.settings``). What the running desk can take at once it takes; the panel says which
changes wait until the desk is opened again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from station import config as station_config
from station.admin.settings import EDITABLE, change_settings, editable_values
from station.config import FIELD_LABELS, ConfigError
from station.i18n import Text
from station.services.camera_feed import CameraFeed
from station.services.devices import BACKDROP_NAMES, profile_choices, reader_choices, test_read
from station.services.tasks import BackgroundOps, Lane
from station.ui.admin.widgets import MessageLine

_NUMBERS = ("idle_lock_minutes", "retention_days", "unsynced_warn_hours", "unsynced_block_hours")
_CAMERAS = ("camera:0", "camera:1", "camera:2", "sim")
_RESOLUTIONS = ("", "1280x720", "1920x1080", "2592x1944")
_READERS = ("auto", "sim")


def _combo(values, current: str, *, editable: bool = True, names: dict | None = None) -> QComboBox:  # type: ignore[no-untyped-def]
    combo = QComboBox()
    combo.setEditable(editable)
    for value in dict.fromkeys([*values, current]):
        combo.addItem(str(names[value]) if names and value in names else value, value)
    combo.setCurrentIndex(combo.findData(current))
    return combo


def _value(combo: QComboBox) -> str:
    """The chosen item's value, or what was typed into an editable box."""
    index = combo.findText(combo.currentText())
    return combo.itemData(index) if index >= 0 else combo.currentText().strip()


class SettingsPanel(QWidget):
    def __init__(
        self,
        app,  # type: ignore[no-untyped-def]
        acting: str,
        ops: BackgroundOps,
        *,
        desk_camera: CameraFeed | None = None,
        on_changed: Callable[[object], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.app, self.acting, self.ops = app, acting, ops
        self.desk_camera = desk_camera
        self.on_changed = on_changed
        self.preview_feed: CameraFeed | None = None
        self._sharing_desk_camera = False
        self._build(editable_values(app.config))

    # -- layout -------------------------------------------------------------------------------

    def _build(self, values: dict) -> None:
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        resolutions = {"": Text("自动", "automatic")}
        self.fields["camera"] = _combo(_CAMERAS, values["camera"])
        self.fields["camera_resolution"] = _combo(
            _RESOLUTIONS, values["camera_resolution"], names=resolutions
        )
        self.fields["reader"] = _combo(_READERS, values["reader"])
        self.profiles = {choice.id: choice for choice in profile_choices()}
        profile = QComboBox()
        for choice in self.profiles.values():
            profile.addItem(f"{choice.title}（{choice.id}）", choice.id)
        if profile.findData(values["photo_profile"]) < 0:
            profile.addItem(values["photo_profile"], values["photo_profile"])
        profile.setCurrentIndex(profile.findData(values["photo_profile"]))
        profile.currentIndexChanged.connect(self._fill_backdrops)
        self.fields["photo_profile"] = profile
        self.fields["backdrop"] = QComboBox()
        self._fill_backdrops()
        backdrop = self.fields["backdrop"]
        backdrop.setCurrentIndex(max(0, backdrop.findData(values["backdrop"])))
        self.fields["registry_url"] = QLineEdit(values["registry_url"])
        self.fields["registry_proxy"] = QLineEdit(values["registry_proxy"])
        self.fields["registry_proxy"].setPlaceholderText(str(Text("不用代理请留空", "empty: no proxy")))
        self.fields["language"] = _combo(("zh", "en"), values["language"], editable=False,
                                         names={"zh": "中文", "en": "English"})  # fmt: skip
        for name in _NUMBERS:
            spin = QSpinBox()
            spin.setRange(-100000, 100000)  # the settings model judges the range, in words
            spin.setValue(int(values[name]))
            self.fields[name] = spin

        self.preview = QLabel(str(Text("预览未开启", "no preview")))
        self.preview.setFixedSize(240, 180)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #222; color: #ddd")
        self.preview_button = QPushButton(str(Text("预览", "Preview")))
        self.preview_button.setCheckable(True)
        self.preview_button.toggled.connect(self.toggle_preview)
        self.find_readers_button = QPushButton(str(Text("查找读卡器", "Find readers")))
        self.find_readers_button.clicked.connect(self.find_readers)
        self.test_read_button = QPushButton(str(Text("测试读卡", "Test read")))
        self.test_read_button.clicked.connect(self.test_read)
        self.save_button = QPushButton(str(Text("保存设置", "Save settings")))
        self.save_button.clicked.connect(self.save)
        self.message = MessageLine()

        groups = (
            (Text("摄像头", "Camera"), ("camera", "camera_resolution"), (self.preview_button,)),
            (Text("读卡器", "Card reader"), ("reader",), (self.find_readers_button, self.test_read_button)),
            (Text("照片", "Photo"), ("photo_profile", "backdrop"), ()),
            (Text("登记中心", "Registry"), ("registry_url", "registry_proxy"), ()),
            (
                Text("界面与安全", "Desk and security"),
                ("language", "idle_lock_minutes", "retention_days"),
                (),
            ),
            (Text("未同步提醒", "Unsynced captures"), ("unsynced_warn_hours", "unsynced_block_hours"), ()),
        )
        column = QVBoxLayout()
        for title, names, buttons in groups:
            box = QGroupBox(str(title))
            form = QFormLayout() if names[0] == "camera" else QFormLayout(box)
            for name in names:
                error = QLabel("")
                error.setStyleSheet("color: #b00020")
                error.setWordWrap(True)
                error.hide()
                self.errors[name] = error
                cell = QVBoxLayout()
                cell.addWidget(self.fields[name])
                cell.addWidget(error)
                form.addRow(str(FIELD_LABELS[name]), cell)
            if buttons:
                row = QHBoxLayout()
                for button in buttons:
                    row.addWidget(button)
                row.addStretch(1)
                form.addRow(row)
            if names[0] == "camera":  # the live picture beside the camera's fields
                beside = QHBoxLayout()
                holder = QWidget()
                holder.setLayout(form)
                box.setLayout(beside)
                beside.addWidget(holder, stretch=1)
                beside.addWidget(self.preview)
            column.addWidget(box)
        inner = QWidget()
        inner.setLayout(column)
        self.scroll = scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, stretch=1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, stretch=1)
        bottom.addWidget(self.save_button)
        layout.addLayout(bottom)

    def _fill_backdrops(self) -> None:
        combo: QComboBox = self.fields["backdrop"]  # type: ignore[assignment]
        combo.clear()
        choice = self.profiles.get(self.fields["photo_profile"].currentData())
        default = BACKDROP_NAMES.get(choice.default_backdrop, Text("", "")) if choice else Text("", "")
        combo.addItem(str(Text("规格默认（{d}）", "profile default ({d})").format(d=default)), "")
        for name in choice.backdrops if choice else ():
            combo.addItem(str(BACKDROP_NAMES.get(name, Text(name, name))), name)

    # -- values -------------------------------------------------------------------------------

    def values(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in EDITABLE:
            widget = self.fields[name]
            if isinstance(widget, QSpinBox):
                out[name] = widget.value()
            elif isinstance(widget, QLineEdit):
                out[name] = widget.text().strip()
            elif name in ("photo_profile", "backdrop", "language"):
                out[name] = widget.currentData()  # type: ignore[union-attr]
            else:
                out[name] = _value(widget)  # type: ignore[arg-type]
        return out

    def candidate(self):  # type: ignore[no-untyped-def]
        """The configuration as the panel shows it (not saved); None, with the fields marked, if invalid."""
        self.show_problems({})
        try:
            return station_config.update(self.app.config, **self.values())
        except ConfigError as error:
            self.show_problems(error.problems)
            self.message.say(error.message, "error")
            return None

    def show_problems(self, problems: dict[str, Text]) -> None:
        for name, label in self.errors.items():
            label.setText(str(problems.get(name, "")))
            label.setVisible(name in problems)
        first = next((name for name in EDITABLE if name in problems), None)
        if first is not None:
            self.scroll.ensureWidgetVisible(self.fields[first])

    # -- actions ------------------------------------------------------------------------------

    def save(self) -> None:
        self.show_problems({})
        values = self.values()

        def saved(change) -> None:  # type: ignore[no-untyped-def]
            if not change.changed:
                self.message.say(Text("设置没有变化。", "Nothing changed."), "info")
                return
            text = Text("设置已保存（修订号 {r}）。", "Settings saved (revision {r}).").format(
                r=change.config.revision
            )
            if change.needs_reopen:
                names = [FIELD_LABELS[n] for n in change.needs_reopen]
                text = Text(
                    f"{text.zh}{'、'.join(n.zh for n in names)}在重新打开采集界面后生效。",
                    f"{text.en} {', '.join(n.en for n in names)} apply when the desk is opened again.",
                )
            self.message.say(text, "ok")
            if self.on_changed is not None:
                self.on_changed(change)

        def refused(error: BaseException) -> None:
            if isinstance(error, ConfigError):
                self.show_problems(error.problems)
            self.message.failed(error)

        self.ops.run(
            lambda: change_settings(self.app, values, acting=self.acting),
            lane=Lane.STORE,
            on_success=saved,
            on_failure=refused,
            label="save settings",
        )

    def find_readers(self) -> None:
        combo: QComboBox = self.fields["reader"]  # type: ignore[assignment]

        def found(specs: list[str]) -> None:
            for spec in specs:
                if combo.findData(spec) < 0:
                    combo.addItem(spec, spec)
            self.message.say(
                Text("找到 {n} 个读卡器。", "{n} readers found.").format(n=len(specs)),
                "ok" if specs else "warn",
            )

        self.ops.run(lambda: reader_choices(self.app), lane=Lane.WORK, on_success=found,
                     on_failure=self.message.failed, label="find readers")  # fmt: skip

    def test_read(self) -> None:
        config = self.candidate()
        if config is None:
            return
        self.test_read_button.setEnabled(False)
        self.message.say(Text("请把身份证放在读卡器上…", "Place an ID card on the reader…"))

        def done(text: Text) -> None:
            self.test_read_button.setEnabled(True)
            self.message.say(text, "info")

        def failed(error: BaseException) -> None:
            self.test_read_button.setEnabled(True)
            self.message.failed(error)

        self.ops.run(lambda: test_read(self.app, config), lane=Lane.WORK, on_success=done, on_failure=failed,
                     label="test read")  # fmt: skip

    def toggle_preview(self, on: bool) -> None:
        self.stop_preview()
        if not on:
            return
        config = self.candidate()
        if config is None:
            self.preview_button.setChecked(False)
            return
        same = (config.camera, config.camera_resolution) == (
            self.app.config.camera,
            self.app.config.camera_resolution,
        )
        if self.desk_camera is not None and same:  # the desk already shows this camera: share its frames
            self.desk_camera.frame_ready.connect(self._show_frame)
            self._sharing_desk_camera = True
            return
        self.preview_feed = CameraFeed(
            lambda deliver: self.app.capture_session(deliver, config=config), self.ops
        )
        self.preview_feed.frame_ready.connect(self._show_frame)
        self.preview_feed.state_changed.connect(self._camera_state)
        self.preview_feed.start()

    def _camera_state(self, state) -> None:  # type: ignore[no-untyped-def]
        from station.services.camera_feed import SourceState, state_message

        if state is not SourceState.OPEN:
            self.message.say(state_message(state), "warn")

    def _show_frame(self, image: QImage) -> None:
        self.preview.setPixmap(
            QPixmap.fromImage(image).scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio)
        )

    def stop_preview(self) -> None:
        if self.desk_camera is not None and self._sharing_desk_camera:
            self.desk_camera.frame_ready.disconnect(self._show_frame)
            self._sharing_desk_camera = False
        if self.preview_feed is not None:
            self.preview_feed.stop()
            self.preview_feed = None
        self.preview.clear()
        self.preview.setText(str(Text("预览未开启", "no preview")))

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.preview_button.setChecked(False)
        super().hideEvent(event)
