"""The status bar: reader, camera, registry link, what waits to be sent and for how long, who is
logged in, and the days left to the deadline. A device fault is shown as a state with its fix."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import QLabel, QStatusBar

from station.domain.rules import CHINA_STANDARD_TIME
from station.i18n import Text
from station.services.camera_feed import SourceState
from station.services.card_feed import ReaderLink
from station.services.sync_runner import RegistryLink
from station.ui.theme import AMBER, GREEN, GREY, RED

_READER = {
    ReaderLink.STARTING: (Text("读卡器：正在连接", "Reader: connecting"), GREY),
    ReaderLink.READY: (Text("读卡器：就绪", "Reader: ready"), GREEN),
    ReaderLink.LOST: (Text("读卡器：未连接", "Reader: not connected"), RED),
}
_CAMERA = {
    SourceState.OPEN: (Text("摄像头：正常", "Camera: working"), GREEN),
    SourceState.LOST: (Text("摄像头：断开", "Camera: disconnected"), RED),
    SourceState.CLOSED: (Text("摄像头：未打开", "Camera: not open"), GREY),
    SourceState.ENDED: (Text("摄像头：无画面", "Camera: no picture"), RED),
}
_REGISTRY = {
    RegistryLink.NOT_ENROLLED: (Text("登记中心：未注册本站", "Registry: not enrolled"), GREY),
    RegistryLink.UNKNOWN: (Text("登记中心：尚未连接", "Registry: not tried yet"), GREY),
    RegistryLink.SYNCING: (Text("登记中心：同步中…", "Registry: syncing…"), AMBER),
    RegistryLink.ONLINE: (Text("登记中心：在线", "Registry: online"), GREEN),
    RegistryLink.OFFLINE: (Text("登记中心：离线", "Registry: offline"), RED),
    RegistryLink.FAILED: (Text("登记中心：同步未完成", "Registry: sync incomplete"), AMBER),
}


def age_text(oldest_iso: str | None, now: datetime | None = None) -> Text:
    if oldest_iso is None:
        return Text("", "")
    oldest = datetime.fromisoformat(oldest_iso.replace("Z", "+00:00"))
    minutes = max(0, int(((now or datetime.now(UTC)) - oldest).total_seconds() // 60))
    if minutes < 1:
        return Text("，最早不到 1 分钟", ", oldest under a minute")
    if minutes < 120:
        return Text(f"，最早 {minutes} 分钟前", f", oldest {minutes} min")
    return Text(f"，最早 {minutes // 60} 小时前", f", oldest {minutes // 60} h")


class DeskStatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        self.setSizeGripEnabled(False)
        self.reader, self.camera, self.registry = QLabel(), QLabel(), QLabel()
        self.outbox, self.officer, self.deadline = QLabel(), QLabel(), QLabel()
        for label in (self.reader, self.camera, self.registry, self.outbox, self.officer, self.deadline):
            self.addPermanentWidget(label)
        self.set_reader(ReaderLink.STARTING)
        self.set_camera(SourceState.CLOSED)
        self.set_registry(RegistryLink.UNKNOWN)

    @staticmethod
    def _show(label: QLabel, text: Text, colour: str, detail: Text | None = None) -> None:
        label.setText(f"<span style='color:{colour}'>●</span> {text}")
        label.setToolTip(str(detail) if detail else "")

    def set_reader(self, link: ReaderLink, problem: Text | None = None) -> None:
        text, colour = _READER[link]
        self._show(self.reader, text, colour, problem)

    def set_camera(self, state: SourceState) -> None:
        text, colour = _CAMERA[state]
        self._show(self.camera, text, colour)

    def set_registry(
        self, link: RegistryLink, last_success: datetime | None = None, problem: Text | None = None
    ) -> None:
        text, colour = _REGISTRY[link]
        if link is RegistryLink.ONLINE and last_success is not None:
            at = last_success.astimezone(CHINA_STANDARD_TIME)  # the county's clock, as on the records
            text = Text(f"{text.zh}（{at:%H:%M} 已同步）", f"{text.en} (synced {at:%H:%M})")
        self._show(self.registry, text, colour, problem)

    def set_outbox(self, count: int, oldest_iso: str | None) -> None:
        age = age_text(oldest_iso) if count else Text("", "")
        colour = GREEN if count == 0 else AMBER
        self._show(self.outbox, Text(f"待同步 {count} 条{age.zh}", f"{count} to sync{age.en}"), colour)

    def set_officer(self, username: str) -> None:
        self.officer.setText(str(Text(f"采集员：{username}", f"Officer: {username}")))

    def set_days_left(self, days: int) -> None:
        if days <= 0:
            text, colour = Text("注册已截止", "Registration closed"), RED
        elif days == 1:  # the deadline day itself: "1 day left" would read as "tomorrow"
            text, colour = Text("今天截止", "Closes today"), AMBER
        elif days <= 3:
            text, colour = Text(f"距截止 {days} 天", f"{days} days left"), AMBER
        else:
            text, colour = Text(f"距截止 {days} 天", f"{days} days left"), GREEN
        self._show(self.deadline, text, colour)
