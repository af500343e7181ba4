"""The ``station`` command: every station function from a terminal, and the desk GUI.

Subcommands are registered by the layer that owns them (``register(subparsers)`` in each module), so
this file only assembles the parser, starts the run through the composition root (``station.app.boot``:
logging, crash handling, configuration) and hands each command its ``Context``. It maps outcomes to
exit codes: 0 success, 1 a finding (invalid number, unhealthy station, no card...), 2 bad input or
set-up, 70 an unexpected internal error (a crash report is written and one sentence printed: no
traceback ever reaches the officer).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from station import __version__, i18n

EXIT_INTERNAL = 70  # EX_SOFTWARE

# Which module registers each top-level command. Only the module of the command being run is
# imported, so `station id check` does not pay for Qt, OpenCV or the database driver; help imports all.
_COMMAND_MODULES = {
    "id": "station.commands.numbers",
    "regno": "station.commands.numbers",
    "doctor": "station.commands.doctor",
    "demo": "station.commands.demo",
    "gui": "station.commands.gui",
    "store": "station.store.cli",
    "idcard": "station.idcard.cli",
    "photo": "station.camera.cli",
    "enroll": "station.commands.enroll",
    "sync": "station.commands.sync",
    "capture": "station.commands.capture",
    "status": "station.commands.status",
    "operator": "station.commands.operators",
    "audit": "station.commands.audit",
    "report": "station.commands.report",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command (``command`` None) or only the module that owns ``command``."""
    parser = argparse.ArgumentParser(
        prog="station", description="考籍注册采集站 / exam-registration capture station"
    )
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of messages (default zh)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = [_COMMAND_MODULES[command]] if command in _COMMAND_MODULES else _COMMAND_MODULES.values()
    for name in dict.fromkeys(wanted):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue
            raise
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def _hoist_language(argv: list[str]) -> list[str]:
    """Accept ``--lang X`` anywhere on the line (officers add it at the end), as if given first."""
    for index, arg in enumerate(argv):
        if arg == "--lang" and index + 1 < len(argv):
            return [arg, argv[index + 1], *argv[:index], *argv[index + 2 :]]
        if arg.startswith("--lang="):
            return [arg, *argv[:index], *argv[index + 1 :]]
    return argv


def main(argv: list[str] | None = None) -> int:
    arguments = _hoist_language(list(sys.argv[1:] if argv is None else argv))
    if arguments[:1] == ["--version"]:  # answered before any command module is imported
        print(f"station {__version__}")
        return 0
    command = next((a for a in arguments if not a.startswith("-") and a not in ("zh", "en")), None)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    if args.lang:
        i18n.set_language(args.lang)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from station.app import boot
    from station.errors import OfficerError

    try:
        context = boot()
    except OfficerError as error:
        sys.stderr.write(f"{error.sentence()}\n")
        return error.exit_code
    if args.lang:
        i18n.set_language(args.lang)
    from station.commands.officer_login import admin_source, officer_source

    context.officer = officer_source(args)  # who opens a slot-wrapped store (--operator/--password-stdin)
    context.admin = admin_source(args)  # the administrator a new station is created with (--admin)
    try:
        return int(handler(args, context) or 0)
    except KeyboardInterrupt:
        return 130
    except OfficerError as error:
        sys.stderr.write(f"{error.sentence()}\n")
        return error.exit_code
    except Exception as error:  # the last line of defence: a report, a sentence, no traceback
        from station.crash import crash_sentence
        from station.files import os_error_sentence

        disk = os_error_sentence(error) if isinstance(error, OSError) else None
        if disk is not None:  # a full, read-only or forbidden disk: a sentence, not a crash report
            sys.stderr.write(f"{disk}\n")
            return 2

        crash = context.startup.crash
        report = crash.handle(type(error), error, error.__traceback__, "MainThread") if crash else None
        sys.stderr.write(f"{crash_sentence(report)}\n")
        return EXIT_INTERNAL
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(main())
