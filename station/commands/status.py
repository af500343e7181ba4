"""``station status``: where every record stands, the queue, the last sync, the days left.

Records by outbox state: pending (with the last error when a send failed), in flight, accepted with
their registration numbers, rejected with the registry's reason, conflicts. No personal data is
printed: records are named by their ids and the student's registry id.
"""

from __future__ import annotations

from station.commands.officer_login import add_login_options
from station.commands.output import print_json
from station.errors import OfficerError
from station.i18n import Text, current_language
from station.syncing.messages import REJECTION_REASONS, SET_ASIDE_REASONS


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("status", help="记录与同步状态 / records and sync status")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=200, help="records listed per state")
    add_login_options(parser)
    parser.set_defaults(handler=run)


def collect(app, limit: int = 200) -> dict:  # type: ignore[no-untyped-def]
    from station.domain import rules
    from station.syncing.credentials import load_credentials

    db = app.database
    counts = db.outbox.counts()
    entries = {state: db.outbox.list(state, limit=limit) for state in counts}
    try:
        summaries = {s.record_id: s for s in db.records.list(limit=10**6)}
    except OfficerError as error:  # damaged record pages: list by record id only (doctor names them)
        if error.code != "database_corrupt":
            raise
        summaries = {}
    feed = db.sync_state.get(f"approvals:{app.config.county_code6}")

    def item(entry) -> dict:  # type: ignore[no-untyped-def]
        summary = summaries.get(entry.record_id)
        out = {
            "record_id": entry.record_id,
            "student_id": summary.student_id if summary else None,
            "captured_at": entry.created_at,
            "attempts": entry.attempts,
        }
        if entry.reg_no:
            out["reg_no"] = entry.reg_no
        if entry.last_error:
            out["last_error"] = entry.last_error
        if entry.state in ("rejected", "conflict") and entry.result:
            code = entry.result.get("code")
            out["code"] = code
            reason = REJECTION_REASONS.get(code or "")
            out["reason"] = reason.as_dict() if reason else {"zh": code, "en": code}
            if entry.result.get("detail"):
                out["detail"] = entry.result["detail"]
        if entry.ledger_confirmed_at:
            out["ledger_confirmed_at"] = entry.ledger_confirmed_at
        return out

    today = rules.today_in_china()
    return {
        "station_id": app.config.station_id,
        "county": app.config.county_code6,
        "registry_url": app.config.registry_url,
        "enrolled": load_credentials(db) is not None,
        "counts": counts,
        "records": {state: [item(e) for e in found] for state, found in entries.items()},
        "set_aside": [
            {"record_id": record_id, "code": code, "reason": SET_ASIDE_REASONS[code].as_dict()}
            for record_id, code in sorted(db.outbox.set_aside_ids().items())
        ],
        "queue_size": db.queue.count(),
        "last_sync": feed.updated_at if feed else None,
        "days_to_deadline": rules.days_left(today, app.config.entry_year),
        "deadline_notice": rules.deadline_notice(today, app.config.entry_year).as_dict(),
    }


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.open_station() as app:
        data = collect(app, args.limit)
    if args.json:
        print_json(data)
        return 0
    c = data["counts"]
    print(
        Text("采集站 {s}（旗县 {c}）", "Station {s} (county {c})").format(
            s=data["station_id"], c=data["county"]
        )
    )
    print(
        Text(
            "待上传 {p}，上传中 {i}，已受理 {a}，被退回 {r}，冲突 {x}",
            "pending {p}, in flight {i}, accepted {a}, rejected {r}, conflicts {x}",
        ).format(p=c["pending"], i=c["inflight"], a=c["accepted"], r=c["rejected"], x=c["conflict"])
    )
    for entry in data["records"]["accepted"]:
        print(f"  ✓ {entry['student_id']}  {entry['reg_no']}  {entry['record_id']}")
    for state in ("rejected", "conflict"):
        for entry in data["records"][state]:
            reason = entry.get("reason", {}).get(current_language())
            print(f"  ✗ {entry['student_id']}  {entry.get('code')}  {reason or ''}  {entry['record_id']}")
    set_aside = {item["record_id"] for item in data["set_aside"]}
    for entry in data["records"]["pending"]:
        if entry.get("last_error") and entry["record_id"] not in set_aside:
            print(f"  … {entry['student_id']}  {entry['last_error']}  {entry['record_id']}")
    for item in data["set_aside"]:
        print(f"  ✗ {item['record_id']}  {item['reason'][current_language()]}")
    print(
        Text("名单 {n} 人；上次同步：{t}", "Queue: {n} students; last sync: {t}").format(
            n=data["queue_size"], t=data["last_sync"] or "—"
        )
    )
    print(Text(data["deadline_notice"]["zh"], data["deadline_notice"]["en"]))
    return 0
