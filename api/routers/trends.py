"""Counts over time for analysts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DashboardsDep, SettingsDep, StoreDep
from index.query import Trends
from mediawatch.clock import recent_days

router = APIRouter(prefix="/api/trends", tags=["trends"])


@router.get("", response_model=Trends, summary="Xu hướng theo ngày (daily trends)")
def get_trends(
    store: StoreDep,
    settings: SettingsDep,
    _principal: DashboardsDep,
    days: Annotated[
        int, Query(ge=1, le=366, description="Whole calendar days, today included")
    ] = 14,
) -> Trends:
    """Items per calendar day in the display time zone, by topic and by sentiment."""
    since, until = recent_days(days, settings.timezone)
    return store.trends(since, until, settings.timezone)
