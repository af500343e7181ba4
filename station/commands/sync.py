"""``station sync``: one sync session (``--once``) or a loop of them, with the registry.

It takes the station's single-flight lock (``sync.lock``: a second ``station sync`` of the same station
refuses to start), builds the engine (``sync.client.engine``) over ``StationSyncStore`` and an HTTP
session made from the credentials in the encrypted store, and prints what moved: records pushed,
accepted (duplicates among them), rejected, conflicts, queue changes, bytes and time. ``--json`` gives
the whole session report. Exit codes: 0 done, 1 offline / refused / another sync running, 2 set-up.
"""

from __future__ import annotations

import os

from station.commands.output import fail, print_json
from station.commands.sync_store import StationSyncStore, load_credentials, save_credentials
from station.i18n import Text
from sync.client.engine import Policy, SyncEngine
from sync.client.errors import CredentialsMissing
from sync.client.http import RegistrySession, Timeouts
from sync.client.lock import SyncLock, SyncLockBusy

LOCK_FILE = "sync.lock"


def build_engine(app, *, policy: Policy | None = None, timeouts: Timeouts | None = None) -> SyncEngine:  # type: ignore[no-untyped-def]
    credentials = load_credentials(app.database)
    if credentials is None or not app.config.registry_url:
        raise CredentialsMissing()
    store = StationSyncStore(app.database, retention_days=app.config.retention_days)
    proxy = getattr(app.config, "registry_proxy", "") or None

    def session() -> RegistrySession:
        return RegistrySession(app.config.registry_url, credentials, proxy_url=proxy, timeouts=timeouts)

    return SyncEngine(
        store,
        session,
        station_id=app.config.station_id,
        county=app.config.county_code6,
        season=app.config.entry_year,
        policy=policy,
    )


SYNC_MESSAGES = {
    "NOT_ENROLLED": Text(
        "本站尚未注册到登记中心，请先运行 station enroll。",
        "This station is not enrolled: run `station enroll FILE` first.",
    ),
    "TLS_INTERCEPTED_OR_WRONG_CA": Text(
        "登记中心证书不是由登记中心的 CA 签发：可能有 HTTPS 检查代理或连错了服务器。请网络管理员为登记中心地址设置免检。",
        "The registry's certificate is not from the registry's CA: a TLS-inspecting proxy or the wrong server. "
        "Ask the network administrator for an inspection bypass for the registry host.",
    ),
    "TLS_HOSTNAME_MISMATCH": Text(
        "登记中心证书的主机名不符。", "The registry certificate names another host."
    ),
    "TLS_SERVER_CERT_EXPIRED": Text("登记中心证书已过期。", "The registry's certificate has expired."),
    "TLS_CLIENT_CERT_REJECTED": Text(
        "登记中心拒绝了本站证书（过期或被吊销？），请联系旗县管理员重新注册。",
        "The registry refused this station's certificate (expired or revoked?): ask for a new enrollment.",
    ),
    "TLS_CLIENT_CERT_EXPIRED": Text(
        "本站证书已过期，请联系旗县管理员重新注册。",
        "This station's certificate has expired: ask for a new enrollment.",
    ),
    "TLS_CLIENT_CERT_WRONG_CA": Text(
        "本站证书不是登记中心签发的，请重新注册。",
        "This station's certificate is not from the registry's CA: enroll again.",
    ),
    "PROXY_AUTH_REQUIRED": Text(
        "代理服务器需要认证（407），请检查代理设置。",
        "The proxy requires authentication (407): check the proxy setting.",
    ),
    "BAD_CREDENTIALS": Text(
        "本站保存的证书或私钥无法使用，请重新注册。",
        "The stored certificate or key cannot be used: enroll again.",
    ),
}


def describe(code: str | None, detail: str | None) -> Text:
    if code in SYNC_MESSAGES:
        return SYNC_MESSAGES[code]
    return Text(f"同步失败：{code}（{detail}）", f"Sync failed: {code} ({detail})")


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("sync", help="与登记中心同步 / sync with the registry")
    parser.add_argument("--once", action="store_true", help="one session, then exit")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--pull-only", action="store_true", help="only fetch the approvals queue")
    kind.add_argument("--push-only", action="store_true", help="only send captured records")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between sessions (loop mode)")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)


