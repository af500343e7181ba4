"""The store's items of ``station doctor``: does the database open with its key (and where is the key
kept), are its pages sound (SQLCipher's ``cipher_integrity_check``: every page's HMAC; SQLite's
``integrity_check``: the b-trees), which records are damaged, is the schema at head, how old is the
last backup, is there disk space in the station home. Each item has a status and a plain-language fix.

A damaged first page is told apart from a wrong key: the key is proven by its check value in
``station.json`` before SQLCipher is asked (``StationDatabase.open``)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from station.domain.officers import OfficerSource
from station.i18n import Text
from station.store import backups, keys, migrate, paths
from station.store.database import StationDatabase
from station.store.engine import RESTORE_FIX
from station.store.errors import (
    DatabaseCorruptError,
    DatabaseMissingError,
    KeyMissingError,
    OfficerRequiredError,
    SchemaTooNewError,
    StoreError,
    WrongKeyError,
)
from station.store.keyslots import KeySlots

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
    "key": Text("密钥保存方式", "where the key is kept"),
    "integrity": Text("数据库完整性", "database integrity"),
    "schema": Text("数据库结构版本", "database schema"),
    "backup": Text("数据库备份", "database backups"),
    "disk": Text("站点目录磁盘空间", "disk space for the station data"),
}
DAMAGED = Text("数据库已损坏", "the database is damaged")


def _item(name: str, status: str, detail: Text, fix: Text | None = None) -> HealthItem:
    return HealthItem(name, status, _TITLES[name], detail, fix)


_FIXES: dict[type[StoreError], Text] = {
    DatabaseMissingError: Text(
        "新站点：运行 station store init 完成设置。已有站点：联系旗县管理员从备份恢复数据库文件。",
        "New station: run `station store init`. Existing station: ask the county administrator to restore the "
        "database file from a backup.",
    ),
    KeyMissingError: Text(
        "运行 station store recover --admin 用户名，输入站点设置时打印的恢复码，并为该旗县管理员设置密码。",
        "Run `station store recover --admin NAME`, type the recovery code printed at station set-up and set that "
        "county administrator's password.",
    ),
    WrongKeyError: Text(
        "运行 station store recover，输入本站的恢复码以恢复正确的密钥。",
        "Run `station store recover` with this station's recovery code to restore the right key.",
    ),
    SchemaTooNewError: Text("安装最新版本的采集站程序。", "Install the latest station version."),
    OfficerRequiredError: keys.OFFICER_REQUIRED_FIX,
}
_DEFAULT_FIX = Text("请勿删除任何文件，联系技术支持。", "Do not delete any file; call technical support.")


def health(
    home: str | os.PathLike[str] | None = None,
    key: bytes | None = None,
    *,
    officer: OfficerSource = None,
    backup_every_hours: int = 24,
) -> list[HealthItem]:
    home_path = paths.station_home(home)
    items: list[HealthItem] = []
    database: StationDatabase | None = None
    try:
        database = StationDatabase.open(home_path, key, upgrade=False, officer=officer)
        items.append(
            _item("database", OK, Text("数据库可用本站密钥打开。", "The database opens with its key."))
        )
    except OfficerRequiredError as exc:
        items.append(_item("database", WARN, _join(Text("未检查：", "Not checked: "), exc.message), exc.fix))
    except DatabaseCorruptError as exc:
        items.append(_item("database", FAIL, _join(DAMAGED_SENTENCE, exc.message), RESTORE_FIX))
    except StoreError as exc:
        items.append(_item("database", FAIL, exc.message, exc.fix or _FIXES.get(type(exc), _DEFAULT_FIX)))
    items.append(_key_item(home_path))
    if database is not None:
        items.append(_integrity_item(database))
    items.append(_schema_item(database))
    if database is not None:
        database.close()
    items.append(_backup_item(home_path, backup_every_hours))
    items.append(_disk_item(home_path))
    return items


DAMAGED_SENTENCE = Text("数据库已损坏：", "The database is damaged: ")


def _join(first: Text, second: Text) -> Text:
    return Text(first.zh + second.zh, first.en + second.en)


def _key_item(home: Path) -> HealthItem:
    metadata = keys.read_metadata(home) if (home / paths.METADATA_FILE).exists() else None
    if metadata is None:
        return _item("key", WARN, Text("尚未设置。", "Not set up yet."))
    if metadata.key_store == keys.KEYRING:
        return _item(
            "key", OK, Text("密钥保存在系统凭据库中。", "The key is kept in the OS credential store.")
        )
    if metadata.key_store == keys.SLOTS:
        count = len(KeySlots(home).usernames())
        return _item(
            "key",
            OK,
            Text(
                "密钥由 {n} 名采集员的密码分别加密保存，复制走的站点目录没有密码打不开。",
                "The key is wrapped by the passwords of {n} officers: a copied station folder opens nothing "
                "without one.",
            ).format(n=count),
        )
    return _item(
        "key",
        WARN,
        Text(
            "密钥仍以明文保存在 station.key 中：复制走站点目录即可读取全部数据。",
            "The key is still in plaintext in station.key: a copy of the station folder reads everything.",
        ),
        Text(
            "添加第一位旗县管理员（station operator add 用户名 --role county_admin）；下次打开时密钥转入密钥槽，"
            "station.key 随即删除。",
            "Add the first county administrator (station operator add NAME --role county_admin); at the next "
            "open the key moves into key slots and station.key is deleted.",
        ),
    )


def _integrity_item(database: StationDatabase) -> HealthItem:
    problems = database.page_problems()
    if not problems:
        return _item(
            "integrity",
            OK,
            Text(
                "所有数据页通过 SQLCipher 与 SQLite 校验。",
                "Every page passes SQLCipher's and SQLite's checks.",
            ),
        )
    try:
        damaged = database.unreadable_records()
    except StoreError:
        damaged = []
    records = (
        Text("受损记录：{ids}。", "Damaged records: {ids}.").format(ids=", ".join(damaged))
        if damaged
        else Text("未发现受损的采集记录。", "No capture record is affected.")
    )
    pages = sorted({int(n) for p in problems for n in re.findall(r"page (\d+)", p)})
    listed = ", ".join(str(n) for n in pages[:10]) + (" …" if len(pages) > 10 else "")
    found = (
        Text(
            "数据库已损坏：第 {pages} 页未通过校验。",
            "The database is damaged: pages {pages} fail their checks. ",
        ).format(pages=listed)
        if pages
        else Text(
            "数据库已损坏：有 {n} 处结构错误。", "The database is damaged: {n} structural errors. "
        ).format(n=len(problems))
    )
    return _item("integrity", FAIL, _join(found, records), RESTORE_FIX)


def _backup_item(home: Path, every_hours: int) -> HealthItem:
    newest = backups.latest(home)
    if newest is None:
        return _item(
            "backup",
            WARN,
            Text("还没有备份。", "There is no backup yet."),
            Text(
                "运行 station store backup（同步时也会按计划自动备份）。",
                "Run `station store backup` (sync also takes scheduled backups).",
            ),
        )
    count = len(backups.list_backups(home))
    detail = Text(
        "最近的备份：{name}（共 {n} 份，已加密）。", "Last backup: {name} ({n} kept, encrypted)."
    ).format(name=newest.name, n=count)
    if backups.is_due(home, 2 * every_hours):
        return _item(
            "backup",
            WARN,
            detail,
            Text("备份已过期：运行 station store backup。", "Overdue: run `station store backup`."),
        )
    return _item("backup", OK, detail)


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
