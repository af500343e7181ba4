"""Reconciliation (docs/sync-protocol.md §9): record status by id, the station ledger feed and its digest.

The ledger of a station is its stored outcomes in ``ledger_seq`` order; ``ledger_seq`` comes from the
station's counter row inside the deciding transaction, so the feed has the same prefix-closed
visibility as the approvals feed and uses the same cursor rules. A record held for league review has
no ledger position and reads ``unknown`` until it is decided.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from sync.protocol import cursor as cursors
from sync.protocol.canonical import ledger_term, xor_hex
from sync.protocol.wire import LedgerDigest, LedgerItem, LedgerPage, RecordsStatusResponse, RecordStatus
from sync.registry.core import Registry
from sync.registry.db import RecordRow, Station
from sync.registry.feed import start_seq

_STATUS = {"registered": "accepted", "rejected": "rejected"}


def records_status(registry: Registry, station_id: str, record_ids: list[str]) -> RecordsStatusResponse:
    with registry.db.read() as session:
        rows = session.scalars(
            select(RecordRow).where(RecordRow.record_id.in_(record_ids), RecordRow.station_id == station_id)
        ).all()
    found = {row.record_id: row for row in rows}
    results = []
    for record_id in record_ids:
        row = found.get(record_id)
        if row is None or row.outcome not in _STATUS:  # unknown, or held for review: not decided yet
            results.append(RecordStatus(record_id=record_id, status="unknown"))
        else:
            results.append(
                RecordStatus(
                    record_id=record_id,
                    status=_STATUS[row.outcome],
                    reg_no=row.reg_no,
                    code=row.code,
                    payload_sha256=row.payload_sha256,
                    accepted_at=datetime.fromisoformat(row.received_at) if row.reg_no else None,
                )
            )
    return RecordsStatusResponse(results=results)


def _head(session, station_id: str) -> int:
    value = session.scalar(select(Station.ledger_seq).where(Station.station_id == station_id))
    return int(value or 0)


def ledger_page(registry: Registry, station_id: str, raw_cursor: str | None, limit: int) -> LedgerPage:
    epoch = registry.epoch
    with registry.db.read() as session:
        head = _head(session, station_id)
        after = start_seq(raw_cursor, epoch=epoch, season=registry.season, scope=station_id, head=head)
        rows = session.scalars(
            select(RecordRow)
            .where(
                RecordRow.station_id == station_id, RecordRow.ledger_seq > after, RecordRow.ledger_seq <= head
            )
            .order_by(RecordRow.ledger_seq)
            .limit(limit)
        ).all()
    items = [
        LedgerItem(
            seq=row.ledger_seq,
            record_id=row.record_id,
            status=_STATUS[row.outcome],
            reg_no=row.reg_no,
            code=row.code,
            payload_sha256=row.payload_sha256,
            decided_at=datetime.fromisoformat(row.received_at),
        )
        for row in rows
    ]
    # A short page reached the head: rows missing at the end of the ledger (deleted by hand, a partial
    # restore) must not leave has_more true with nothing left to send.
    last = items[-1].seq if len(items) == limit else head
    return LedgerPage(
        items=items,
        next_cursor=cursors.encode(epoch, registry.season, station_id, last),
        has_more=last < head,
        head_seq=head,
        server_time=registry.now(),
    )


def ledger_digest(registry: Registry, station_id: str) -> LedgerDigest:
    with registry.db.read() as session:
        head = _head(session, station_id)
        rows = session.execute(
            select(RecordRow.record_id, RecordRow.outcome, RecordRow.reg_no).where(
                RecordRow.station_id == station_id, RecordRow.ledger_seq <= head
            )
        ).all()
    terms = (ledger_term(rid, _STATUS[outcome], reg_no) for rid, outcome, reg_no in rows)
    return LedgerDigest(head_seq=head, count=len(rows), xor_sha256=xor_hex(terms))
