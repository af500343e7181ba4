"""Who may administer the station, and how the administration shows times and roles."""

from __future__ import annotations

from datetime import datetime

from station.domain.rules import CHINA_STANDARD_TIME
from station.errors import OfficerError
from station.i18n import Text

COUNTY_ADMIN, OFFICER = "county_admin", "operator"
ROLE_NAMES = {
    OFFICER: Text("采集员", "officer"),
    COUNTY_ADMIN: Text("旗县管理员", "county administrator"),
}


class NotAllowed(OfficerError):
    """Only an enabled county administrator may do this."""

    code = "not_county_admin"
    message = Text("此操作只允许旗县管理员进行。", "Only a county administrator may do this.")


def require_admin(app, username: str):  # type: ignore[no-untyped-def]
    """The operator ``username`` when it is an enabled county administrator; ``NotAllowed`` otherwise."""
    operator = app.database.operators.get(username)
    if operator is None or operator.disabled or operator.role != COUNTY_ADMIN:
        raise NotAllowed()
    return operator


def local_time(iso: str | None, *, seconds: bool = False) -> str:
    """A stored UTC time as China Standard Time (``2026-11-28 16:05``); "—" when there is none."""
    if not iso:
        return "—"
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CHINA_STANDARD_TIME)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
