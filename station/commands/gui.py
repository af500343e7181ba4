"""``station gui``: the capture desk for this station (reader, camera and store from its settings);
on a machine that is not set up yet, the first-run wizard comes first."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("gui", help="open the capture desk / 打开采集界面")
    add_gui_options(parser)
    parser.set_defaults(handler=run)


def add_gui_options(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument(
        "--seconds", type=float, help="close the window after this many seconds (demos, tests)"
    )
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the window just before it closes")


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.ui.admin.first_run import first_run_if_needed
    from station.ui.desk_app import qt_application, run_desk

    ctx = first_run_if_needed(
        ctx, qt_application
    )  # a new machine: the first-run wizard, before the store opens
    if ctx is None:
        return 1
    return run_desk(ctx, seconds=args.seconds, screenshot=args.screenshot)
