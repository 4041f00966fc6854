"""Pages for analysts: trends by any dimension with spikes and exports; one's watchlists."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import PageDashboardsDep, PageWatchlistsDep, SettingsDep, StoreDep, audit
from api.exports import DIMENSION_VI
from api.routers.trends import guard_text, trend_view
from api.security import PageForbidden, Permission
from api.web import FLASH_KEY, check_csrf, daily_chart, place_labels, render
from dashboards.formatting import SENTIMENT_VI, TIER_VI
from index.query import TrendDimension, TrendInterval, TrendQuery
from index.spikes import current_spikes
from mediawatch.clock import recent_days
from mediawatch.model import SourceTier
from mediawatch.watchlists import WatchlistInput, WatchlistNotFound

router = APIRouter(include_in_schema=False)
HOURLY_DAYS = 3  # an hourly chart wider than this is unreadable


def key_labels(dimension: str, keys: list[str], topic_labels: dict[str, str]) -> dict[str, str]:
    """What people call each key: a topic's Vietnamese label, "xã Lạc Dương" for a place."""
    if dimension == "topic":
        return {key: topic_labels.get(key, key) for key in keys}
    if dimension == "place":
        return dict(zip(keys, place_labels(keys), strict=True))
    names = {"sentiment": SENTIMENT_VI, "tier": TIER_VI}.get(dimension, {})
    return {key: names.get(key, key) for key in keys}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@router.get("/trends", response_class=HTMLResponse)
def trends_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PageDashboardsDep,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
    interval: TrendInterval = "day",
    dimension: TrendDimension = "topic",
    topic: Annotated[str, Query(max_length=100)] = "",
    place: Annotated[str, Query(max_length=100)] = "",
    tier: SourceTier | None = None,
    text: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The daily sentiment chart, then the chosen split with shares, top stories, spikes."""
    if interval == "hour":
        days = min(days, HOURLY_DAYS)
    since, until = recent_days(days, settings.timezone)
    query = TrendQuery(
        since=since,
        until=until,
        interval=interval,
        dimension=dimension,
        topics=[topic] if topic else [],
        places=[place] if place else [],
        tiers=[tier] if tier else [],
        text=text or None,
    )
    guard_text(request, principal, query, PageForbidden(principal, Permission.READ_ITEMS))
    trends = store.trends(since, until, settings.timezone)
    view = trend_view(store, settings.timezone, query)
    peak = max((share.count for share in view.totals), default=0) or 1
    topic_labels = request.app.state.topic_labels
    spikes = current_spikes(store, settings.spikes, settings.timezone)
    spike_labels = {}
    for kind in ("topic", "place"):
        keys = [spike.key for spike in spikes if spike.dimension == kind]
        spike_labels |= key_labels(kind, keys, topic_labels)
    exports = None
    if principal.may(Permission.EXPORT):
        params = urlencode(query.model_dump(mode="json", exclude_defaults=True), doseq=True)
        exports = {fmt: f"/api/exports/trends.{fmt}?{params}" for fmt in ("csv", "xlsx")}
    return render(
        request,
        "trends.html",
        trends=trends,
        days=days,
        chart=daily_chart(trends.total_per_day, trends.by_sentiment),
        topic_labels=topic_labels,
        view=view,
        peak=peak,
        labels=key_labels(dimension, [share.key for share in view.totals], topic_labels),
        filters={"topic": topic, "place": place, "tier": tier.value if tier else "", "text": text},
        dimensions=DIMENSION_VI,
        spikes=spikes,
        spike_labels=spike_labels,
        exports=exports,
        text_allowed=principal.may(Permission.READ_ITEMS),
    )


@router.get("/watchlists", response_class=HTMLResponse)
def watchlists_page(request: Request, principal: PageWatchlistsDep) -> Response:
    mine = request.app.state.watchlists.list(principal.name)
    return render(request, "watchlists.html", watchlists=mine, tiers=list(SourceTier))


@router.post("/watchlists")
def create_watchlist_form(
    request: Request,
    principal: PageWatchlistsDep,
    csrf: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
    topics: Annotated[str, Form(max_length=2000)] = "",
    places: Annotated[str, Form(max_length=4000)] = "",
    tiers: Annotated[list[str] | None, Form()] = None,
    text: Annotated[str, Form(max_length=500)] = "",
    notify_email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        data = WatchlistInput(
            name=name.strip(),
            topics=_split(topics),
            places=_split(places),
            tiers=tiers or [],
            text=text.strip() or None,
            notify_email=notify_email.strip() or None,
        )
    except ValidationError as error:
        fields = ", ".join(str(problem["loc"][0]) for problem in error.errors())
        message = f"Chưa lưu: kiểm tra lại {fields}."
    else:
        watchlist = request.app.state.watchlists.create(principal.name, data)
        audit(request, principal, "watchlist.create", str(watchlist.id), name=data.name)
        message = f"Đã lưu danh sách «{data.name}»."
    request.session[FLASH_KEY] = message
    return RedirectResponse("/watchlists", status.HTTP_303_SEE_OTHER)


@router.post("/watchlists/{watchlist_id}/delete")
def delete_watchlist_form(
    request: Request,
    watchlist_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    principal: PageWatchlistsDep,
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf)
    watchlists = request.app.state.watchlists
    try:
        owner = watchlists.get(watchlist_id).owner
    except WatchlistNotFound:
        owner = None
    if owner == principal.name:
        watchlists.delete(watchlist_id)
        audit(request, principal, "watchlist.delete", str(watchlist_id))
        message = "Đã xoá danh sách."
    else:
        message = "Không có danh sách này trong các danh sách của bạn."
    request.session[FLASH_KEY] = message
    return RedirectResponse("/watchlists", status.HTTP_303_SEE_OTHER)
