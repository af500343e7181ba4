"""``station enroll FILE``: import the enrollment file written by ``sync-registry enroll``.

The registry URL, county, station id and photo profile go into ``config.json``; the CA, the client
certificate and its private key go among the encrypted station database's secrets
(``station.syncing.credentials``), never into a plaintext file of the station. The key is checked against the
certificate before anything is saved (an in-memory TLS context is built from them). The enrollment
file itself holds the key in plaintext: ``--remove-file`` deletes it once imported, otherwise the
command reminds the officer to delete it. A station that already holds records of another station
id is not re-enrolled under a new id (its records would no longer match its certificate).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from station.commands.officer_login import add_login_options, officer_source
from station.commands.output import print_json
from station.i18n import Text
from station.syncing.enrollment import EnrollmentInvalid, check_credentials, read_enrollment

__all__ = ["EnrollmentInvalid", "read_enrollment", "register", "run"]


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("enroll", help="导入注册文件 / import the registry enrollment file")
    parser.add_argument("file", type=Path, help="the file written by `sync-registry enroll`")
    parser.add_argument("--remove-file", action="store_true", help="delete the file after importing it")
    parser.add_argument(
        "--admin",
        metavar="NAME",
        help="a new station: create it with this first county administrator (needed without an OS keyring)",
    )
    parser.add_argument("--json", action="store_true")
    add_login_options(parser)
    parser.set_defaults(handler=run)


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.app import StationApp
    from station.syncing.enrollment import enroll

    try:
        raw = read_enrollment(args.file)
        check_credentials(raw)
    except EnrollmentInvalid as error:
        return _refuse(args, error.code, error.message)
    settings = ctx.settings
    recovery_code = None
    app: StationApp
    if (settings.home / "station.db").exists():
        # An existing station opens with --operator, or with the administrator --admin names.
        unlock = ctx.officer if args.operator or not args.admin else officer_source(_as_operator(args))
        app = ctx.open_station(unlock)
    else:
        app, recovery_code = ctx.create_station(ctx.admin())
    with app:
        try:
            config = enroll(app.database, settings.home, settings.station, raw)
        except EnrollmentInvalid as error:
            return _refuse(args, error.code, error.message)
    removed = False
    if args.remove_file:
        Path(args.file).unlink(missing_ok=True)
        removed = True
    summary = {
        "ok": True,
        "station_id": config.station_id,
        "county": config.county_code6,
        "registry_url": config.registry_url,
        "photo_profile": config.photo_profile,
        "file_removed": removed,
        "recovery_code": recovery_code,
    }
    if args.json:
        print_json(summary)
        return 0
    print(
        Text(
            "已注册：站号 {s}，旗县 {c}，登记中心 {u}", "Enrolled: station {s}, county {c}, registry {u}"
        ).format(s=config.station_id, c=config.county_code6, u=config.registry_url)
    )
    if recovery_code:
        print(
            Text(
                "新建了加密数据库。恢复码（只显示一次，请打印交旗县管理员保管）：{code}",
                "A new encrypted database was created. Recovery code (shown once; print it for the county "
                "administrator): {code}",
            ).format(code=recovery_code)
        )
    if not removed:
        print(
            Text(
                "注册文件含明文私钥，请立即删除：{f}",
                "The enrollment file holds the private key in plaintext; delete it now: {f}",
            ).format(f=args.file)
        )
    return 0


def _as_operator(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(operator=args.admin, password_stdin=args.password_stdin)


def _refuse(args, code: str, message: Text) -> int:  # type: ignore[no-untyped-def]
    if args.json:
        print_json({"ok": False, "error_code": code, "message": message.as_dict()})
        return 2
    raise EnrollmentInvalid(code, message)
