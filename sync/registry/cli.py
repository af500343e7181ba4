"""``sync-registry``: set up, feed and run the reference registry.

Forms (tests and scripts rely on them)::

    sync-registry init --db URL --year YYYY
    sync-registry pki init --dir DIR
    sync-registry pki station --dir DIR --county CODE6 --station ID
    sync-registry enroll --tls-dir DIR --county CODE6 --station ID --url URL -o FILE
    sync-registry seed --db URL --county CODE6 --students N --year YYYY [--seed S]
    sync-registry approve|withdraw --db URL STUDENT...
    sync-registry serve --db URL --host H --port P --tls-dir DIR
                        [--blob-dir DIR] [--grace-days D] [--deadline YYYY-MM-DD]
                        [--workers N] [--faults JSON|FILE]
    sync-registry report --db URL [--county CODE6] [--json]

Exit codes: 0 done, 1 refused (with the reason on stderr), 2 usage.
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


def cmd_pki_init(args) -> int:
    from sync.registry.pki import init_pki

    written = init_pki(Path(args.dir))
    print("\n".join(str(p) for p in written) if written else f"CA and server certificate exist in {args.dir}")
    return 0


def cmd_pki_station(args) -> int:
    from sync.registry.pki import issue_station

    cert, key = issue_station(Path(args.dir), args.county, args.station)
    print(f"{cert}\n{key}")
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
    from sync.registry.faults import Faults

    extra = {"faults": Faults.from_config(options.get("faults")), "grace_days": options["grace_days"]}
    if options.get("deadline"):
        extra["deadline"] = date.fromisoformat(options["deadline"])
    if options.get("blob_dir"):
        extra["blob_dir"] = Path(options["blob_dir"])
    return Settings(db_url=options["db"], **extra)


def app_from_environment():
    """The app of one worker process of ``serve --workers N`` (settings passed in SYNC_REGISTRY_SERVE)."""
    from sync.registry.app import create_app
    from sync.registry.core import Registry

    # Request threads release the GIL on every database call; a short switch interval lets them
    # take it back quickly instead of queueing behind the event loop (the GIL convoy effect).
    sys.setswitchinterval(0.0005)
    return create_app(Registry.open(_serve_settings(json.loads(os.environ[SERVE_ENV]))))


def cmd_serve(args) -> int:
    from sync.registry.core import Registry
    from sync.registry.tls import serve_workers

    options = {
        "db": args.db,
        "blob_dir": args.blob_dir,
        "grace_days": args.grace_days,
        "deadline": args.deadline,
        "faults": args.faults,
    }
    settings = _serve_settings(options)  # fail early, in the parent, on bad settings
    if settings.faults.active and args.workers != 1:
        raise AdminError("FAULTS_NEED_ONE_WORKER", "fault hooks are per process: use --workers 1")
    registry = Registry.open(settings)
    registry.db.dispose()
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
    from sync.registry.admin import report, report_dicts

    registry = _registry(args)
    rows = report_dicts(report(registry, args.county))
    registry.db.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    columns = [
        "county",
        "students",
        "pending",
        "approved",
        "captured_at_zhongkao",
        "withdrawn",
        "captured",
        "registered",
        "rejected",
        "last_serial",
        "serial_gaps",
    ]
    print("  ".join(columns))
    for row in rows:
        print("  ".join(str(row[c]).rjust(len(c)) for c in columns))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sync-registry", description="reference exam-registration registry")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the schema and fix the entry year")
    p.add_argument("--db", required=True)
    p.add_argument("--year", type=int, required=True)
    p.set_defaults(handler=cmd_init)

    pki = sub.add_parser("pki", help="the registry's private CA and certificates")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    p = pki_sub.add_parser("init", help="CA and server certificate for localhost/127.0.0.1")
    p.add_argument("--dir", required=True)
    p.set_defaults(handler=cmd_pki_init)
    p = pki_sub.add_parser("station", help="a station client certificate")
    p.add_argument("--dir", required=True)
    p.add_argument("--county", required=True)
    p.add_argument("--station", required=True)
    p.set_defaults(handler=cmd_pki_station)

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
    p.add_argument("--blob-dir")
    p.add_argument("--grace-days", type=float, default=7.0, help="late-arrival grace after the deadline")
    p.add_argument("--deadline", help="last capture day YYYY-MM-DD (default 30 November of the entry year)")
    p.add_argument("--faults", help="fault hooks as JSON or a JSON file (tests only)")
    p.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL deployments)")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("report", help="approved, captured, registered, rejected per county")
    p.add_argument("--db", required=True)
    p.add_argument("--county")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
