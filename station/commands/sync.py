"""``station sync``: one sync session (``--once``) or a loop of them, with the registry.

It takes the station's single-flight lock (a second ``station sync`` of the same station refuses to
start), gets the engine from the composition root (``StationApp.sync_engine``: the same engine the
desk runs) and prints what moved: records pushed, accepted (duplicates among them), rejected,
conflicts, queue changes, bytes and time. ``--json`` gives the whole session report. Exit codes:
0 done, 1 offline / refused / another sync running, 2 set-up.
"""

from __future__ import annotations

from station.commands.officer_login import add_login_options
from station.commands.output import fail, print_json
from station.i18n import Text
from station.syncing.messages import SET_ASIDE_REASONS, SYNC_MESSAGES, describe
from sync.client.errors import CredentialsMissing
from sync.client.lock import SyncLockBusy


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("sync", help="与登记中心同步 / sync with the registry")
    parser.add_argument("--once", action="store_true", help="one session, then exit")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--pull-only", action="store_true", help="only fetch the approvals queue")
    kind.add_argument("--push-only", action="store_true", help="only send captured records")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between sessions (loop mode)")
    parser.add_argument("--json", action="store_true")
    add_login_options(parser)
    parser.set_defaults(handler=run)


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    app = ctx.open_station()
    lock = app.sync_lock()
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
        engine = app.sync_engine()
    except CredentialsMissing:
        lock.release()
        app.close()
        return fail(SYNC_MESSAGES["NOT_ENROLLED"])
    kinds = {"pull": not args.push_only, "push": not args.pull_only}
    def scheduled_backup() -> bool:
        """Asked before every session of the loop: take the scheduled backup when due; never stops it."""
        app.backup_if_due()
        return False

    try:
        if not args.once:
            engine.run_forever(interval_s=args.interval, should_stop=scheduled_backup, **kinds)
            return 0
        report = engine.run_once(**kinds)
        app.backup_if_due()
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
        reason = SET_ASIDE_REASONS.get(alert["code"])
        print(f"! {reason}: {alert['detail'].split(': ', 1)[-1]}" if reason else f"! {alert['code']}: {alert['detail']}")
