"""``station operator add | list | unlock | disable | enable | passwd``: the officers who may log in.

Passwords are read from the terminal (new ones twice) or, for scripts, from standard input with
``--password-stdin`` (one a line: the administrator's own first, then the new one); they never
appear on the command line, where the shell history would keep them. Once the station has a county
administrator, every change needs one (``--operator NAME``); an officer changes their own password
with their current one. Exit codes: 0 done, 2 bad input (wrong password, unknown account, a password
too short, the station's last administrator).
"""

from __future__ import annotations

from station.commands.officer_login import add_login_options, login_for
from station.commands.output import print_json
from station.commands.signin import add_signin_options, read_new_password, read_password, signed_in_admin
from station.i18n import Text


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("operator", help="desk officers / 采集员账号")
    commands = parser.add_subparsers(dest="operator_command", required=True)
    add = commands.add_parser("add", help="add an officer who may log in at the desk")
    add.add_argument("username")
    add.add_argument("--role", choices=("operator", "county_admin"), default="operator")
    add.add_argument("--display-name", help="the name shown in the desk window")
    add_signin_options(add, required_help="the county administrator adding the officer (once there is one)")
    add.set_defaults(handler=add_operator)
    listing = commands.add_parser("list", help="list the officers")
    listing.add_argument("--json", action="store_true")
    add_login_options(listing)
    listing.set_defaults(handler=list_operators)
    for name, help_text in (
        ("unlock", "unlock an account locked after wrong passwords"),
        ("disable", "stop an officer from logging in"),
        ("enable", "let a disabled officer log in again"),
        ("passwd", "set a new password (your own, or any officer's as a county administrator)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("username")
        add_signin_options(command)
        command.set_defaults(handler=change_operator, change=name)


def add_operator(args, ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.open_station() as app:
        admins = [o for o in app.database.operators.list() if o.role == "county_admin" and not o.disabled]
        created_by = signed_in_admin(args, app) if admins or args.operator else "cli"
        password = read_new_password(args)
        operator = app.database.operators.create(
            args.username, password, role=args.role, display_name=args.display_name, created_by=created_by
        )
    print(
        Text("已添加 {name}（{role}）。", "Added {name} ({role}).").format(
            name=operator.username, role=operator.role
        )
    )
    return 0


def list_operators(args, ctx) -> int:  # type: ignore[no-untyped-def]
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


_DONE = {
    "unlock": Text("已解锁 {name}。", "Unlocked {name}."),
    "disable": Text("已停用 {name}。", "Disabled {name}."),
    "enable": Text("已启用 {name}。", "Enabled {name}."),
    "passwd": Text("已为 {name} 设置新密码。", "New password set for {name}."),
}


def change_operator(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.admin.accounts import Accounts

    if args.change == "passwd" and not args.operator:
        args.operator = args.username  # an officer's own change: they open the store themselves
    with ctx.open_station() as app:
        if args.change == "passwd" and (args.operator or args.username) == args.username:
            # An officer's own change: their current password (the log-in that opened the store, when
            # --operator names them), then the new one.
            login = login_for(args) if args.operator else None
            current = login.password if login else read_password(args, Text("当前密码：", "Current password: "))
            app.database.operators.verify(args.username, current)
            app.database.operators.set_password(
                args.username, read_new_password(args), changed_by=args.username
            )
        else:
            accounts = Accounts(app, signed_in_admin(args, app))
            if args.change == "passwd":
                accounts.reset_password(args.username, read_new_password(args))
            else:
                getattr(accounts, args.change)(args.username)
    print(_DONE[args.change].format(name=args.username))
    return 0
