"""Registry settings: database, blob store, deadline policy, limits and fault hooks.

The season (entry year) and the feed epoch live in the database (``sync-registry init``); everything
here is per process. The deadline is 30 November of the season, end of day Beijing time (rule 7.1);
``deadline`` moves it when the province opens a late window. A record counts by its capture time and
must also arrive within ``grace_days`` of the deadline (docs/sync-protocol.md §10.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from sync.registry.db import normalize_url
from sync.registry.faults import Faults

BEIJING = timezone(timedelta(hours=8))
DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024


@dataclass
class Settings:
    db_url: str
    blob_dir: Path | None = None
    grace_days: float = 7.0
    deadline: date | None = None  # last capture day; default 30 November of the season
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    batch_lease_s: float = 120.0
    page_limit_max: int = 1000
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.db_url = normalize_url(self.db_url)
        if self.blob_dir is None:
            self.blob_dir = default_blob_dir(self.db_url)
        self.blob_dir = Path(self.blob_dir)

    def deadline_end(self, season: int) -> datetime:
        """The first instant after the last capture day (exclusive bound)."""
        last_day = self.deadline or date(season, 11, 30)
        return datetime(last_day.year, last_day.month, last_day.day, tzinfo=BEIJING) + timedelta(days=1)


def default_blob_dir(db_url: str) -> Path:
    """Beside the SQLite file (``<file>.blobs``); ``./registry-blobs`` for a server database."""
    url = make_url(normalize_url(db_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".blobs")
    return Path("registry-blobs")
