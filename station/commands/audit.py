"""``station audit [--json]`` and ``station audit verify``: who did what at this station, and whether
the record of it is intact.

``station audit`` lists the newest entries (capture, view, export, purge, settings change, sign-off,
manual override, account changes, log-ins) with operator and time, for a county administrator
(``--operator NAME``). ``station audit verify`` walks the hash chain from the first entry: exit 0
when intact, 1 when an entry was altered or removed (it names where), 2 when the station cannot be
opened.
"""

from __future__ import annotations

from station.commands.officer_login import add_login_options
from station.commands.output import print_json
from station.commands.signin import add_signin_options, signed_in_admin


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("audit", help="审计日志 / the audit log")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=200, help="how many of the newest entries")
    parser.add_argument("--action", help="only this action (capture, view, export, purge, ...)")
    parser.add_argument("--by", metavar="NAME", help="only what this officer did")
    add_signin_options(parser)
    parser.set_defaults(handler=list_entries)
    commands = parser.add_subparsers(dest="audit_command")
    verify = commands.add_parser("verify", help="check the hash chain of the whole log")
    verify.add_argument("--json", action="store_true")
    add_login_options(verify)  # without an OS keyring any officer's log-in opens the store
    verify.set_defaults(handler=verify_chain)


def list_entries(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.admin.audit_view import AuditView, describe

    with ctx.open_station() as app:
        view = AuditView(app, signed_in_admin(args, app))
        entries = view.entries(action=args.action, operator=args.by, limit=max(1, args.limit))
    if args.json:
        print_json(
            {
                "entries": [
                    {
                        "id": e.id,
                        "at": e.at,
                        "operator": e.operator,
                        "action": e.action,
                        "subject": e.subject,
                        "detail": e.detail,
                        "entry_hash": e.entry_hash,
                    }
                    for e in entries
                ]
            }
        )
        return 0
    for entry in entries:
        line = describe(entry)
        print(
            "\t".join(
                (line.at, line.operator, str(line.action_name), line.subject, str(line.detail))
            ).rstrip()
        )
    return 0


def verify_chain(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.admin.audit_view import chain_verdict

    with ctx.open_station() as app:
        check = app.database.audit.check_chain()
    if args.json:
        print_json(
            {
                "intact": check.intact,
                "entries": check.entries,
                "problem": check.problem,
                "first_bad_id": check.first_bad_id,
                "message": chain_verdict(check).as_dict(),
            }
        )
    else:
        print(chain_verdict(check))
    return 0 if check.intact else 1
