"""Collect orphaned photos (``sync-registry gc``): blobs no kept record references, once old enough.

A rejected record does not keep its photo (``blobs.keeps_photo``): the bytes are the sender's choice.

A photo part is stored as soon as it arrives (a retry need not resend it), before its record is
decided; if the record then comes back ``retry`` and the station never resends it, or the request
failed, the blob stays behind. Such a blob is deleted when no record references it and it is older
than ``min_age_s`` (default a day, longer than any station keeps a batch open), so a station in the
middle of a retry never loses a part it already sent. Half-written temporaries older than an hour go too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from sync.registry.blobs import keeps_photo
from sync.registry.core import Registry
from sync.registry.db import RecordRow

DEFAULT_MIN_AGE_S = 24 * 3600.0


@dataclass(frozen=True)
class GcReport:
    deleted: int
    referenced: int
    too_young: int
    temporaries: int


def collect(registry: Registry, min_age_s: float = DEFAULT_MIN_AGE_S) -> GcReport:
    cutoff = time.time() - min_age_s
    stored = list(registry.blobs.stored())
    with registry.db.read() as session:
        referenced = set(session.scalars(select(RecordRow.photo_sha256).where(keeps_photo()).distinct()))
    deleted = young = 0
    for sha, mtime in stored:
        if sha in referenced:
            continue
        if mtime >= cutoff:
            young += 1
            continue
        if registry.blobs.delete_unreferenced(sha):  # a record may have arrived since the listing
            deleted += 1
    temporaries = registry.blobs.stale_temporaries(3600.0)
    for path in temporaries:
        path.unlink(missing_ok=True)
    return GcReport(deleted, sum(1 for sha, _ in stored if sha in referenced), young, len(temporaries))
