"""POST /api/ingest: items from vendor feeds and staff, through the same pipeline as a crawl."""

from __future__ import annotations

import threading
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from api.deps import IngestDep
from classifier.service import Classifier
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
    duplicates: int
    spooled: int
    ids: list[str]


@router.post(
    "/ingest",
    response_model=IngestResult,
    summary="Nhập tin (ingest items)",
    responses={401: {"description": "No API token"}, 403: {"description": "Browser session"}},
)
def ingest(
    batch: IngestBatch,
    principal: IngestDep,
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
) -> IngestResult:
    """Normalise, deduplicate, classify and store a batch; sending it again stores nothing new.

    ``ids`` are the items' ids in the order sent: a social post's ``platform:post_id``, else
    the canonical URL's, as for crawled pages.
    """
    if principal.via != "token":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Cần API token để nhập tin (API token required)"
        )
    documents = [item.to_document() for item in batch.items]
    report = pipeline.ingest(documents)
    log.info(
        "items ingested",
        by=principal.name,
        received=len(documents),
        stored=report.stored,
        updated=report.updated,
        unchanged=report.unchanged,
        sources=sorted({d.source_id for d in documents}),
    )
    return IngestResult(
        received=len(documents),
        stored=report.stored,
        updated=report.updated,
        unchanged=report.unchanged,
        duplicates=report.duplicates,
        spooled=report.spooled,
        ids=[d.id for d in documents],
    )
