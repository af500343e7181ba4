"""Which officer opens the station from the command line, and who becomes its first administrator.

Where the database key is wrapped by the officers' passwords (no OS keyring, ``station.store.keyslots``)
a command that opens the store needs an officer's log-in:

* ``--operator NAME --password-stdin``: for scripts; the password is the first line of standard input
  (a command that also reads a new password, such as ``operator add``, reads it from the next line);
* ``--operator NAME`` alone, or nothing, at a terminal: the password (and the name) are asked for, and
  only when the store needs them (a station whose key is in the OS keyring asks nothing);
* nothing, without a terminal: the store says an officer must log in, with the flags to use (exit 2).

``--admin NAME`` names the county administrator created with a new station (``station enroll``,
``station store init``) or given the key again after a recovery (``station store recover``); the
password is read from standard input with ``--password-stdin``, else asked twice at the terminal.
Passwords never go on the command line, where the shell history would keep them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from station.domain.officers import OfficerLogin, OfficerSource
from station.errors import OfficerError
from station.i18n import Text

PASSWORDS_DIFFER = Text("两次输入的密码不一致。", "The two passwords differ.")


def add_login_options(
    parser: argparse.ArgumentParser, *, operator: bool = True, password_stdin: bool = True
) -> None:
    """``--operator NAME`` and ``--password-stdin`` (either left out when the command already has it)."""
    if operator:
        parser.add_argument(
            "--operator", metavar="NAME", help="the officer who opens the station (password asked if needed)"
        )
    if password_stdin:
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the officer's password from standard input"
        )


def officer_source(args: argparse.Namespace, stdin: TextIO | None = None) -> OfficerSource:
    """The log-in that opens the station for this command: read now with ``--password-stdin``, else a
    function that asks at the terminal when (and only if) the store needs it."""
    username = getattr(args, "operator", None)
    if username and getattr(args, "password_stdin", False):
        return login_for(args, stdin)
    return lambda: login_for(args, stdin)


def login_for(args: argparse.Namespace, stdin: TextIO | None = None) -> OfficerLogin | None:
    """``--operator``'s log-in, read once per command (the store's unlock and an administrator's
    sign-in use the same password): from standard input with ``--password-stdin``, else asked at the
    terminal; None when nobody can be asked."""
    memo = vars(args).setdefault("_officer_login", [])
    if not memo:
        stream = stdin or sys.stdin
        username = getattr(args, "operator", None)
        if username and getattr(args, "password_stdin", False):
            memo.append(OfficerLogin(username, read_line(stream)))
        else:
            memo.append(_prompt_login(username, stream))
    return memo[0]


def admin_source(args: argparse.Namespace, stdin: TextIO | None = None) -> Callable[[], OfficerLogin | None]:
    """A function giving the new administrator's log-in (None without ``--admin``); it reads the
    password when called, so a command reads its other input first."""
    stream = stdin or sys.stdin

    def read() -> OfficerLogin | None:
        username = getattr(args, "admin", None)
        if not username:
            return None
        if getattr(args, "password_stdin", False) or not stream.isatty():
            return OfficerLogin(username, read_line(stream))
        first = getpass.getpass(str(Text("{u} 的新密码：", "New password for {u}: ").format(u=username)))
        if first != getpass.getpass(str(Text("再输入一次：", "Again: "))):
            raise OfficerError(PASSWORDS_DIFFER, code="passwords_differ")
        return OfficerLogin(username, first)

    return read


def read_line(stream: TextIO) -> str:
    return stream.readline().rstrip("\r\n")


def _prompt_login(username: str | None, stream: TextIO) -> OfficerLogin | None:
    if not stream.isatty():
        return None
    if not username:
        sys.stderr.write(str(Text("采集员用户名：", "Officer user name: ")))
        sys.stderr.flush()
        username = read_line(stream).strip()
    password = getpass.getpass(str(Text("{u} 的密码：", "Password for {u}: ").format(u=username)))
    return OfficerLogin(username, password)
