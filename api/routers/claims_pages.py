"""The claims register's pages: the list with search, one claim with its items and the
suggestions a reviewer accepts or rejects."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import PageReaderDep, PageReviewerDep, StoreDep, audit
from api.privacy import present_claims
from api.routers.claims import FeedDep
from api.web import FLASH_KEY, check_csrf, render
from index.claim_exchange import VERDICT_VI
from index.claims import ClaimNotFound, SuggestionStatus

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25


@router.get("/claims", response_class=HTMLResponse)
def claims_page(
    request: Request,
    feed: FeedDep,
    principal: PageReaderDep,
    q: Annotated[str, Query(max_length=500)] = "",
    page: Annotated[int, Query(ge=1, le=400)] = 1,
) -> Response:
    if q:
        audit(request, principal, "search", "claims", q=q)
    total, claims = feed.register.search(q, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(
        request,
        "claims.html",
        q=q,
        page=page,
        total=total,
        claims=claims,
        page_size=PAGE_SIZE,
        verdicts=VERDICT_VI,
    )


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(
    request: Request, claim_id: str, feed: FeedDep, store: StoreDep, principal: PageReaderDep
) -> Response:
    try:
        claim = feed.register.get(claim_id)
    except ClaimNotFound:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=claim_id)
    claim = present_claims(request, principal, [claim])[0]
    ids = [i.item_id for i in claim.items] + [s.item_id for s in claim.suggestions]
    titles = {item_id: doc.title for item_id in ids if (doc := store.get(item_id)) is not None}
    return render(
        request,
        "claim.html",
        claim=claim,
        titles=titles,
        verdicts=VERDICT_VI,
        pending=[s for s in claim.suggestions if s.status is SuggestionStatus.PENDING],
    )


@router.post("/claims/{claim_id}/suggestions/{item_id}")
def suggestion_form(
    request: Request,
    claim_id: str,
    item_id: str,
    feed: FeedDep,
    principal: PageReviewerDep,
    csrf: Annotated[str, Form()],
    accept: Annotated[bool, Form()],
) -> Response:
    check_csrf(request, csrf)
    try:
        feed.register.decide_suggestion(claim_id, item_id, accept, principal.name)
    except ClaimNotFound:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=item_id)
    action = "claim.suggestion.accept" if accept else "claim.suggestion.reject"
    audit(request, principal, action, claim_id, item_id=item_id)
    request.session[FLASH_KEY] = "Đã gắn tin vào khẳng định." if accept else "Đã bác gợi ý."
    return RedirectResponse(f"/claims/{quote(claim_id)}", status.HTTP_303_SEE_OTHER)
