"""The review queue and review decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import ReaderDep, ReviewerDep, SettingsDep, StoreDep
from index.query import MAX_OFFSET, MAX_PAGE, SearchPage
from index.store import ItemNotFound, ReviewConflict
from mediawatch.model import Document, ReviewDecision

router = APIRouter(prefix="/api", tags=["review"])


@router.get("/review/queue", response_model=SearchPage, summary="Hàng chờ xem xét (queue)")
def review_queue(
    store: StoreDep,
    settings: SettingsDep,
    _principal: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchPage:
    """Undecided items at or above the risk threshold: riskiest first, then newest."""
    return store.review_queue(settings.review_threshold, limit, offset)


@router.post(
    "/items/{item_id}/review",
    response_model=Document,
    summary="Ghi nhận quyết định (record a decision)",
    responses={404: {"description": "No such item"}, 409: {"description": "Decided meanwhile"}},
)
def record_review(
    item_id: str, decision: ReviewDecision, store: StoreDep, principal: ReviewerDep
) -> Document:
    try:
        return store.record_review(item_id, decision, reviewer=principal.name)
    except ItemNotFound as error:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"Không có tin '{item_id}' (no such item)"
        ) from error
    except ReviewConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
