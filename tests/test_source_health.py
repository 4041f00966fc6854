"""Source health: answers and failures from the crawl state, items from the store itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from api.app import create_app
from crawlers.events import FailureEvent, SourceDoneEvent
from crawlers.state import CrawlState
from index.query import SearchQuery
from mediawatch.health import HealthStatus, source_health
from mediawatch.model import Source, SourceKind, SourceTier
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, LiveServer, login
from tests.factories import make_document
from tests.http_site import Route, RouteSite
from tests.test_crawl import ARTICLE, BODY, rss

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # noon in Vietnam


def make_source(source_id: str, enabled: bool = True) -> Source:
    return Source(
        id=source_id,
        name=f"Nguồn {source_id}",
        kind=SourceKind.FEED,
        url=f"https://{source_id}.vn/rss",
        tier=SourceTier.PRESS,
        enabled=enabled,
    )


def collected(source_id: str, n: int, at: datetime):
    return [
        make_document(
            f"https://{source_id}.vn/{at:%m%d}/{i}", "Tin", f"Tin {at} {i}", source_id=source_id
        ).model_copy(update={"fetched_at": at})
        for i in range(n)
    ]


def test_a_source_far_below_its_own_history_is_flagged_and_failures_are_named(store, tmp_path):
    steady, dropped, broken, new = (make_source(n) for n in ("steady", "dropped", "broken", "new"))
    off = make_source("off", enabled=False)
    documents = []
    for days_ago in range(2, 16):
        day = NOW - timedelta(days=days_ago)
        documents += collected("steady", 4, day) + collected("dropped", 12, day)
    yesterday = NOW - timedelta(days=1)
    documents += collected("steady", 5, yesterday) + collected("dropped", 2, yesterday)
    documents += collected("steady", 3, NOW - timedelta(hours=1))
    store.upsert(documents)
    state = CrawlState(tmp_path / "state.db")
    state.record(
        [steady, dropped, broken],
        NOW - timedelta(minutes=30),
        done={
            "steady": SourceDoneEvent(source_id="steady", entries=5, skipped_known=2),
            "dropped": SourceDoneEvent(source_id="dropped", entries=5, skipped_known=5),
        },
        failures=[
            FailureEvent(source_id="broken", url="u", stage="feed", reason="dns", detail="no host")
        ],
    )

    health = {
        h.id: h
        for h in source_health(
            [steady, dropped, broken, new, off], state, store, NOW, "Asia/Ho_Chi_Minh"
        )
    }

    assert health["steady"].status == HealthStatus.OK
    assert (health["steady"].items_today, health["steady"].items_yesterday) == (3, 5)
    assert health["steady"].usual_per_day == 4
    assert health["dropped"].status == HealthStatus.VOLUME_DROP
    assert health["dropped"].volume_drop and health["dropped"].usual_per_day == 12
    assert health["broken"].status == HealthStatus.FAILING
    assert health["broken"].last_error_cause == "dns"
    assert health["broken"].failures_last_7_days == {"feed:dns": 1}
    assert health["new"].status == HealthStatus.NEVER_READ
    assert health["off"].status == HealthStatus.DISABLED
    # the counts are the store's: the sum over days is what the store holds for the source
    stored = store.search(SearchQuery(source_ids=["dropped"], limit=1)).total
    assert sum(health["dropped"].items_per_day.values()) == stored


def test_api_sources_shows_a_real_crawl_as_it_went(settings, store, pipeline):
    routes = {
        "/good.rss": Route(rss("/a1.html", "/a2.html"), "application/rss+xml"),
        "/a1.html": Route(ARTICLE.format(title="Bài một", body=BODY).encode()),
        "/a2.html": Route(ARTICLE.format(title="Bài hai", body=BODY + " Thêm").encode()),
        "/broken.rss": Route(b"server error", status=500),
    }
    with RouteSite(routes) as site:
        sources = [
            Source(
                id="good",
                name="Tốt",
                kind=SourceKind.FEED,
                url=f"{site.base_url}/good.rss",
                tier=SourceTier.PRESS,
            ),
            Source(
                id="broken",
                name="Hỏng",
                kind=SourceKind.FEED,
                url=f"{site.base_url}/broken.rss",
                tier=SourceTier.PRESS,
            ),
        ]
        pipeline.crawl(sources)
    with LiveServer(create_app(settings, store, sources, pipeline.state)) as server:
        response = httpx.get(
            f"{server.url}/api/sources", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        with httpx.Client(base_url=server.url) as browser:
            login(browser, "admin", ADMIN_PASSWORD)
            page = browser.get("/sources")
    assert page.status_code == 200
    assert "1 nguồn cần chú ý" in page.text and "Đang lỗi" in page.text
    assert "http_500" in page.text
    assert response.status_code == 200
    health = {h["id"]: h for h in response.json()}
    stored = store.search(SearchQuery(source_ids=["good"], limit=1)).total
    assert stored == 2
    assert health["good"]["items_today"] == stored
    assert health["good"]["status"] == "ok"
    assert health["good"]["last_success_at"] is not None
    assert health["broken"]["status"] == "failing"
    assert health["broken"]["last_error_cause"] == "http_500"
    assert health["broken"]["failures_last_7_days"] == {"feed:http_500": 1}
    assert health["broken"]["items_today"] == 0
