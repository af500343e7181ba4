"""``station doctor``: the station's health as a checklist, each item with a plain-language fix.

Each check is a small function returning a ``CheckItem``; a check that itself fails unexpectedly is
reported as a failing item (with the error's type, never personal data) rather than crashing the
checklist, because doctor is what an administrator runs when something is already wrong.
Exit status: 0 when nothing needs attention, 1 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from station.commands.output import print_json
from station.config import Settings
from station.domain import rules
from station.i18n import Text

# A clock earlier than this build cannot be right; capture times would be wrong and deadlines misjudged.
EARLIEST_PLAUSIBLE = datetime(2026, 1, 1, tzinfo=UTC)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckItem:
    name: str
    status: Status
    title: Text
    detail: Text
    fix: Text | None = None


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check the station's health / 采集站自检")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)


def checks() -> list[Callable[[Settings], list[CheckItem]]]:
    """Every check in the order an administrator would work through them."""
    return [check_configuration, check_database, check_clock, check_deadline, *_device_checks()]


def run(args, ctx) -> int:
    items: list[CheckItem] = []
    for check in checks():
        try:
            items.extend(check(ctx.settings))
        except Exception as error:  # doctor must finish its list whatever one check does
            items.append(
                CheckItem(
                    check.__name__.removeprefix("check_"),
                    Status.FAIL,
                    Text("检查出错", "check failed"),
                    Text(
                        f"检查本身出错：{type(error).__name__}",
                        f"the check itself failed: {type(error).__name__}",
                    ),
                    Text("请将此输出发给省级技术支持。", "Send this output to provincial IT support."),
                )
            )
    healthy = all(item.status is not Status.FAIL for item in items)
    if args.json:
        print_json(
            {
                "healthy": healthy,
                "items": [
                    {
                        "name": i.name,
                        "status": str(i.status),
                        "title": str(i.title),
                        "detail": str(i.detail),
                        "fix": str(i.fix) if i.fix else None,
                    }
                    for i in items
                ],
            }
        )
    else:
        marks = {Status.OK: "✔", Status.WARN: "!", Status.FAIL: "✘"}
        for item in items:
            print(f"{marks[item.status]} {item.title}: {item.detail}")
            if item.fix and item.status is not Status.OK:
                print(f"    → {item.fix}")
        print(
            Text("采集站状态良好。", "The station is healthy.")
            if healthy
            else Text("有项目需要处理。", "Something needs attention.")
        )
    return 0 if healthy else 1


def check_configuration(settings: Settings) -> list[CheckItem]:
    config = settings.station
    if config.enrolled:
        return [
            CheckItem(
                "enrollment",
                Status.OK,
                Text("采集站登记", "enrollment"),
                Text(
                    f"采集站 {config.station_id}，旗县 {config.county_code6}",
                    f"station {config.station_id}, county {config.county_code6}",
                ),
            )
        ]
    return [
        CheckItem(
            "enrollment",
            Status.FAIL,
            Text("采集站登记", "enrollment"),
            Text("本机尚未登记为采集站。", "This machine is not enrolled as a capture station."),
            Text(
                "向盟市管理员索取登记文件，然后运行 station enroll 文件名。",
                "Get an enrollment file from the league administrator and run `station enroll FILE`.",
            ),
        )
    ]


def check_database(settings: Settings) -> list[CheckItem]:
    from station.app import store_health

    return [_from_store(item) for item in store_health(settings)]


def _from_store(item) -> CheckItem:
    return CheckItem(item.name, Status(str(item.status)), item.title, item.detail, item.fix)


def check_clock(settings: Settings) -> list[CheckItem]:
    now = datetime.now(UTC)
    local = now.astimezone(rules.CHINA_STANDARD_TIME)
    detail = Text(f"北京时间 {local:%Y-%m-%d %H:%M}", f"China Standard Time {local:%Y-%m-%d %H:%M}")
    if now < EARLIEST_PLAUSIBLE:
        return [
            CheckItem(
                "clock",
                Status.FAIL,
                Text("系统时钟", "clock"),
                detail,
                Text(
                    "系统时间明显错误：请校准日期和时间（采集时间决定是否在截止日前完成注册）。",
                    "The clock is clearly wrong: set the date and time (capture time decides the deadline).",
                ),
            )
        ]
    return [CheckItem("clock", Status.OK, Text("系统时钟", "clock"), detail)]


def check_deadline(settings: Settings) -> list[CheckItem]:
    config = settings.station
    today = rules.today_in_china()
    notice = rules.deadline_notice(today, config.entry_year)
    status = Status.OK if rules.days_left(today, config.entry_year) > 0 else Status.WARN
    return [CheckItem("deadline", status, Text("注册截止", "deadline"), notice)]


def _device_checks() -> list[Callable[[Settings], list[CheckItem]]]:
    """Reader and camera checks, from the device layers that know how to look."""
    return [check_reader, check_camera]


def check_reader(settings: Settings) -> list[CheckItem]:
    from station.app import discovery_options
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


def check_camera(settings: Settings) -> list[CheckItem]:
    import threading

    from station.camera.errors import CameraError
    from station.camera.opening import open_source

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
    frames: list = []
    errors: list = []

    def grab() -> None:  # a camera driver can block: never let doctor hang on it
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
        return [
            CheckItem(
                "camera", Status.OK, title, Text(f"{spec}：{width}×{height}", f"{spec}: {width}×{height}")
            )
        ]
    return [
        CheckItem(
            "camera",
            Status.FAIL,
            title,
            errors[0].message
            if errors
            else Text(f"摄像头 {spec} 没有画面。", f"The camera {spec} gives no picture."),
            Text(
                "检查摄像头连接，关闭占用摄像头的其他程序，或在设置中选择正确的摄像头。",
                "Check the camera's cable, close other programs using it, or choose the right camera in the settings.",
            ),
        )
    ]
