"""How long may captures wait for the registry before the desk warns, and then stops?

A capture that waits unsynced for days is a capture one disk failure away from being lost (and a
student without a number). Past ``warn_hours`` the desk warns; past ``block_hours`` it stops taking
new captures until a county administrator acknowledges the situation (then the office can keep
working while the link is repaired). Pure: the caller gives the oldest waiting capture and the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from station.i18n import Text


class Backlog(StrEnum):
    OK = "ok"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True)
class UnsyncedState:
    level: Backlog
    hours: float  # age of the oldest waiting capture; 0 when none waits

    def notice(self) -> Text | None:
        """What the desk says about it (None when all is well)."""
        hours = int(self.hours)
        if self.level is Backlog.WARN:
            return Text(
                "最早一条采集记录已等待同步 {h} 小时，请检查网络或联系旗县管理员。",
                "The oldest capture has waited {h} hours for sync: check the network or call the county "
                "administrator.",
            ).format(h=hours)
        if self.level is Backlog.BLOCK:
            return Text(
                "最早一条采集记录已等待同步 {h} 小时，超过允许时间。请旗县管理员确认后才能继续采集。",
                "The oldest capture has waited {h} hours for sync, longer than allowed. A county "
                "administrator must acknowledge before capturing on.",
            ).format(h=hours)
        return None


def unsynced_state(
    oldest: datetime | None, now: datetime, warn_hours: int, block_hours: int
) -> UnsyncedState:
    if oldest is None:
        return UnsyncedState(Backlog.OK, 0.0)
    hours = max(0.0, (now - oldest).total_seconds() / 3600)
    if block_hours and hours >= block_hours:
        return UnsyncedState(Backlog.BLOCK, hours)
    if warn_hours and hours >= warn_hours:
        return UnsyncedState(Backlog.WARN, hours)
    return UnsyncedState(Backlog.OK, hours)
