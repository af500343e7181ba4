"""Reconciliation (docs/sync-protocol.md §9): record status by id, a station's ledger feed and its digest."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from sync.protocol.wire import LedgerDigest, LedgerPage, RecordsStatusRequest, RecordsStatusResponse
from sync.registry import ledger
from sync.registry.dependencies import (
    CursorQuery,
    LimitQuery,
    RegistryDep,
    StationCaller,
    StationId,
    StrictJsonRoute,
    error_responses,
    json_response,
)

router = APIRouter(prefix="/v1/stations/{station_id}", route_class=StrictJsonRoute)


@router.post("/records/status", response_model=RecordsStatusResponse, responses=error_responses())
def records_status(
    station_id: StationId, body: RecordsStatusRequest, caller: StationCaller, registry: RegistryDep
) -> Response:
    return json_response(ledger.records_status(registry, station_id, body.record_ids))


@router.get("/ledger", response_model=LedgerPage, responses=error_responses(410))
def station_ledger(
    station_id: StationId,
    caller: StationCaller,
    registry: RegistryDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 500,
) -> Response:
    return json_response(ledger.ledger_page(registry, station_id, cursor, limit))


@router.get("/ledger/digest", response_model=LedgerDigest, responses=error_responses())
def station_ledger_digest(station_id: StationId, caller: StationCaller, registry: RegistryDep) -> Response:
    return json_response(ledger.ledger_digest(registry, station_id))
