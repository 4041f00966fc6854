"""Source health for the people who keep the crawl running."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, CrawlStateDep, SettingsDep, SourcesDep, StoreDep
from mediawatch.health import SourceHealth, source_health
from mediawatch.model import utc_now

router = APIRouter(prefix="/api/sources", tags=["sources"])


@router.get("", response_model=list[SourceHealth], summary="Tình trạng các nguồn (source health)")
def list_sources(
    store: StoreDep,
    settings: SettingsDep,
    sources: SourcesDep,
    state: CrawlStateDep,
    _principal: AdminDep,
) -> list[SourceHealth]:
    """Each registry source: last success and error, items per day, failures by cause, and
    whether its volume dropped far below its own history."""
    return source_health(sources, state, store, utc_now(), settings.timezone)
