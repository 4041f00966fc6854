"""Counts over time for analysts: volume by any dimension, top stories, shares, spikes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import DashboardsDep, SettingsDep, StoreDep, audit
from api.security import Permission, Principal, forbidden
from index.query import Share, StorySummary, TrendBucket, TrendQuery, Trends, shares
from index.spikes import SpikeReport, current_spikes
from index.store import Store
from mediawatch.clock import recent_days

router = APIRouter(prefix="/api/trends", tags=["trends"])
spikes_router = APIRouter(prefix="/api/spikes", tags=["trends"])


class TrendView(BaseModel):
    """One query's buckets with what the trends page shows beside them."""

    query: TrendQuery
    buckets: list[TrendBucket]
    totals: list[Share] = Field(description="Each key over the whole window")
    sentiment: list[Share]
    stories: list[StorySummary]


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


def guard_text(
    request: Request, principal: Principal, query: TrendQuery, refusal: Exception
) -> None:
    """Free text counts the items containing a phrase per source and hour: enough to read item
    bodies by probing. So it needs the right to read items (else ``refusal`` is raised) and is
    audited as a search is."""
    if query.text is None:
        return
    if not principal.may(Permission.READ_ITEMS):
        raise refusal
    query_detail = query.model_dump(mode="json", exclude_defaults=True)
    audit(request, principal, "search", "trends", query=query_detail)


def trend_view(store: Store, timezone: str, query: TrendQuery, stories: int = 10) -> TrendView:
    """The query's buckets with the shares and stories shown beside them."""
    buckets = store.trend_counts(query, timezone)
    by_sentiment = buckets if query.dimension == "sentiment" else None
    if by_sentiment is None:
        by_sentiment = store.trend_counts(query.scoped(dimension="sentiment"), timezone)
    return TrendView(
        query=query,
        buckets=buckets,
        totals=shares(buckets),
        sentiment=shares(by_sentiment),
        stories=store.top_stories(query, stories),
    )


@router.get("/volume", response_model=TrendView, summary="Số tin theo thời gian (volume over time)")
def get_volume(
    request: Request,
    query: Annotated[TrendQuery, Query()],
    store: StoreDep,
    settings: SettingsDep,
    principal: DashboardsDep,
) -> TrendView:
    """Items per local day or hour split by topic, sentiment, place, source tier or source,
    with each key's share, the sentiment share and the top stories of the same selection.
    ``text`` needs the read_items permission (viewers get 403) and is audited."""
    guard_text(request, principal, query, forbidden(principal, Permission.READ_ITEMS))
    return trend_view(store, settings.timezone, query)


@spikes_router.get("", response_model=list[SpikeReport], summary="Đột biến (current spikes)")
def get_spikes(
    store: StoreDep, settings: SettingsDep, _principal: DashboardsDep
) -> list[SpikeReport]:
    """Topics and places whose last day (or, for social posts, last hour) jumps against their
    own baseline; see settings.spikes for the thresholds."""
    return current_spikes(store, settings.spikes, settings.timezone)
