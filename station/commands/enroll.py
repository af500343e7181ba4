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

import json
from pathlib import Path

from station import config as station_config
from station.commands.output import print_json
from station.errors import OfficerError
from station.i18n import Text
from sync.client.errors import FatalSyncError
from sync.client.tlsmaterial import Credentials, client_context
from sync.protocol import codes
from sync.protocol.wire import STATION_ID_RE

FORMAT = "capture-station-enrollment"
_REQUIRED = ("registry_url", "county", "station_id", "ca_pem", "cert_pem", "key_pem")


class EnrollmentInvalid(OfficerError):
    def __init__(self, code: str, message: Text) -> None:
        super().__init__(message, code=code)


def read_enrollment(path: Path) -> dict:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise EnrollmentInvalid(
            "unreadable",
            Text("无法读取注册文件（不是 JSON？）。", "Cannot read the enrollment file (not JSON?)."),
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != 1:
        raise EnrollmentInvalid(
            "not_enrollment",
            Text("这不是采集站注册文件（第 1 版）。", "This is not a station enrollment file (version 1)."),
        )
    missing = [name for name in _REQUIRED if not isinstance(raw.get(name), str) or not raw[name]]
    if missing:
        raise EnrollmentInvalid(
            "fields",
            Text("注册文件缺少字段：{f}", "The enrollment file lacks fields: {f}").format(
                f=", ".join(missing)
            ),
        )
    if not raw["registry_url"].startswith("https://"):
        raise EnrollmentInvalid(
            "bad_url", Text("登记中心地址必须是 https://。", "The registry URL must be https://.")
        )
    if codes.county(raw["county"]) is None or not STATION_ID_RE.match(raw["station_id"]):
        raise EnrollmentInvalid(
            "bad_identity",
            Text("注册文件中的旗县代码或站号无效。", "The county code or station id is invalid."),
        )
    return raw


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("enroll", help="导入注册文件 / import the registry enrollment file")
    parser.add_argument("file", type=Path, help="the file written by `sync-registry enroll`")
    parser.add_argument("--remove-file", action="store_true", help="delete the file after importing it")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.app import StationApp
    from station.syncing.credentials import save_credentials

    try:
        raw = read_enrollment(args.file)
        credentials = Credentials(raw["ca_pem"], raw["cert_pem"], raw["key_pem"])
        client_context(credentials)  # the key must belong to the certificate
    except EnrollmentInvalid as error:
        return _refuse(args, error.code, error.message)
    except FatalSyncError:
        return _refuse(
            args,
            "bad_credentials",
            Text("证书与私钥不匹配或无法读取。", "The certificate and key do not match or cannot be read."),
        )
    settings = ctx.settings
    recovery_code = None
    config = settings.station
    app: StationApp
    if (settings.home / "station.db").exists():
        app = ctx.open_station()
    else:
        app, recovery_code = ctx.create_station()
    with app:
        if (
            config.station_id
            and config.station_id != raw["station_id"]
            and app.database.outbox.counts() != {s: 0 for s in ("pending", "inflight", "accepted", "rejected", "conflict")}
        ):
            return _refuse(
                args,
                "other_station",
                Text(
                    "本机已保存站号 {old} 的记录，不能改为 {new}。",
                    "This machine holds records of station {old}; it cannot become {new}.",
                ).format(old=config.station_id, new=raw["station_id"]),
            )
        save_credentials(app.database, credentials)
        app.database.audit.append("enroll", detail={"station_id": raw["station_id"], "county": raw["county"]})
    config = station_config.update(
        config,
        station_id=raw["station_id"],
        county_code6=raw["county"],
        registry_url=raw["registry_url"].rstrip("/"),
        photo_profile=raw.get("photo_profile") or config.photo_profile,
    )
    station_config.save(config, settings.home)
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


def _refuse(args, code: str, message: Text) -> int:  # type: ignore[no-untyped-def]
    if args.json:
        print_json({"ok": False, "error_code": code, "message": message.as_dict()})
        return 2
    raise EnrollmentInvalid(code, message)
