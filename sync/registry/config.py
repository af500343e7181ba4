"""Registry settings: database, blob store, evidence and time rules, limits, certificates.

The season (entry year) and the feed epoch live in the database (``sync-registry init``); everything
here is per process. The deadline is 30 November of the season, end of day Beijing time (rule 7.1);
``deadline`` moves it when the province opens a late window. A record counts by its capture time and
must also arrive within ``grace_days`` of the deadline (docs/sync-protocol.md §10.1).

Time is plausible when the capture is not before the season opened (``season_opens``, default
1 August of the entry year: pre-registration starts when students enrol) and not later than the
registry's clock plus ``capture_skew_s``, after taking off the clock offset the station measured
against the registry (at most ``max_clock_offset_s`` of it), so an honest station with a wrong clock
is not refused.

``manual_evidence`` decides what a record without chip evidence gets: ``at_once`` (a number at once,
flagged and listed apart) or ``review`` (held, answered ``retry REVIEW_PENDING``, until the league
office decides with ``sync-registry review``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url

from sync.protocol import season as season_calendar
from sync.protocol.card import CARD_TYPES
from sync.registry.db import normalize_url, utc_now

BEIJING = timezone(timedelta(hours=8))
DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_JSON_BYTES = 64 * 1024  # 500 hashes or record ids fit in about 40 KB
DEFAULT_CERT_DAYS = 90


@dataclass
class Settings:
    db_url: str
    blob_dir: Path | None = None  # photo files; None: beside a SQLite file, in the database for PostgreSQL
    tls_dir: Path | None = None  # the PKI directory: CRL to honour, CA to sign renewals with
    grace_days: float = 7.0
    deadline: date | None = None  # last capture day; default 30 November of the season
    season_opens: date | None = None  # first plausible capture day; default 1 August of the season
    capture_skew_s: float = 900.0
    max_clock_offset_s: float = 2 * 86400.0
    manual_evidence: Literal["at_once", "review"] = "at_once"
    card_types: tuple[str, ...] = CARD_TYPES
    photo_profiles: tuple[str, ...] | None = None  # None: every profile in resources/profiles
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    body_idle_timeout_s: float = 30.0  # a request body that stalls this long is refused (408)
    body_min_rate_bps: float = 4000.0  # total body time: 60 s + bytes at this rate, then 408
    batch_lease_s: float = 120.0
    page_limit_max: int = 1000
    cert_days: int = DEFAULT_CERT_DAYS  # lifetime of a renewed station certificate
    revocation_refresh_s: float = 1.0  # how stale this node's copy of the revoked serials may be
    clock: Callable[[], datetime] = utc_now  # the registry's "now" (tests pin it inside the season)

    def __post_init__(self) -> None:
        self.db_url = normalize_url(self.db_url)
        if self.blob_dir is None:
            self.blob_dir = default_blob_dir(self.db_url)
        self.blob_dir = Path(self.blob_dir) if self.blob_dir is not None else None
        self.tls_dir = Path(self.tls_dir) if self.tls_dir is not None else None
        if self.manual_evidence not in ("at_once", "review"):
            raise ValueError("manual_evidence is 'at_once' or 'review'")

    def deadline_end(self, season: int) -> datetime:
        """The first instant after the last capture day (exclusive bound)."""
        last_day = self.deadline or season_calendar.deadline(season)
        return datetime(last_day.year, last_day.month, last_day.day, tzinfo=BEIJING) + timedelta(days=1)

    def season_start(self, season: int) -> datetime:
        first_day = self.season_opens or date(season, 8, 1)
        return datetime(first_day.year, first_day.month, first_day.day, tzinfo=BEIJING)


def default_blob_dir(db_url: str) -> Path | None:
    """Beside a SQLite file (``<file>.blobs``); None otherwise: the photos live in the database -- for a
    server database so every node of the registry serves them, for an in-memory one so nothing is written
    into whatever the working directory happens to be."""
    url = make_url(normalize_url(db_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".blobs")
    return None
