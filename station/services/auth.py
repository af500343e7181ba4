"""Officer log-in for the desk: the widgets ask here, and this asks the store (with its lockout)."""

from __future__ import annotations

from station.domain.officers import OfficerLogin
from station.errors import OfficerError
from station.i18n import Text


class Authenticator:
    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self._app = app

    def has_operators(self) -> bool:
        return bool(self._app.database.operators.list())

    def verify(self, username: str, password: str) -> tuple[str | None, Text | None]:
        """(the username, None) on success; (None, the reason to show) otherwise."""
        try:
            operator = self._app.database.operators.verify(username.strip(), password)
        except OfficerError as error:
            return None, error.message
        return operator.username, None


class StoreLogin:
    """The log-in that opens the store, where the key is wrapped by the officers' passwords (no OS
    keyring): nothing can be read before an officer logs in, so the typed password opens the station
    (``StationApp.open``), and the officer is then verified as at any log-in. ``app`` is the opened
    station after a success."""

    def __init__(self, context) -> None:  # type: ignore[no-untyped-def]
        self._context = context
        self.app = None

    def verify(self, username: str, password: str) -> tuple[str | None, Text | None]:
        try:
            self.app = self._context.open_station(OfficerLogin(username.strip(), password))
        except OfficerError as error:
            return None, error.sentence()
        return username.strip(), None


NO_OPERATORS = Text(
    "本站还没有采集员账号。请旗县管理员运行 station operator add 用户名 --role county_admin 创建。",
    "This station has no officer accounts yet: the county administrator creates one with "
    "`station operator add NAME --role county_admin`.",
)
