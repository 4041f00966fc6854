"""The claims register over HTTP: read, create, edit, link items, settle suggestions,
import others' fact-checks and export ours as ClaimReview."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from api.claims_feed import ClaimsFeed
from api.deps import ExporterDep, ReaderDep, ReviewerDep, SettingsDep, StoreDep, audit
from api.privacy import present_claims
from api.security import Principal
from index.claim_exchange import ClaimImportError, claim_reviews, parse_csv, parse_json, to_csv
from index.claims import OURS, Claim, ClaimDraft, ClaimNotFound, ClaimPatch, Suggestion
from mediawatch.claim_match import document_text

router = APIRouter(prefix="/api/claims", tags=["claims"])

_NOT_FOUND = {404: {"description": "No such claim or item"}}


def get_feed(request: Request) -> ClaimsFeed:
    return request.app.state.claims_feed


FeedDep = Annotated[ClaimsFeed, Depends(get_feed)]


def _no_claim(claim_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, f"Không có khẳng định '{claim_id}' (no such claim)"
    )


def _claim(feed: ClaimsFeed, claim_id: str) -> Claim:
    try:
        return feed.register.get(claim_id)
    except ClaimNotFound as error:
        raise _no_claim(claim_id) from error


def _shown(request: Request, principal: Principal, claim: Claim) -> Claim:
    """One claim through the privacy gate (who made it is personal data)."""
    return present_claims(request, principal, [claim])[0]


class ClaimPage(BaseModel):
    total: int
    limit: int
    offset: int
    claims: list[Claim]


class SuggestionDecision(BaseModel):
    model_config = {"extra": "forbid"}

    accept: bool


class ImportResult(BaseModel):
    created: int = Field(description="New claims")
    unchanged: int = Field(description="Claims already in the register (same URL or statement)")
    skipped: int = Field(description="Rated true or unproven: not registered")
    unknown: int = Field(description="Rated in words we do not know: not registered, not guessed")
    unknown_ratings: list[str] = Field(description="Those ratings, each once")


@router.get("", response_model=ClaimPage, summary="Sổ khẳng định sai (the claims register)")
def list_claims(
    request: Request,
    feed: FeedDep,
    principal: ReaderDep,
    q: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> ClaimPage:
    """Claims whose statement contains the words of ``q`` (folded: "dat" finds "đất")."""
    if q:
        audit(request, principal, "search", "claims", q=q)
    total, claims = feed.register.search(q, limit, offset)
    claims = present_claims(request, principal, claims)
    return ClaimPage(total=total, limit=limit, offset=offset, claims=claims)


@router.get("/export", summary="Xuất khẳng định (export: ClaimReview JSON-LD or CSV)")
def export_claims(
    request: Request,
    feed: FeedDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: ExporterDep,
    format: Literal["claimreview", "csv"] = "claimreview",
) -> Response:
    """ClaimReview: our own claims, with the URLs of the items that repeat them; CSV: all."""
    audit(request, principal, "claim.export", format=format)
    if format == "csv":
        return Response(
            to_csv(present_claims(request, principal, feed.register.all())),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="claims.csv"'},
        )
    reviews = claim_reviews(feed.register, store, settings.claims.publisher, settings.base_url)
    return Response(
        json.dumps(reviews, ensure_ascii=False, indent=2),
        media_type="application/ld+json",
        headers={"Content-Disposition": 'attachment; filename="claims.jsonld"'},
    )


@router.post(
    "/import",
    response_model=ImportResult,
    summary="Nhập khẳng định (import CSV, JSON or ClaimReview JSON-LD)",
    responses={422: {"description": "A malformed row, named"}, 413: {"description": "Too big"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {}},
                "application/ld+json": {"schema": {}},
            },
        }
    },
)
async def import_claims(
    request: Request,
    feed: FeedDep,
    principal: ReviewerDep,
    format: Literal["csv", "json"] | None = None,
    publisher: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> ImportResult:
    """The body is the file. ``format`` defaults from the Content-Type (text/csv or JSON);
    ``publisher`` names the fact-checker for rows that do not. All rows or none."""
    data = await request.body()  # api/body_limits.py stops it at settings.body_limits
    content_type = request.headers.get("content-type", "")
    kind = format or ("csv" if "csv" in content_type else "json")
    try:
        parsed = (parse_csv if kind == "csv" else parse_json)(data, publisher)
    except ClaimImportError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"Không nhập được (import refused): {error}"
        ) from error
    results = feed.register.create_many(parsed.drafts, principal.name)
    created = sum(new for _id, new in results)
    audit(
        request,
        principal,
        "claim.import",
        format=kind,
        created=created,
        unchanged=len(results) - created,
        skipped=parsed.skipped,
        unknown=parsed.unknown,
    )
    return ImportResult(
        created=created,
        unchanged=len(results) - created,
        skipped=parsed.skipped,
        unknown=parsed.unknown,
        unknown_ratings=parsed.unknown_ratings,
    )


@router.get("/{claim_id}", response_model=Claim, responses=_NOT_FOUND, summary="Một khẳng định")
def get_claim(request: Request, claim_id: str, feed: FeedDep, principal: ReaderDep) -> Claim:
    """The claim with its linked items and the suggestions waiting for a reviewer."""
    return _shown(request, principal, _claim(feed, claim_id))


@router.post(
    "",
    response_model=Claim,
    status_code=status.HTTP_201_CREATED,
    summary="Tạo khẳng định (create a claim by hand)",
)
def create_claim(
    request: Request, draft: ClaimDraft, response: Response, feed: FeedDep, principal: ReviewerDep
) -> Claim:
    """Ours; the same statement twice is the claim already there (200, unchanged)."""
    claim, created = feed.register.create(draft.model_copy(update={"origin": OURS}), principal.name)
    if not created:
        response.status_code = status.HTTP_200_OK
        return _shown(request, principal, claim)
    audit(request, principal, "claim.create", claim.id)
    feed.suggest_recent(claim)
    return _shown(request, principal, feed.register.get(claim.id))


@router.patch("/{claim_id}", response_model=Claim, responses=_NOT_FOUND, summary="Sửa khẳng định")
def update_claim(
    request: Request, claim_id: str, patch: ClaimPatch, feed: FeedDep, principal: ReviewerDep
) -> Claim:
    """Statement, verdict, evidence or the official rebuttal."""
    try:
        claim = feed.register.update(claim_id, patch, principal.name)
    except ClaimNotFound as error:
        raise _no_claim(claim_id) from error
    audit(request, principal, "claim.update", claim_id, fields=sorted(patch.model_fields_set))
    return _shown(request, principal, claim)


@router.post(
    "/{claim_id}/items/{item_id}",
    response_model=Claim,
    responses=_NOT_FOUND,
    summary="Gắn tin vào khẳng định (link an item)",
)
def link_item(
    request: Request,
    claim_id: str,
    item_id: str,
    feed: FeedDep,
    store: StoreDep,
    principal: ReviewerDep,
) -> Claim:
    _claim(feed, claim_id)
    document = store.get(item_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Không có tin '{item_id}' (no such item)")
    if feed.register.link(claim_id, item_id, document_text(document), principal.name):
        audit(request, principal, "claim.link", claim_id, item_id=item_id)
    return _shown(request, principal, feed.register.get(claim_id))


@router.delete(
    "/{claim_id}/items/{item_id}",
    response_model=Claim,
    responses=_NOT_FOUND,
    summary="Gỡ tin khỏi khẳng định (unlink an item)",
)
def unlink_item(
    request: Request, claim_id: str, item_id: str, feed: FeedDep, principal: ReviewerDep
) -> Claim:
    try:
        unlinked = feed.register.unlink(claim_id, item_id)
    except ClaimNotFound as error:
        raise _no_claim(claim_id) from error
    if not unlinked:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"Tin '{item_id}' không gắn với khẳng định này (item not linked)",
        )
    audit(request, principal, "claim.unlink", claim_id, item_id=item_id)
    return _shown(request, principal, feed.register.get(claim_id))


@router.post(
    "/{claim_id}/suggestions/{item_id}",
    response_model=Suggestion,
    responses=_NOT_FOUND,
    summary="Xác nhận hoặc bác gợi ý (accept or reject a suggestion)",
)
def decide_suggestion(
    request: Request,
    claim_id: str,
    item_id: str,
    decision: SuggestionDecision,
    feed: FeedDep,
    principal: ReviewerDep,
) -> Suggestion:
    try:
        suggestion = feed.register.decide_suggestion(
            claim_id, item_id, decision.accept, principal.name
        )
    except ClaimNotFound as error:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"Không có gợi ý tin '{item_id}' cho khẳng định '{claim_id}' (no such suggestion)",
        ) from error
    action = "claim.suggestion.accept" if decision.accept else "claim.suggestion.reject"
    audit(request, principal, action, claim_id, item_id=item_id)
    return suggestion
