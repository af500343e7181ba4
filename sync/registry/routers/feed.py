"""Pull (docs/sync-protocol.md §6): a county's approvals feed, paged by cursor, and its digest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from starlette.responses import Response

from sync.protocol.wire import ApprovalsDigest, ApprovalsPage
from sync.registry import feed
from sync.registry.dependencies import (
    County,
    CountyCaller,
    CursorQuery,
    LimitQuery,
    RegistryDep,
    StrictJsonRoute,
    error_responses,
    json_response,
)

router = APIRouter(prefix="/v1/counties/{county}", route_class=StrictJsonRoute)


@router.get(
    "/approvals",
    response_model=ApprovalsPage,
    responses={**error_responses(410), 304: {"description": "head unchanged since If-None-Match"}},
)
def approvals(
    county: County,
    caller: CountyCaller,
    registry: RegistryDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 500,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    epoch = registry.epoch
    page = feed.approvals_page(
        registry.db, county, cursor, limit, epoch=epoch, season=registry.season, now=registry.now()
    )
    etag = f'"{epoch}-{page.head_seq}"'
    if if_none_match == etag and not page.items:
        return Response(status_code=304, headers={"ETag": etag})
    return json_response(page, headers={"ETag": etag})


@router.get("/approvals/digest", response_model=ApprovalsDigest, responses=error_responses())
def approvals_digest(county: County, caller: CountyCaller, registry: RegistryDep) -> Response:
    return json_response(feed.approvals_digest(registry.db, county))
