"""The station's health as a checklist: what ``station doctor`` prints and the self-check panel shows.

One list for both, so they always agree, and one fix per item: a machine that is not set up yet is
told to run the first-run wizard (or ``station enroll``) once, not to run both ``store init`` and
``enroll``. The items, in the order an administrator works through them: set-up, the store (key,
schema, disk), officer accounts, the registry certificate, unsynced captures, the audit chain,
retention, the clock, the deadline, the card reader and the camera (``device_health``).

Each check is a small function returning ``CheckItem``s; a check that itself fails unexpectedly
becomes a failing item naming the error's type (never personal data) rather than ending the list,
because this is what an administrator runs when something is already wrong. Qt-free: it lives with
the services because it probes the devices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from station.app import StationApp, store_health
from station.config import Settings
from station.domain import rules
from station.domain.officers import OfficerSource
from station.domain.unsynced import Backlog
from station.i18n import Text
from station.services import device_health
from station.services.checkitems import CameraProbe, CheckItem, Status

# A clock earlier than this build cannot be right; capture times would be wrong and deadlines misjudged.
EARLIEST_PLAUSIBLE = datetime(2026, 1, 1, tzinfo=UTC)
CERTIFICATE_WARN = timedelta(days=30)


SET_UP_FIX = Text(
    "运行 station gui，按首次运行向导导入登记文件并创建旗县管理员（命令行：station enroll 文件名）。",
    "Run `station gui` and follow the first-run wizard: import the enrollment file and create the county "
    "administrator (command line: `station enroll FILE`).",
)


def run_checks(
    settings: Settings,
    *,
    camera_probe: CameraProbe | None = None,
    officer: OfficerSource = None,
    opened: StationApp | None = None,
) -> list[CheckItem]:
    """Every item, in order; never raises. The store is opened without upgrading it -- with ``officer``
    where its key is wrapped by officers' passwords -- or ``opened`` (the administrator's window) is
    checked as it is."""
    items: list[CheckItem] = []

    def store_ready() -> bool:
        found = {item.name: item.status for item in items}
        return found.get("database") is Status.OK and found.get("schema") is Status.OK

    for name, check in (
        ("setup", lambda s: check_setup(s, officer, opened)),
        ("station", lambda s: check_opened_station(s, officer, opened) if store_ready() else []),
        ("clock", check_clock),
        ("deadline", check_deadline),
        ("reader", device_health.check_reader),
        ("camera", lambda s: device_health.check_camera(s, camera_probe)),
    ):
        try:
            items.extend(check(settings))
        except Exception as error:  # the list must finish whatever one check does
            items.append(
                CheckItem(
                    name,
                    Status.FAIL,
                    Text("检查出错", "check failed"),
                    Text(
                        f"检查本身出错：{type(error).__name__}",
                        f"the check itself failed: {type(error).__name__}",
                    ),
                    Text("请将此结果发给省级技术支持。", "Send this result to provincial IT support."),
                )
            )
    return items


def healthy(items: list[CheckItem]) -> bool:
    return all(item.status is not Status.FAIL for item in items)


# --------------------------------------------------------------------------- set-up and store


def _store_exists(settings: Settings) -> bool:
    return (settings.home / "station.db").exists()


def check_setup(
    settings: Settings, officer: OfficerSource = None, opened: StationApp | None = None
) -> list[CheckItem]:
    config = settings.station
    title = Text("采集站登记", "enrollment")
    store_items = [_from_store(item) for item in store_health(settings, officer, opened=opened)]
    disk = [item for item in store_items if item.name == "disk"]
    if not _store_exists(settings):
        if config.enrolled:  # enrolled once, and the database is gone: never set up again
            return [
                CheckItem(
                    "database",
                    Status.FAIL,
                    Text("数据库与密钥", "database and key"),
                    Text(
                        "本站已登记，但数据库文件不见了。",
                        "The station is enrolled but its database file is gone.",
                    ),
                    Text(
                        "不要重新设置采集站：请旗县管理员从备份恢复数据库文件，或联系技术支持。",
                        "Do not set the station up again: restore the database file from a backup, or call "
                        "technical support.",
                    ),
                ),
                *disk,
            ]
        return [
            CheckItem(
                "enrollment",
                Status.FAIL,
                title,
                Text("本机尚未设置为采集站。", "This machine is not set up as a capture station."),
                SET_UP_FIX,
            ),
            *disk,
        ]
    if config.enrolled:
        enrollment = CheckItem(
            "enrollment",
            Status.OK,
            title,
            Text(
                f"采集站 {config.station_id}，旗县 {config.county_code6}",
                f"station {config.station_id}, county {config.county_code6}",
            ),
        )
    else:
        enrollment = CheckItem(
            "enrollment",
            Status.FAIL,
            title,
            Text(
                "数据库已建立，但尚未导入登记文件。", "The store exists but no enrollment file was imported."
            ),
            SET_UP_FIX,
        )
    return [enrollment, *store_items]


def _from_store(item) -> CheckItem:  # type: ignore[no-untyped-def]
    return CheckItem(item.name, Status(str(item.status)), item.title, item.detail, item.fix)


def check_opened_station(
    settings: Settings, officer: OfficerSource = None, opened: StationApp | None = None
) -> list[CheckItem]:
    """The items that need the store open: accounts, certificate, unsynced, audit chain, retention."""
    if opened is not None:
        return _opened_items(opened)
    with StationApp.open(settings, officer, upgrade=False) as app:
        return _opened_items(app)


def _opened_items(app: StationApp) -> list[CheckItem]:
    return [
        check_operators(app),
        *check_certificate(app),
        check_unsynced(app),
        check_audit_chain(app),
        check_retention(app),
    ]


def check_operators(app: StationApp) -> CheckItem:
    title = Text("采集员账号", "officer accounts")
    operators = app.database.operators.list()
    now = datetime.now(UTC)
    enabled = [o for o in operators if not o.disabled]
    admins = [o for o in enabled if o.role == "county_admin"]
    locked = [
        o.username
        for o in enabled
        if o.locked_until and datetime.fromisoformat(o.locked_until.replace("Z", "+00:00")) > now
    ]
    detail = Text(
        "可用账号 {n} 个，其中旗县管理员 {a} 个。", "{n} active accounts, {a} county administrators."
    ).format(n=len(enabled), a=len(admins))
    if not admins:
        return CheckItem(
            "operators",
            Status.WARN,
            title,
            detail,
            Text(
                "创建旗县管理员账号：运行 station gui 按向导创建（命令行：station operator add 用户名 --role "
                "county_admin）。",
                "Create a county administrator: run `station gui` and follow the wizard (command line: "
                "`station operator add NAME --role county_admin`).",
            ),
        )
    if locked:
        names = "、".join(locked)
        return CheckItem(
            "operators",
            Status.WARN,
            title,
            Text(f"账号已锁定：{names}", f"locked accounts: {', '.join(locked)}"),
            Text(
                "旗县管理员可在管理窗口的“账号”中解锁（命令行：station operator unlock 用户名）。",
                "A county administrator unlocks them under Accounts (command line: `station operator unlock NAME`).",
            ),
        )
    return CheckItem("operators", Status.OK, title, detail)


def check_certificate(app: StationApp) -> list[CheckItem]:
    from station.syncing.credentials import certificate_expiry

    if not app.config.registry_url:
        return []  # a demo or training station has no registry
    title = Text("登记中心证书", "registry certificate")
    fix = Text(
        "向盟市管理员申请新的登记文件，在管理窗口或命令行（station enroll 文件名）重新导入。",
        "Ask the league administrator for a new enrollment file and import it (`station enroll FILE`).",
    )
    expires = certificate_expiry(app.database)
    if expires is None:
        return [
            CheckItem(
                "certificate", Status.FAIL, title, Text("没有可用的证书。", "No usable certificate."), fix
            )
        ]
    day = expires.astimezone(rules.CHINA_STANDARD_TIME).date().isoformat()
    left = expires - datetime.now(UTC)
    if left <= timedelta(0):
        return [
            CheckItem(
                "certificate", Status.FAIL, title, Text(f"证书已于 {day} 过期。", f"expired on {day}."), fix
            )
        ]
    if left < CERTIFICATE_WARN:
        return [
            CheckItem(
                "certificate",
                Status.WARN,
                title,
                Text(
                    f"证书将于 {day} 过期（还有 {left.days} 天）。",
                    f"expires on {day} ({left.days} days left).",
                ),
                fix,
            )
        ]
    return [CheckItem("certificate", Status.OK, title, Text(f"有效期至 {day}。", f"valid until {day}."))]


def check_unsynced(app: StationApp) -> CheckItem:
    from station.admin.backlog import backlog

    title = Text("未同步记录", "unsynced captures")
    state = backlog(app)
    oldest = app.database.reports.oldest_unsynced()
    if oldest is None:
        return CheckItem(
            "unsynced", Status.OK, title, Text("没有等待同步的记录。", "No capture waits for sync.")
        )
    detail = Text("最早一条已等待 {h} 小时。", "The oldest has waited {h} hours.").format(h=int(state.hours))
    fix = Text(
        "检查网络和登记中心地址（设置），然后在采集界面按“立即同步”；仍不行请联系盟市管理员。",
        "Check the network and the registry address (settings), then sync now; if it still fails, call the "
        "league administrator.",
    )
    status = {Backlog.OK: Status.OK, Backlog.WARN: Status.WARN, Backlog.BLOCK: Status.FAIL}[state.level]
    return CheckItem("unsynced", status, title, detail, fix if status is not Status.OK else None)


def check_audit_chain(app: StationApp) -> CheckItem:
    from station.admin.audit_view import chain_verdict

    check = app.database.audit.check_chain()
    title = Text("审计日志", "audit log")
    if check.intact:
        return CheckItem("audit", Status.OK, title, chain_verdict(check))
    return CheckItem(
        "audit",
        Status.FAIL,
        title,
        chain_verdict(check),
        Text(
            "保留本机现状，不要删除任何文件，立即报告盟市管理员。", "Keep the machine as it is and report it."
        ),
    )


def check_retention(app: StationApp) -> CheckItem:
    from station.admin.retention import due

    title = Text("个人数据保留期", "retention")
    days = app.config.retention_days
    waiting = due(app)
    if waiting:
        return CheckItem(
            "retention",
            Status.WARN,
            title,
            Text(
                f"{waiting} 条记录已过保留期（{days} 天），照片和芯片数据尚未清除。",
                f"{waiting} records are past the retention period ({days} days) and not purged yet.",
            ),
            Text(
                "下次同步后自动清除；旗县管理员也可在管理窗口立即清除。",
                "The next sync purges them; a county administrator can purge them now in the administration window.",
            ),
        )
    return CheckItem(
        "retention",
        Status.OK,
        title,
        Text(
            f"登记中心确认 {days} 天后清除照片和芯片数据。",
            f"Photos and chip data go {days} days after confirmation.",
        ),
    )


# --------------------------------------------------------------------------- clock and deadline


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
