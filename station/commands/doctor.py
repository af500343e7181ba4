"""``station doctor``: the station's health as a checklist, each item with a plain-language fix.

The checklist is ``station.services.health`` — the same one the administrator's self-check panel
shows, so the two always agree. Exit status: 0 when nothing fails (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

from station.commands.officer_login import add_login_options
from station.commands.output import print_json
from station.i18n import Text


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("doctor", help="check the station's health / 采集站自检")
    parser.add_argument("--json", action="store_true")
    add_login_options(parser)  # where the key is wrapped by officers' passwords, the store opens with one
    parser.set_defaults(handler=run)


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.services.checkitems import Status
    from station.services.health import healthy, run_checks

    items = run_checks(ctx.settings, officer=ctx.officer)
    ok = healthy(items)
    if args.json:
        print_json({"healthy": ok, "items": [item.as_dict() for item in items]})
        return 0 if ok else 1
    marks = {Status.OK: "✔", Status.WARN: "!", Status.FAIL: "✘"}
    for item in items:
        print(f"{marks[item.status]} {item.title}: {item.detail}")
        if item.fix and item.status is not Status.OK:
            print(f"    → {item.fix}")
    print(
        Text("采集站状态良好。", "The station is healthy.")
        if ok
        else Text("有项目需要处理。", "Something needs attention.")
    )
    return 0 if ok else 1
