"""The card reader's and the camera's items of the health checklist: configured, found, giving a picture.

A camera probe opens the camera and reads one frame within five seconds (a driver can block); the desk
passes its own probe instead, reading its running preview, since a second opening would fail.
"""

from __future__ import annotations

import threading

from station.app import discovery_options
from station.config import Settings
from station.i18n import Text
from station.services.checkitems import CameraProbe, CheckItem, Status


def check_reader(settings: Settings) -> list[CheckItem]:
    from station.idcard.discovery import list_readers

    spec = settings.station.reader
    title = Text("身份证读卡器", "ID card reader")
    if spec.startswith("sim"):
        return [
            CheckItem(
                "reader",
                Status.WARN,
                title,
                Text("使用模拟读卡器（仅用于演示和培训）。", "Simulated reader (demo and training only)."),
                Text(
                    "正式采集前在设置中选择认证读卡器。",
                    "Choose the certified reader in the settings before real captures.",
                ),
            )
        ]
    if spec != "auto":
        return [CheckItem("reader", Status.OK, title, Text(f"已配置：{spec}", f"configured: {spec}"))]
    found = list_readers(discovery_options(settings))
    if not found:
        return [
            CheckItem(
                "reader",
                Status.FAIL,
                title,
                Text("没有找到读卡器。", "No reader found."),
                Text(
                    "检查读卡器电源和 USB 线；PC/SC 读卡器需要运行 pcscd 服务；厂商 SDK 读卡器需在设置中填写库文件路径。",
                    "Check the reader's power and USB cable; PC/SC readers need the pcscd service; vendor-SDK readers "
                    "need the library path in the settings.",
                ),
            )
        ]
    names = ", ".join(info.spec for info in found)
    return [
        CheckItem(
            "reader", Status.OK, title, Text(f"找到 {len(found)} 个：{names}", f"{len(found)} found: {names}")
        )
    ]


CAMERA_FIX = Text(
    "检查摄像头连接，关闭占用摄像头的其他程序，或在设置中选择正确的摄像头。",
    "Check the camera's cable, close other programs using it, or choose the right camera in the settings.",
)


def probe_camera(settings: Settings) -> tuple[Status, Text]:
    """Open the configured camera, read one frame, close it (at most 5 s: a driver may block)."""
    from station.camera.errors import CameraError
    from station.camera.opening import open_source

    spec = settings.station.camera
    frames: list = []
    errors: list = []

    def grab() -> None:
        try:
            source = open_source(spec)
            try:
                source.open()
                frames.append(source.read())
            finally:
                source.close()
        except CameraError as error:
            errors.append(error)

    worker = threading.Thread(target=grab, daemon=True)
    worker.start()
    worker.join(5.0)
    if frames and frames[0] is not None:
        height, width = frames[0].shape[:2]
        return Status.OK, Text(f"{spec}：{width}×{height}", f"{spec}: {width}×{height}")
    if errors:
        return Status.FAIL, errors[0].message
    return Status.FAIL, Text(f"摄像头 {spec} 没有画面。", f"The camera {spec} gives no picture.")


def check_camera(settings: Settings, probe: CameraProbe | None = None) -> list[CheckItem]:
    spec = settings.station.camera
    title = Text("摄像头", "camera")
    if spec.startswith("sim"):
        return [
            CheckItem(
                "camera",
                Status.WARN,
                title,
                Text("使用模拟摄像头（仅用于演示和培训）。", "Simulated camera (demo and training only)."),
                Text(
                    "正式采集前在设置中选择摄像头。",
                    "Choose the camera in the settings before real captures.",
                ),
            )
        ]
    status, detail = (probe or probe_camera)(settings)
    return [CheckItem("camera", status, title, detail, CAMERA_FIX if status is not Status.OK else None)]
