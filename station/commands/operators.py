"""``station operator add | list``: the officers who may log in at this station's desk.

Passwords are read from the terminal (twice) or, for scripts, from standard input with
``--password-stdin``; they never appear on the command line, where the shell history would keep them.
"""

from __future__ import annotations

import getpass
import sys

from station.commands.output import fail, print_json
from station.i18n import Text


def register(subparsers) -> None:
    parser = subparsers.add_parser("operator", help="desk officers / 采集员账号")
    commands = parser.add_subparsers(dest="operator_command", required=True)
    add = commands.add_parser("add", help="add an officer who may log in at the desk")
    add.add_argument("username")
    add.add_argument("--role", choices=("operator", "county_admin"), default="operator")
    add.add_argument("--display-name", help="the name shown in the desk window")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=add_operator)
    listing = commands.add_parser("list", help="list the officers")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_operators)


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(str(Text("密码：", "Password: ")))
    if first != getpass.getpass(str(Text("再输入一次：", "Again: "))):
        return None
    return first


def add_operator(args, ctx) -> int:
    password = _password(args)
    if password is None:
        return fail(Text("两次输入的密码不一致。", "The two passwords differ."))
    with ctx.open_station() as app:
        operator = app.database.operators.create(
            args.username, password, role=args.role, display_name=args.display_name, created_by="cli"
        )
    print(
        Text("已添加 {name}（{role}）。", "Added {name} ({role}).").format(
            name=operator.username, role=operator.role
        )
    )
    return 0


def list_operators(args, ctx) -> int:
    with ctx.open_station() as app:
        operators = app.database.operators.list()
    if args.json:
        print_json(
            [{"username": o.username, "display_name": o.display_name, "role": o.role} for o in operators]
        )
    else:
        for operator in operators:
            print(f"{operator.username}\t{operator.display_name}\t{operator.role}")
    return 0
