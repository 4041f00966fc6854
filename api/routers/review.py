"""The review queue, its figures, and the workflow's steps (claim, decide, escalate…)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from api.deps import ReaderDep, ReviewerDep, SettingsDep, StoreDep
from api.privacy import present, present_page
from api.review_effects import ReviewEffects, ReviewStep
from api.security import Principal
from index.query import MAX_OFFSET, MAX_PAGE, QueueQuery, QueueStats, SearchPage
from index.store import (
    IncompleteCommand,
    ItemNotFound,
    ReviewRefused,
    Store,
)
from mediawatch.config import Settings
from mediawatch.model import (
    Document,
    ReviewAction,
    ReviewCommand,
    ReviewOutcome,
    ReviewState,
    Role,
    utc_now,
)

router = APIRouter(prefix="/api", tags=["review"])

MAX_BULK = 200


@router.get("/review/queue", response_model=SearchPage, summary="Hàng chờ xem xét (queue)")
def review_queue(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: ReaderDep,
    state: Annotated[list[ReviewState] | None, Query()] = None,
    topic: Annotated[list[str] | None, Query(max_length=50)] = None,
    place: Annotated[list[str] | None, Query(max_length=50)] = None,
    source_id: Annotated[list[str] | None, Query(max_length=50)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchPage:
    """Non-duplicate items above the risk threshold or repeating a registered claim, in the
    open states unless ``state`` says otherwise: riskiest, widest reach, longest waiting."""
    query = QueueQuery(
        threshold=settings.review_threshold,
        topics=topic or [],
        places=place or [],
        source_ids=source_id or [],
        assignee=assignee,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    if state:
        query.states = state
    page = store.review_queue(query, utc_now(), settings.review)
    return present_page(request, principal, page)


@router.get("/review/stats", response_model=QueueStats, summary="Số liệu hàng chờ (queue stats)")
def review_stats(store: StoreDep, settings: SettingsDep, _principal: ReaderDep) -> QueueStats:
    """Queue items per state, how many are past their target time, the longest waiting."""
    return store.queue_stats(settings.review_threshold, utc_now(), settings.review)


def apply_command(
    request: Request,
    store: Store,
    settings: Settings,
    principal: Principal,
    item_id: str,
    command: ReviewCommand,
) -> Document:
    """One workflow step for ``principal``: applied, then audited and told to the listeners
    (the claims register turns false and misleading decisions into claims). Raises the
    store's ItemNotFound and ReviewRefused; the JSON route and the pages word them each their
    way. Once the store has committed, the step is done: if its audit entry or claims effect
    cannot be written now (audit.db locked, the register failing) that is logged and left to
    the reconciler (api/review_effects.py), never a 500 the reviewer would retry into a 409."""
    document = store.apply_review(
        item_id,
        command,
        principal.name,
        settings.review,
        override=principal.role is Role.ADMIN,
    )
    review = document.review
    effects: ReviewEffects = request.app.state.review_effects
    effects.settle(ReviewStep(document, command, principal, review.version, review.state.value))
    return document


def _http_error(item_id: str, error: Exception) -> HTTPException:
    if isinstance(error, ItemNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, f"Không có tin '{item_id}' (no such item)")
    if isinstance(error, IncompleteCommand):
        return HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"Yêu cầu không hợp lệ (invalid request): {error}",
        )
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


@router.post(
    "/items/{item_id}/review",
    response_model=Document,
    summary="Một bước xử lý tin (claim, release, decide, escalate, respond, reopen)",
    responses={
        404: {"description": "No such item"},
        409: {"description": "Held or changed by someone else, or not possible in this state"},
        422: {"description": "The action lacks what it needs (outcome, agency, response, reason)"},
    },
)
def review_item(
    request: Request,
    item_id: str,
    command: ReviewCommand,
    store: StoreDep,
    settings: SettingsDep,
    principal: ReviewerDep,
) -> Document:
    try:
        document = apply_command(request, store, settings, principal, item_id, command)
    except (ItemNotFound, ReviewRefused) as error:
        raise _http_error(item_id, error) from error
    return present(request, principal, [document])[0]


class BulkDecision(BaseModel):
    """Bulk is only for the obvious case: items that are not about the province's policy."""

    item_ids: list[str] = Field(min_length=1, max_length=MAX_BULK)
    outcome: Literal[ReviewOutcome.NOT_RELEVANT] = ReviewOutcome.NOT_RELEVANT
    note: str | None = Field(default=None, max_length=4000)


class BulkResult(BaseModel):
    item_id: str
    status: int = Field(description="What a single POST would have answered: 200, 404, 409…")
    detail: str | None = None
    version: int | None = None


@router.post(
    "/review/bulk",
    response_model=list[BulkResult],
    summary="Kết luận hàng loạt 'không liên quan' (bulk not_relevant)",
)
def review_bulk(
    request: Request,
    body: BulkDecision,
    store: StoreDep,
    settings: SettingsDep,
    principal: ReviewerDep,
) -> list[BulkResult]:
    """Each item decided on its own: one held by someone else is refused, the rest go on."""
    command = ReviewCommand(action=ReviewAction.DECIDE, outcome=body.outcome, note=body.note)
    results = []
    for item_id in dict.fromkeys(body.item_ids):
        try:
            document = apply_command(request, store, settings, principal, item_id, command)
        except (ItemNotFound, ReviewRefused) as error:
            http = _http_error(item_id, error)
            results.append(BulkResult(item_id=item_id, status=http.status_code, detail=http.detail))
        else:
            results.append(BulkResult(item_id=item_id, status=200, version=document.review.version))
    return results
