"""The store's items of ``station doctor``: does the database open with its key, is the schema at
head, is there disk space in the station home. Each item has a status and a plain-language fix."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from station.i18n import Text
from station.store import migrate, paths
from station.store.database import StationDatabase
from station.store.errors import (
    DatabaseMissingError,
    KeyMissingError,
    SchemaTooNewError,
    StoreError,
    WrongKeyError,
)

OK, WARN, FAIL = "ok", "warn", "fail"
LOW_DISK_BYTES = 2 * 1024**3  # about 50,000 captures: warn before a busy week runs out
CRITICAL_DISK_BYTES = 300 * 1024**2


@dataclass(frozen=True)
class HealthItem:
    """One checklist line: ``title`` names the item, ``detail`` says what was found, ``fix`` what to do."""

    name: str
    status: str  # ok | warn | fail
    title: Text
    detail: Text
    fix: Text | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "title": self.title.as_dict(),
            "detail": self.detail.as_dict(),
            "fix": self.fix.as_dict() if self.fix else None,
        }


_TITLES = {
    "database": Text("数据库与密钥", "database and key"),
    "schema": Text("数据库结构版本", "database schema"),
    "disk": Text("站点目录磁盘空间", "disk space for the station data"),
}


def _item(name: str, status: str, detail: Text, fix: Text | None = None) -> HealthItem:
    return HealthItem(name, status, _TITLES[name], detail, fix)


_FIXES: dict[type[StoreError], Text] = {
    DatabaseMissingError: Text(
        "新站点：运行 station store init 完成设置。已有站点：联系旗县管理员从备份恢复数据库文件。",
        "New station: run `station store init`. Existing station: ask the county administrator to restore the "
        "database file from a backup.",
    ),
    KeyMissingError: Text(
        "运行 station store recover，输入站点设置时打印的恢复码。",
        "Run `station store recover` and type the recovery code printed at station set-up.",
    ),
    WrongKeyError: Text(
        "运行 station store recover，输入本站的恢复码以恢复正确的密钥。",
        "Run `station store recover` with this station's recovery code to restore the right key.",
    ),
    SchemaTooNewError: Text("安装最新版本的采集站程序。", "Install the latest station version."),
}
_DEFAULT_FIX = Text("请勿删除任何文件，联系技术支持。", "Do not delete any file; call technical support.")


def health(home: str | os.PathLike[str] | None = None, key: bytes | None = None) -> list[HealthItem]:
    home_path = paths.station_home(home)
    items: list[HealthItem] = []
    database: StationDatabase | None = None
    try:
        database = StationDatabase.open(home_path, key, upgrade=False)
        items.append(
            _item("database", OK, Text("数据库可用本站密钥打开。", "The database opens with its key."))
        )
    except StoreError as exc:
        items.append(_item("database", FAIL, exc.message, _FIXES.get(type(exc), _DEFAULT_FIX)))
    items.append(_schema_item(database))
    if database is not None:
        database.close()
    items.append(_disk_item(home_path))
    return items


def _schema_item(database: StationDatabase | None) -> HealthItem:
    if database is None:
        return _item(
            "schema",
            WARN,
            Text("数据库未打开，无法检查版本。", "Not checked: the database did not open."),
            Text("先处理上面的数据库问题。", "Deal with the database item above first."),
        )
    current, head = database.schema_revision(), migrate.head_revision()
    if current == head:
        return _item(
            "schema",
            OK,
            Text("数据库结构为最新版本（{rev}）。", "The schema is current ({rev}).").format(rev=head),
        )
    return _item(
        "schema",
        WARN,
        Text("数据库结构为旧版本 {cur}（最新 {head}）。", "The schema is at {cur} (current: {head}).").format(
            cur=current, head=head
        ),
        Text(
            "启动采集站时会先自动备份再升级，无需手动操作。",
            "Starting the station upgrades it automatically after taking a backup; nothing to do by hand.",
        ),
    )


def _disk_item(home: Path) -> HealthItem:
    probe = home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    message = Text("站点目录所在磁盘剩余 {gb:.1f} GB。", "{gb:.1f} GB free on the station's disk.").format(
        gb=free / 1024**3
    )
    fix = Text(
        "清理该磁盘上的其他文件（不要删除站点目录中的文件），或更换更大的磁盘。",
        "Free space on that disk (never delete files in the station directory) or use a larger disk.",
    )
    if free < CRITICAL_DISK_BYTES:
        return _item("disk", FAIL, message, fix)
    if free < LOW_DISK_BYTES:
        return _item("disk", WARN, message, fix)
    return _item("disk", OK, message)
