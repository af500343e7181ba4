"""The ``station`` command: every station function from a terminal, and the desk GUI.

Subcommands are registered by the layer that owns them (``register(subparsers)`` in each module), so
this file only assembles the parser, sets the language, and maps errors to exit codes:
0 success, 1 a finding (invalid number, unhealthy station, no card...), 2 bad input or set-up.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from station import __version__, i18n

# Modules that add subcommands; a module missing from a trimmed-down bundle is skipped.
_COMMAND_MODULES = (
    "station.commands.numbers",
    "station.commands.doctor",
    "station.commands.demo",
    "station.commands.gui",
    "station.store.cli",
    "station.idcard.cli",
    "station.camera.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="station", description="考籍注册采集站 / exam-registration capture station"
    )
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    parser.add_argument("--lang", choices=("zh", "en"), help="language of messages (default zh)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
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
    parser = build_parser()
    args = parser.parse_args(_hoist_language(list(sys.argv[1:] if argv is None else argv)))
    if args.lang:
        i18n.set_language(args.lang)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
