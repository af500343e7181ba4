"""The recovery-code sheet of the first run: the code in large type and what it is for, to print or
save once and hand to the county administrator. The code is never stored by the station."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPagedPaintDevice, QPainter

from station.i18n import Text
from station.ui.documents.page import Page, render_pdf

TITLE = Text("采集站数据库恢复码", "Station database recovery code")
INSTRUCTIONS = Text(
    "此恢复码是找回本站加密数据库密钥的唯一办法：电脑故障、重装系统或密钥丢失时，只有它能找回尚未同步的采集记录。"
    "请交旗县管理员锁柜保管；不要拍照，不要保存在本机，不要通过网络发送。",
    "This code is the only way to recover the station's database key: after a hardware fault, a reinstall or a "
    "lost key, only it brings back captures not yet synced. Keep it locked away with the county administrator; "
    "do not photograph it, keep it on this computer or send it over a network.",
)


def draw_recovery(
    code: str, station: str, created: str, device: QPagedPaintDevice, painter: QPainter
) -> None:
    page = Page(painter, device)
    page.font(18, bold=True)
    page.text(0, 0, page.width, 14, str(TITLE), align=Qt.AlignmentFlag.AlignCenter)
    page.font(11)
    page.text(0, 18, page.width, 8, str(Text("采集站：{s}    设置时间：{t}", "Station: {s}    Set up: {t}").format(
        s=station, t=created)), align=Qt.AlignmentFlag.AlignCenter)  # fmt: skip
    page.box(10, 34, page.width - 20, 26, 0.5)
    page.font(20, bold=True, mono=True)
    page.text(10, 34, page.width - 20, 26, code, align=Qt.AlignmentFlag.AlignCenter)
    page.font(11)
    page.text(10, 68, page.width - 20, 40, str(INSTRUCTIONS), wrap=True)
    page.text(10, 116, page.width - 20, 8, str(Text("保管人签字：________________    日期：____________",
                                                    "Kept by: ________________    Date: ____________")))  # fmt: skip


def write_recovery_pdf(code: str, station: str, created: str, path: Path) -> int:
    return render_pdf(
        path, lambda device, painter: draw_recovery(code, station, created, device, painter), title=str(TITLE)
    )
