"""Reviewers' topic corrections: the labels a topic model learns from."""

from __future__ import annotations

from datetime import datetime

import structlog
from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ReviewerDep, StoreDep, TopicCorrectionsDep
from classifier.topic_labels import MAX_TOPICS, UnknownTopics

log = structlog.get_logger("mediawatch.api")
router = APIRouter(prefix="/api/items", tags=["review"])


class TopicCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[str] = Field(
        max_length=MAX_TOPICS,
        description="Every topic the item is about (taxonomy ids); [] for none",
    )


class TopicLabelOut(BaseModel):
    item_id: str
    topics: list[str]
    reviewer: str
    at: datetime


@router.put(
    "/{item_id}/topics",
    response_model=TopicLabelOut,
    summary="Sửa chủ đề của tin (correct an item's topics)",
    responses={404: {"description": "No such item"}, 422: {"description": "Unknown topic"}},
)
def correct_topics(
    item_id: str,
    correction: TopicCorrection,
    store: StoreDep,
    corrections: TopicCorrectionsDep,
    principal: ReviewerDep,
) -> TopicLabelOut:
    """The corrected topics become a training label (``mediawatch train --include-reviews``)."""
    if store.get(item_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Không có tin '{item_id}' (no such item)")
    try:
        label = corrections.correct(item_id, correction.topics, principal.name)
    except UnknownTopics as error:
        log.warning("topics_refused", item_id=item_id, by=principal.name, error=str(error))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    log.info("topics_corrected", item_id=item_id, by=principal.name, topics=list(label.topics))
    return TopicLabelOut(
        item_id=label.item_id, topics=list(label.topics), reviewer=label.reviewer, at=label.at
    )