def run(args) -> int:  # type: ignore[no-untyped-def]
    from station.app import StationApp
    from station.store.errors import StoreError

    try:
        app = StationApp.open()
    except StoreError as error:
        return fail(error.message)
    lock = SyncLock(app.home / LOCK_FILE)
    try:
        lock.acquire()
    except SyncLockBusy:
        app.close()
        message = Text(
            "本站已有同步在运行，未重复启动。",
            "A sync of this station is already running; not started twice.",
        )
        if args.json:
            print_json({"ok": False, "error_code": "SYNC_RUNNING", "message": message.as_dict()})
        else:
            print(message)
        return 1
    try:
        engine = build_engine(app, policy=_policy_from_env(), timeouts=_timeouts_from_env())
    except CredentialsMissing:
        lock.release()
        app.close()
        return fail(SYNC_MESSAGES["NOT_ENROLLED"])
    kinds = {"pull": not args.push_only, "push": not args.pull_only}
    try:
        if not args.once:
            engine.run_forever(interval_s=args.interval, **kinds)
            return 0
        report = engine.run_once(**kinds)
    finally:
        lock.release()
        app.close()
    alerts = [{"code": c, "detail": d} for c, d in engine.store.alerts]  # type: ignore[attr-defined]
    if args.json:
        data = report.as_dict()
        data["alerts"] = alerts
        if report.error_code:
            data["message"] = describe(report.error_code, report.error_detail).as_dict()
        print_json(data)
    else:
        _print_report(report, alerts)
    return 0 if report.ok else 1


def _print_report(report, alerts) -> None:  # type: ignore[no-untyped-def]
    print(
        Text(
            "名单：{p} 页，更新 {u}，撤销 {r}，全量重同步 {s} 次",
            "Queue: {p} pages, {u} updated, {r} revoked, {s} full resyncs",
        ).format(p=report.pages, u=report.queue_upserted, r=report.queue_revoked, s=report.resyncs)
    )
    print(
        Text(
            "上传：{n} 条（受理 {a}，其中重复确认 {d}；退回 {j}；冲突 {c}；待重试 {t}），{b} 字节，{s} 秒",
            "Push: {n} records ({a} accepted, of which {d} duplicates; {j} rejected; {c} conflicts; {t} to retry), {b} bytes, {s} s",
        ).format(
            n=report.pushed,
            a=report.accepted,
            d=report.duplicates,
            j=report.rejected,
            c=report.conflicts,
            t=report.retried,
            b=report.body_bytes,
            s=report.seconds,
        )
    )
    if report.offline:
        print(
            Text(
                "登记中心暂时连不上，记录安全保存在本机，稍后自动重试。",
                "The registry is unreachable for now; records are safe here and will be retried.",
            )
        )
    if report.error_code:
        print(describe(report.error_code, report.error_detail))
    for alert in alerts:
        print(f"! {alert['code']}: {alert['detail']}")


def _policy_from_env() -> Policy | None:
    """``STATION_SYNC_BACKOFF_S`` / ``STATION_SYNC_RETRY_AFTER_CAP_S`` shorten waits (tests, training)."""
    base = os.environ.get("STATION_SYNC_BACKOFF_S")
    cap = os.environ.get("STATION_SYNC_RETRY_AFTER_CAP_S")
    if base is None and cap is None:
        return None
    return Policy(
        backoff_base_s=float(base or 2.0),
        backoff_cap_s=max(float(base or 2.0) * 8, 0.1),
        retry_after_cap_s=float(cap or 300.0),
        max_wait_s=float(os.environ.get("STATION_SYNC_MAX_WAIT_S", "30")),
    )


def _timeouts_from_env() -> Timeouts | None:
    connect = os.environ.get("STATION_SYNC_CONNECT_TIMEOUT_S")
    deadline = os.environ.get("STATION_SYNC_DEADLINE_S")
    if connect is None and deadline is None:
        return None
    return Timeouts(
        connect_s=float(connect or 20.0),
        read_s=float(connect or 60.0),
        deadline_base_s=float(deadline or 60.0),
    )


__all__ = [
    "StationSyncStore",
    "build_engine",
    "load_credentials",
    "register",
    "save_credentials",
]
