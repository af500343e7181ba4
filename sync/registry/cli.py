"""``sync-registry``: set up, feed and run the reference registry.

Forms (tests and scripts rely on them)::

    sync-registry init --db URL --year YYYY
    sync-registry migrate --db URL
    sync-registry pki init --dir DIR
    sync-registry pki station --dir DIR --county CODE6 --station ID [--days N] [--db URL]
    sync-registry pki revoke --dir DIR (--station ID | --serial HEX) [--db URL]
    sync-registry enroll --tls-dir DIR --county CODE6 --station ID --url URL -o FILE
    sync-registry seed --db URL --county CODE6 --students N --year YYYY [--seed S]
    sync-registry approve|withdraw --db URL STUDENT...
    sync-registry serve --db URL --host H --port P --tls-dir DIR
                        [--blob-dir DIR] [--grace-days D] [--deadline YYYY-MM-DD]
                        [--season-opens YYYY-MM-DD] [--manual-evidence at_once|review]
                        [--log-dir DIR] [--log-level LEVEL] [--workers N] [--faults JSON|FILE]
    sync-registry report --db URL [--county CODE6] [--manual] [--json]
    sync-registry review --db URL (--approve RECORD... | --refuse RECORD...)
    sync-registry gc --db URL [--blob-dir DIR] [--min-age-hours H]

Exit codes: 0 done, 1 refused (with the reason on stderr), 2 usage.
Every command that opens a registry database refuses one whose schema is behind (``SCHEMA_BEHIND``:
run ``migrate``) or newer than this version (``SCHEMA_NEWER``).
The process creates its files private (umask 077): database, photos, CRL index, logs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from sync.registry.errors import AdminError


def _registry(args, **settings_extra):
    from sync.registry.config import Settings
    from sync.registry.core import Registry

    return Registry.open(Settings(db_url=args.db, **settings_extra))


def cmd_init(args) -> int:
    from sync.registry.core import initialise
    from sync.registry.db import Database

    db = Database(args.db)
    epoch = initialise(db, args.year)
    db.dispose()
    print(f"registry ready: entry year {args.year}, feed epoch {epoch}")
    return 0


def cmd_migrate(args) -> int:
    from sync.registry.db import Database
    from sync.registry.migrate import upgrade

    db = Database(args.db)
    try:
        done = upgrade(db)
    finally:
        db.dispose()
    if done.from_revision == done.to_revision:
        print(f"registry schema is at {done.to_revision}: nothing to do")
    else:
        print(f"registry schema upgraded from {done.from_revision or 'nothing'} to {done.to_revision}")
    return 0


def cmd_pki_init(args) -> int:
    from sync.registry.pki import TlsPaths, init_pki
    from sync.registry.revocation import ensure_crl

    written = init_pki(Path(args.dir))
    if ensure_crl(TlsPaths(Path(args.dir))):
        written.append(TlsPaths(Path(args.dir)).crl)
    print("\n".join(str(p) for p in written) if written else f"CA and server certificate exist in {args.dir}")
    return 0


def cmd_pki_station(args) -> int:
    from sync.registry.pki import issue_station

    cert, key = issue_station(Path(args.dir), args.county, args.station, days=args.days)
    if args.db:
        from cryptography import x509

        from sync.registry import issuance
        from sync.registry.db import Database
        from sync.registry.migrate import require_head
        from sync.registry.pki import StationIdentity

        db = Database(args.db)
        try:
            require_head(db)
            issued = x509.load_pem_x509_certificate(cert.read_bytes())
            issuance.record_certificate(db, issued, StationIdentity(args.station, args.county), "issued")
        finally:
            db.dispose()
    print(f"{cert}\n{key}")
    return 0


def cmd_pki_revoke(args) -> int:
    from sync.registry.db import Database
    from sync.registry.migrate import require_head
    from sync.registry.pki import TlsPaths
    from sync.registry.revocation import revoke

    db = Database(args.db) if args.db else None
    try:
        if db is not None:
            require_head(db)
        serials = revoke(TlsPaths(Path(args.dir)), station_id=args.station, serial=args.serial, db=db)
    finally:
        if db is not None:
            db.dispose()
    print(f"revoked {len(serials)} certificate(s): {', '.join(serials)}")
    return 0


def cmd_enroll(args) -> int:
    from sync.registry.enrollment import enroll

    enrollment = enroll(Path(args.tls_dir), args.county, args.station, args.url, Path(args.output))
    print(f"enrollment for {enrollment.station_id} ({enrollment.county}) written to {args.output}")
    return 0


def cmd_seed(args) -> int:
    from sync.registry.seed import seed_county

    registry = _registry(args)
    summary = seed_county(registry, args.county, args.students, args.year, args.seed)
    registry.db.dispose()
    print(
        f"{summary.county}: {summary.added} students added "
        f"({summary.approved} approved, {summary.captured_at_zhongkao} captured at 中考, {summary.pending} pending)"
    )
    return 0


def cmd_status(args) -> int:
    from sync.registry.admin import set_status

    registry = _registry(args)
    outcome = set_status(registry, args.students, "approved" if args.command == "approve" else "withdrawn")
    registry.db.dispose()
    failed = {sid: code for sid, code in outcome.items() if code != "ok"}
    for sid, code in failed.items():
        print(f"{sid}: {code}", file=sys.stderr)
    print(f"{len(outcome) - len(failed)} changed, {len(failed)} refused")
    return 1 if failed else 0


SERVE_ENV = "SYNC_REGISTRY_SERVE"


def _serve_settings(options: dict):
    from sync.registry.config import Settings

    extra = {
        "grace_days": options["grace_days"],
        "tls_dir": Path(options["tls_dir"]),
        "manual_evidence": options["manual_evidence"],
    }
    for name in ("deadline", "season_opens"):
        if options.get(name):
            extra[name] = date.fromisoformat(options[name])
    if options.get("blob_dir"):
        extra["blob_dir"] = Path(options["blob_dir"])
    return Settings(db_url=options["db"], **extra)


def app_from_environment():
    """The app of one worker process of ``serve --workers N`` (settings passed in SYNC_REGISTRY_SERVE)."""
    from sync.registry import logs
    from sync.registry.app import create_app
    from sync.registry.core import Registry
    from sync.registry.faults import NO_FAULTS, Faults

    options = json.loads(os.environ[SERVE_ENV])
    os.umask(0o077)
    log_dir = Path(options["log_dir"]) if options.get("log_dir") else None
    logs.configure(log_dir, options["log_level"], per_process=options["workers"] > 1)
    # Request threads release the GIL on every database call; a short switch interval lets them
    # take it back quickly instead of queueing behind the event loop (the GIL convoy effect).
    sys.setswitchinterval(0.0005)
    faults = Faults.from_config(options["faults"]) if options.get("faults") else NO_FAULTS
    return create_app(Registry.open(_serve_settings(options)), faults=faults)


def cmd_serve(args) -> int:
    import logging

    from sync.registry import logs
    from sync.registry.core import Registry
    from sync.registry.faults import Faults
    from sync.registry.tls import serve_workers

    options = {
        "db": args.db,
        "tls_dir": args.tls_dir,
        "blob_dir": args.blob_dir,
        "grace_days": args.grace_days,
        "deadline": args.deadline,
        "season_opens": args.season_opens,
        "manual_evidence": args.manual_evidence,
        "faults": args.faults,
        "log_dir": args.log_dir,
        "log_level": args.log_level,
        "workers": args.workers,
    }
    os.umask(0o077)
    settings = _serve_settings(options)  # fail early, in the parent, on bad settings
    if Faults.from_config(args.faults).active and args.workers != 1:
        raise AdminError("FAULTS_NEED_ONE_WORKER", "fault hooks are per process: use --workers 1")
    registry = Registry.open(settings)
    registry.db.dispose()
    logs.configure(Path(args.log_dir) if args.log_dir else None, args.log_level, per_process=args.workers > 1)
    logging.getLogger("sync.registry").info(
        "serving entry year %s on %s:%s, %d worker(s), manual evidence %s",
        registry.season,
        args.host,
        args.port,
        args.workers,
        settings.manual_evidence,
    )
    print(f"registry (entry year {registry.season}) on https://{args.host}:{args.port}", flush=True)
    os.environ[SERVE_ENV] = json.dumps(options)
    try:
        serve_workers(
            "sync.registry.cli:app_from_environment", Path(args.tls_dir), args.host, args.port, args.workers
        )
    except KeyboardInterrupt:
        pass
    return 0


def cmd_report(args) -> int:
    from dataclasses import asdict

    from sync.registry.admin import manual_records, report, report_dicts

    registry = _registry(args)
    if args.manual:
        rows = [asdict(r) for r in manual_records(registry, args.county)]
        columns = [
            "county",
            "station_id",
            "record_id",
            "student_id",
            "approved_by",
            "outcome",
            "reg_no",
            "code",
        ]
    else:
        rows = report_dicts(report(registry, args.county))
        columns = [
            "county",
            "students",
            "pending",
            "approved",
            "captured_at_zhongkao",
            "withdrawn",
            "captured",
            "registered",
            "registered_chip",
            "registered_manual",
            "held_for_review",
            "rejected",
            "last_serial",
            "serial_gaps",
        ]
    registry.db.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if args.manual:
        print("records without chip evidence (county administrator's sign-off):")
    print("  ".join(columns))
    for row in rows:
        print("  ".join(str(row[c] if row[c] is not None else "-").rjust(len(c)) for c in columns))
    return 0


def cmd_review(args) -> int:
    from sync.registry.admin import review

    registry = _registry(args)
    failed = 0
    decisions = [(r, True) for r in args.approve or []] + [(r, False) for r in args.refuse or []]
    for record_id, approve in decisions:
        try:
            print(f"{record_id}: {review(registry, record_id, approve=approve)}")
        except AdminError as error:
            print(f"{record_id}: {error.code}: {error.detail}", file=sys.stderr)
            failed += 1
    registry.db.dispose()
    return 1 if failed else 0


def cmd_gc(args) -> int:
    from sync.registry.gc import collect

    extra = {"blob_dir": Path(args.blob_dir)} if args.blob_dir else {}
    registry = _registry(args, **extra)
    done = collect(registry, args.min_age_hours * 3600.0)
    registry.db.dispose()
    print(
        f"deleted {done.deleted} unreferenced photo(s); kept {done.referenced} referenced and "
        f"{done.too_young} too recent; removed {done.temporaries} stale temporary file(s)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sync-registry", description="reference exam-registration registry")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the schema and fix the entry year")
    p.add_argument("--db", required=True)
    p.add_argument("--year", type=int, required=True)
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("migrate", help="upgrade the database schema to this version's (one transaction)")
    p.add_argument("--db", required=True)
    p.set_defaults(handler=cmd_migrate)

    pki = sub.add_parser("pki", help="the registry's private CA and certificates")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    p = pki_sub.add_parser("init", help="CA and server certificate for localhost/127.0.0.1")
    p.add_argument("--dir", required=True)
    p.set_defaults(handler=cmd_pki_init)
    p = pki_sub.add_parser("station", help="a station client certificate")
    p.add_argument("--dir", required=True)
    p.add_argument("--county", required=True)
    p.add_argument("--station", required=True)
    p.add_argument("--days", type=int, default=90, help="certificate lifetime (renewed by the station)")
    p.add_argument("--db", help="also record it in this registry database's issuance index")
    p.set_defaults(handler=cmd_pki_station)
    p = pki_sub.add_parser("revoke", help="revoke a station's certificates (or one serial)")
    p.add_argument("--dir", required=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--station", help="every certificate ever issued to this station")
    which.add_argument("--serial", help="one certificate, by its serial number (hex)")
    p.add_argument(
        "--db",
        help="also revoke in this registry database (every node honours it within seconds; with --station, "
        "the certificates its issuance index lists are revoked too)",
    )
    p.set_defaults(handler=cmd_pki_revoke)

    p = sub.add_parser("enroll", help="write a station's enrollment file")
    p.add_argument("--tls-dir", required=True)
    p.add_argument("--county", required=True)
    p.add_argument("--station", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(handler=cmd_enroll)

    p = sub.add_parser("seed", help="synthetic students for a county")
    p.add_argument("--db", required=True)
    p.add_argument("--county", required=True)
    p.add_argument("--students", type=int, required=True)
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=cmd_seed)

    for name in ("approve", "withdraw"):
        p = sub.add_parser(name, help=f"{name} students (a feed change)")
        p.add_argument("--db", required=True)
        p.add_argument("students", nargs="+", metavar="STUDENT")
        p.set_defaults(handler=cmd_status)

    p = sub.add_parser("serve", help="serve the API over mutual TLS")
    p.add_argument("--db", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls-dir", required=True)
    p.add_argument(
        "--blob-dir",
        help="photo files (default: beside a SQLite file; with PostgreSQL the photos live in the database "
        "unless this names a directory every node shares)",
    )
    p.add_argument("--grace-days", type=float, default=7.0, help="late-arrival grace after the deadline")
    p.add_argument("--deadline", help="last capture day YYYY-MM-DD (default 30 November of the entry year)")
    p.add_argument("--season-opens", help="first plausible capture day YYYY-MM-DD (default 1 August)")
    p.add_argument(
        "--manual-evidence",
        choices=("at_once", "review"),
        default="at_once",
        help="records without chip evidence: numbered at once (flagged) or after league review",
    )
    p.add_argument("--log-dir", help="also log to a rotating file in this directory")
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.add_argument("--faults", help="fault hooks as JSON or a JSON file (tests only)")
    p.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL deployments)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("report", help="approved, captured, registered, rejected per county")
    p.add_argument("--db", required=True)
    p.add_argument("--county")
    p.add_argument("--manual", action="store_true", help="list the records without chip evidence")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("review", help="league review of records held without chip evidence")
    p.add_argument("--db", required=True)
    p.add_argument("--approve", nargs="+", metavar="RECORD")
    p.add_argument("--refuse", nargs="+", metavar="RECORD")
    p.set_defaults(handler=cmd_review)

    p = sub.add_parser("gc", help="delete photos no record references")
    p.add_argument("--db", required=True)
    p.add_argument("--blob-dir")
    p.add_argument("--min-age-hours", type=float, default=24.0)
    p.set_defaults(handler=cmd_gc)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "review" and not (args.approve or args.refuse):
        build_parser().error("review needs --approve or --refuse")
    try:
        return args.handler(args)
    except AdminError as error:
        print(f"sync-registry: {error.code}: {error.detail}", file=sys.stderr)
    except (ValueError, OSError) as error:
        code = getattr(error, "code", type(error).__name__)
        print(f"sync-registry: {code}: {getattr(error, 'reason', None) or error}", file=sys.stderr)
    except Exception as error:  # e.g. the database is unreachable
        from sync.registry.pki import PkiError

        if not isinstance(error, PkiError) and type(error).__module__.split(".")[0] != "sqlalchemy":
            raise
        print(f"sync-registry: {getattr(error, 'code', type(error).__name__)}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
