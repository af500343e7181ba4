"""Who runs an administrator's command: ``--operator NAME`` and that officer's password.

Reports, exports, the audit log and account changes are for county administrators only (rule 2.2),
on the command line as in the window. The password is asked on the terminal (never on the command
line, where the shell history would keep it) or, for scripts, read from standard input with
``--password-stdin``, one password a line, in the order the command asks for them. A wrong password
counts towards the account's lockout like a wrong log-in at the desk.
"""

from __future__ import annotations

import getpass
import sys

from station.errors import OfficerError
from station.i18n import Text


class SignInRequired(OfficerError):
    code = "operator_required"
    message = Text(
        "此命令需要旗县管理员身份：请加上 --operator 用户名（密码会询问；脚本可用 --password-stdin）。",
        "This command needs a county administrator: add --operator NAME (the password is asked; scripts use "
        "--password-stdin).",
    )


def add_signin_options(
    parser, *, required_help: str = "the county administrator running the command"
) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument("--operator", metavar="NAME", help=required_help)
    parser.add_argument(
        "--password-stdin", action="store_true", help="read passwords from standard input, one a line"
    )


def read_password(args, prompt: Text) -> str:  # type: ignore[no-untyped-def]
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(str(prompt))


def read_new_password(args) -> str:  # type: ignore[no-untyped-def]
    """A new password: one line from standard input, or typed twice on the terminal."""
    from station.admin.accounts import check_new_password

    if getattr(args, "password_stdin", False):
        password = read_password(args, Text("", ""))
        return check_new_password(password, password)
    first = read_password(args, Text("新密码：", "New password: "))
    return check_new_password(first, read_password(args, Text("再输入一次：", "Again: ")))


def signed_in_admin(args, app) -> str:  # type: ignore[no-untyped-def]
    """The county administrator ``--operator`` names, once their password is proven."""
    from station.admin.common import require_admin
    from station.commands.officer_login import login_for

    if not args.operator:
        raise SignInRequired()
    login = login_for(args)  # the same log-in that opened the store: its password is read once
    if login is None:
        raise SignInRequired()
    operator = app.database.operators.verify(login.username, login.password)
    require_admin(app, operator.username)
    return operator.username
