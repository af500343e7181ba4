"""The sync engine as this station runs it: built from the settings over the encrypted store.

``build_engine`` is the one place the station's engine is made (``station.app`` calls it for the
command line and the desk alike): the store port, an HTTP session per run from the credentials in
the store, the station's identity and season, the timings (``Policy``, ``Timeouts``; tests and
training shorten them through the settings), the crash points of the fault tests and a sleep the
caller may make interruptible (the desk must close promptly even while a sync is backing off).
Only one sync of a station runs at a time: ``sync_lock`` is the single-flight lock in the home.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from station.syncing.credentials import StoredCredentials
from station.syncing.local_store import StationSyncStore
from sync.client.engine import Policy, SyncEngine
from sync.client.errors import CredentialsMissing
from sync.client.faultpoints import NO_FAULTS, FaultPoints
from sync.client.http import RegistrySession, Timeouts
from sync.client.lock import SyncLock

LOCK_FILE = "sync.lock"


def sync_lock(home: Path) -> SyncLock:
    return SyncLock(Path(home) / LOCK_FILE)


def policy_from(runtime) -> Policy | None:  # type: ignore[no-untyped-def]
    """Shorter waits when the settings ask for them (tests, training); None keeps the defaults."""
    base, cap = runtime.sync_backoff_s, runtime.sync_retry_after_cap_s
    if base is None and cap is None:
        return None
    base = 2.0 if base is None else base
    return Policy(
        backoff_base_s=base,
        backoff_cap_s=max(base * 8, 0.1),
        retry_after_cap_s=300.0 if cap is None else cap,
        max_wait_s=30.0 if runtime.sync_max_wait_s is None else runtime.sync_max_wait_s,
    )


def timeouts_from(runtime) -> Timeouts | None:  # type: ignore[no-untyped-def]
    connect, deadline = runtime.sync_connect_timeout_s, runtime.sync_deadline_s
    if connect is None and deadline is None:
        return None
    return Timeouts(
        connect_s=20.0 if connect is None else connect,
        read_s=60.0 if connect is None else connect,
        deadline_base_s=60.0 if deadline is None else deadline,
    )


def build_engine(
    database,  # type: ignore[no-untyped-def]
    config,
    *,
    policy: Policy | None = None,
    timeouts: Timeouts | None = None,
    faults: FaultPoints = NO_FAULTS,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncEngine:
    """The engine for this station; ``CredentialsMissing`` when it is not enrolled with a registry."""
    stored = StoredCredentials(database)
    if stored.load() is None or not config.registry_url:
        raise CredentialsMissing()
    store = StationSyncStore(database, retention_days=config.retention_days, faults=faults)
    proxy = config.registry_proxy or None

    def session() -> RegistrySession:  # the credentials of this moment: a renewal replaces them
        credentials = stored.load()
        if credentials is None:
            raise CredentialsMissing()
        return RegistrySession(config.registry_url, credentials, proxy_url=proxy, timeouts=timeouts)

    return SyncEngine(
        store,
        session,
        station_id=config.station_id,
        county=config.county_code6,
        season=config.entry_year,
        policy=policy,
        sleep=sleep,
        faults=faults,
        credentials=stored,
    )
