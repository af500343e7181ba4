"""``station store``: set a station up, recover a lost key, show the store's state, back up, restore.

    station store init [--admin NAME]      create the encrypted database; prints the recovery code once
    station store recover [--admin NAME]   type the recovery code to restore a lost database key
    station store status                   schema revision, key location, queue and outbox counts
    station store backup                   an encrypted, verified copy under <station home>/backups
    station store restore [BACKUP]         put the newest (or the named) backup in place of a damaged
                                           database, salvaging what still reads from it

Without an OS keyring the key is wrapped by officers' passwords: ``init`` and ``recover`` then need
the county administrator (``--admin NAME``, password asked twice or read with ``--password-stdin``;
``recover`` reads the recovery code first), and the other commands an officer (``--operator NAME``,
``--password-stdin``; see ``station.commands.officer_login``, which ``station``'s main sets up as
``ctx.officer`` and ``ctx.admin``). ``--home`` overrides the station home of the settings
(STATION_HOME or the platform default) for one command. Exit status: 0 done, 2 a store error
(printed as a plain-language message; ``--json`` gives its code).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from station.i18n import Text
from station.store import backups, keys
from station.store.database import StationDatabase, recover, restore
from station.store.errors import StoreError


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "store", help="encrypted local store: set-up, key recovery, status, backup"
    )
    commands = parser.add_subparsers(dest="store_command", required=True)
    for name, handler, help_text in (
        ("init", _init, "set up this station's encrypted database (prints the recovery code once)"),
        ("recover", _recover, "restore a lost database key with the recovery code"),
        ("status", _status, "schema, key location, queue and outbox counts"),
        ("backup", _backup, "take an encrypted, verified backup"),
        ("restore", _restore, "replace a damaged database with a backup (the damaged file is kept aside)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--home", help="station data directory (default: STATION_HOME or the platform's)"
        )
        command.add_argument("--json", action="store_true", help="machine-readable output")
        if name in ("init", "recover"):
            command.add_argument("--admin", metavar="NAME", help="the county administrator who keeps the key")
        else:
            command.add_argument("--operator", metavar="NAME", help="the officer who opens the station")
        if name == "restore":
            command.add_argument("backup", nargs="?", type=Path, help="the backup file (default: the newest)")
        command.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        command.set_defaults(handler=_guarded(handler))


def _guarded(handler: Callable[[argparse.Namespace, Path, Any], int]) -> Callable[..., int]:
    def run(args: argparse.Namespace, ctx) -> int:  # type: ignore[no-untyped-def]
        home = Path(args.home) if args.home else ctx.settings.home
        try:
            return handler(args, home, ctx)
        except StoreError as exc:
            if getattr(args, "json", False):
                print(
                    json.dumps(
                        {"ok": False, "code": exc.code, "message": exc.message.as_dict()}, ensure_ascii=False
                    )
                )
            else:
                print(str(exc.sentence()), file=sys.stderr)
            return 2  # the station's convention: 2 = bad input or set-up

    return run


def _init(args: argparse.Namespace, home: Path, ctx) -> int:  # type: ignore[no-untyped-def]
    database, code = StationDatabase.create(home, admin=ctx.admin())
    home = database.home
    database.close()
    if args.json:
        print(json.dumps({"ok": True, "home": str(home), "recovery_code": code}, ensure_ascii=False))
        return 0
    print(Text("采集站已设置：{home}", "Station set up in {home}").format(home=home))
    print()
    print(
        Text(
            "恢复码（只显示这一次）：请打印或抄写后交旗县管理员保管。密钥丢失时，只有它能找回未同步的采集数据。",
            "Recovery code (shown only this once): print or copy it for the county administrator. If the key "
            "is lost, it is the only way to get unsynced captures back.",
        )
    )
    print()
    print(f"    {code}")
    print()
    return 0


def _recover(args: argparse.Namespace, home: Path, ctx) -> int:  # type: ignore[no-untyped-def]
    prompt = str(Text("请输入恢复码：", "Recovery code: "))
    code = input(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    with recover(code, home, admin=ctx.admin()) as database:
        home = database.home
    if args.json:
        print(json.dumps({"ok": True, "home": str(home)}, ensure_ascii=False))
    else:
        print(Text("密钥已恢复，数据库可以正常打开。", "The key is restored and the database opens."))
    return 0


def _status(args: argparse.Namespace, home: Path, ctx) -> int:  # type: ignore[no-untyped-def]
    with StationDatabase.open(home, upgrade=False, officer=ctx.officer) as database:
        metadata = keys.read_metadata(database.home)
        status = {
            "ok": True,
            "home": str(database.home),
            "schema": database.schema_revision(),
            "key_store": metadata.key_store if metadata else None,
            "queue": database.queue.count(),
            "outbox": database.outbox.counts(),
            "backups": [p.name for p in backups.list_backups(database.home)],
        }
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        print(Text("站点目录：{v}", "Station home: {v}").format(v=status["home"]))
        print(Text("数据库结构版本：{v}", "Schema: {v}").format(v=status["schema"]))
        print(Text("密钥保存位置：{v}", "Key kept in: {v}").format(v=status["key_store"]))
        print(Text("待采集名单人数：{v}", "Students in the queue: {v}").format(v=status["queue"]))
        print(
            Text("同步队列：{v}", "Outbox: {v}").format(
                v=", ".join(f"{k} {n}" for k, n in status["outbox"].items())
            )
        )
    return 0


def _backup(args: argparse.Namespace, home: Path, ctx) -> int:  # type: ignore[no-untyped-def]
    settings = ctx.settings.station
    with StationDatabase.open(home, upgrade=False, officer=ctx.officer) as database:
        path = database.backup(keep=settings.backup_keep)
    if args.json:
        print(json.dumps({"ok": True, "backup": str(path)}, ensure_ascii=False))
    else:
        print(Text("已备份（加密）：{path}", "Encrypted backup written: {path}").format(path=path))
    return 0


def _restore(args: argparse.Namespace, home: Path, ctx) -> int:  # type: ignore[no-untyped-def]
    database, report = restore(home, officer=ctx.officer, source=args.backup)
    database.close()
    summary = {
        "ok": True,
        "backup": report.backup.name,
        "damaged_copy": report.damaged_copy.name,
        "salvaged": report.salvaged,
        "unreadable": report.unreadable,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(
        Text(
            "已从备份 {b} 恢复数据库；损坏的文件保存为 {d}（请勿删除）。",
            "The database was restored from {b}; the damaged file is kept as {d} (do not delete it).",
        ).format(b=report.backup.name, d=report.damaged_copy.name)
    )
    print(
        Text(
            "从损坏文件中找回 {n} 条备份之后的采集记录，将重新同步。",
            "{n} records captured after the backup were salvaged from the damaged file and will sync again.",
        ).format(n=len(report.salvaged))
    )
    if report.unreadable:
        print(
            Text(
                "以下记录已无法读取，如尚未同步请重新采集：{ids}",
                "These records can no longer be read; capture those students again if they had not synced: {ids}",
            ).format(ids=", ".join(report.unreadable))
        )
    return 0
