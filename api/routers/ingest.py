"""POST /api/ingest: items from vendor feeds and staff, through the same pipeline as a crawl."""

from __future__ import annotations

import threading
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from api.deps import IngestDep, SettingsDep, audit
from classifier.service import Classifier
from mediawatch.identity import item_id
from mediawatch.ingest import IngestBatch
from mediawatch.pipeline import Pipeline

router = APIRouter(prefix="/api", tags=["ingest"])
log = structlog.get_logger("mediawatch.api.ingest")
_pipeline_lock = threading.Lock()


def get_pipeline(request: Request) -> Pipeline:
    """The app's pipeline over its store, built on first use: reading the API alone never
    loads the classifier."""
    state = request.app.state
    with _pipeline_lock:
        if getattr(state, "pipeline", None) is None:
            settings = state.settings
            state.pipeline = Pipeline(
                state.store,
                Classifier.from_settings(settings),
                settings,
                state.crawl_state,
                state.stories,  # one story index per process: its LSH lives in memory
            )
    return state.pipeline


class IngestResult(BaseModel):
    received: int
    stored: int
    updated: int
    unchanged: int
    versioned: int = Field(
        description="Items under review or judged: their content was kept, the one sent is "
        "recorded as a version for the reviewers"
    )
    duplicates: int
    spooled: int
    ids: list[str]


@router.post(
    "/ingest",
    response_model=IngestResult,
    summary="Nhập tin (ingest items)",
    responses={
        401: {"description": "No API token"},
        403: {"description": "Browser session, or a source tier above what the role may set"},
    },
)
def ingest(
    request: Request,
    batch: IngestBatch,
    principal: IngestDep,
    settings: SettingsDep,
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
) -> IngestResult:
    """Normalise, deduplicate, classify and store a batch; sending it again stores nothing new.

    Every item's ``source_tier`` must be one the caller's role may set
    (``security.ingest_tiers``), else the whole batch is refused (403). An item already
    taken up by a reviewer keeps its judged content; what was sent is recorded as a version.
    Every call is audited (``item.ingest``, each id with what happened to it).

    ``ids`` are the items' ids in the order sent: a social post's ``platform:post_id``, else
    the canonical URL's, as for crawled pages.
    """
    if principal.via != "token":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Cần API token để nhập tin (API token required)"
        )
    allowed = settings.security.tiers_for(principal.role)
    for number, item in enumerate(batch.items):
        if item.source_tier not in allowed:
            log.warning(
                "ingest refused: source tier above the role's",
                by=principal.name,
                role=principal.role.value,
                item=number,
                source=item.source_id,
                tier=item.source_tier.value,
            )
            audit(
                request,
                principal,
                "item.ingest_refused",
                item_id(item.url),
                reason="source_tier",
                tier=item.source_tier.value,
            )
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"Vai trò {principal.role.value} không được gửi tin với mức tin cậy "
                f"'{item.source_tier.value}' (tin số {number}); được phép: "
                f"{', '.join(t.value for t in allowed)} (source tier not allowed for this role)",
            )
    documents = [
        item.to_document().model_copy(update={"sent_by": principal.name}) for item in batch.items
    ]
    report = pipeline.ingest(documents)
    outcomes = {d.id: report.outcomes.get(d.id, "not_stored") for d in documents}
    audit(
        request,
        principal,
        "item.ingest",
        documents[0].id if len(documents) == 1 else None,
        outcomes=outcomes,
        sources=sorted({d.source_id for d in documents}),
    )
    log.info(
        "items ingested",
        by=principal.name,
        received=len(documents),
        stored=report.stored,
        updated=report.updated,
        unchanged=report.unchanged,
        versioned=report.versioned,
        sources=sorted({d.source_id for d in documents}),
    )
    return IngestResult(
        received=len(documents),
        stored=report.stored,
        updated=report.updated,
        unchanged=report.unchanged,
        versioned=report.versioned,
        duplicates=report.duplicates,
        spooled=report.spooled,
        ids=[d.id for d in documents],
    )
