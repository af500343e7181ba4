"""Officer accounts as the county administrator manages them: list, add, disable, enable, unlock and
reset a password. The changes themselves (and their audit entries) are the store's
``OperatorRepository``; this adds who may make them, the checks an officer reads in plain words,
and how an account is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from station.admin.common import COUNTY_ADMIN, ROLE_NAMES, local_time, require_admin
from station.errors import OfficerError
from station.i18n import Text

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,31}$")


class AccountInputError(OfficerError):
    code = "account_input"


@dataclass(frozen=True)
class AccountView:
    username: str
    display_name: str
    role: str
    role_name: Text
    state: Text
    locked: bool
    disabled: bool
    last_login: str


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.match(username):
        raise AccountInputError(
            Text(
                "用户名须为 2–32 位英文字母、数字或 . _ -，以字母或数字开头。",
                "A user name has 2-32 letters, digits or . _ - and starts with a letter or digit.",
            )
        )
    return username


def check_new_password(password: str, again: str) -> str:
    if password != again:
        raise AccountInputError(Text("两次输入的密码不一致。", "The two passwords differ."))
    if len(password) < 8:
        raise AccountInputError(Text("密码至少需要 8 个字符。", "A password needs at least 8 characters."))
    return password


def view(operator, now: datetime | None = None) -> AccountView:  # type: ignore[no-untyped-def]
    moment = now or datetime.now(UTC)
    locked = bool(
        operator.locked_until
        and datetime.fromisoformat(operator.locked_until.replace("Z", "+00:00")) > moment
    )
    if operator.disabled:
        state = Text("已停用", "disabled")
    elif locked:
        state = Text("已锁定（至 {t}）", "locked (until {t})").format(
            t=local_time(operator.locked_until)[-5:]
        )
    else:
        state = Text("正常", "active")
    return AccountView(
        operator.username,
        operator.display_name,
        operator.role,
        ROLE_NAMES.get(operator.role, Text(operator.role, operator.role)),
        state,
        locked,
        bool(operator.disabled),
        local_time(operator.last_login_at),
    )


class Accounts:
    """The accounts of one station, managed by the county administrator ``acting``."""

    def __init__(self, app, acting: str) -> None:  # type: ignore[no-untyped-def]
        require_admin(app, acting)
        self._operators = app.database.operators
        self.acting = acting

    def list(self) -> list[AccountView]:
        return [view(operator) for operator in self._operators.list()]

    def add(self, username: str, password: str, *, role: str, display_name: str | None = None) -> AccountView:
        if role not in ROLE_NAMES:
            raise AccountInputError(Text("请选择角色。", "Choose a role."))
        operator = self._operators.create(
            check_username(username),
            password,
            role=role,
            display_name=(display_name or "").strip() or None,
            created_by=self.acting,
        )
        return view(operator)

    def disable(self, username: str) -> None:
        if username == self.acting:
            raise AccountInputError(
                Text("不能停用自己正在使用的账号。", "You cannot disable the account you are using.")
            )
        self._operators.disable(username, by=self.acting)

    def enable(self, username: str) -> None:
        self._operators.enable(username, by=self.acting)

    def unlock(self, username: str) -> None:
        self._operators.unlock(username, by=self.acting)

    def reset_password(self, username: str, password: str) -> None:
        self._operators.set_password(username, password, changed_by=self.acting)


__all__ = [
    "COUNTY_ADMIN",
    "AccountInputError",
    "AccountView",
    "Accounts",
    "check_new_password",
    "check_username",
]
