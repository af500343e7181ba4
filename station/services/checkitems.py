"""One line of the station's health checklist (``station doctor``, the self-check panel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from station.config import Settings
from station.i18n import Text


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckItem:
    name: str
    status: Status
    title: Text
    detail: Text
    fix: Text | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": str(self.status),
            "title": str(self.title),
            "detail": str(self.detail),
            "fix": str(self.fix) if self.fix else None,
        }


# A camera probe: (status, detail) for the configured camera. The desk passes one that reads its
# own running preview, since a second opening of a busy camera would fail.
CameraProbe = Callable[[Settings], tuple[Status, Text]]
