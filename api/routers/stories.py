"""Stories: near-copies of one item across sources, and how fast they spread."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.deps import ReaderDep, StoriesDep
from mediawatch.stories import StoryStats

router = APIRouter(prefix="/api/stories", tags=["stories"])


@router.get("/{story_id}", response_model=StoryStats, summary="Một câu chuyện (one story)")
def get_story(story_id: str, stories: StoriesDep, _principal: ReaderDep) -> StoryStats:
    """First and last seen, size, sources, and growth (items in the last 24 h against the 24 h
    before, items per hour over the last 6 h). The story id is its first item's id."""
    stats = stories.stats(story_id)
    if stats is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"Không có câu chuyện '{story_id}' (no such story)"
        )
    return stats
