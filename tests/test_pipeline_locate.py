"""The pipeline's later stages on a real crawl: places and relevance, stories, social sources."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from api.app import create_app
from dashboards.formatting import SECTION_VI
from index.query import SearchQuery
from mediawatch.identity import web_item_id
from mediawatch.model import Source, SourceKind, SourceScope, SourceTier
from tests.conftest import ADMIN_PASSWORD, API_TOKEN, LiveServer, login
from tests.http_site import Route, RouteSite
from tests.test_crawl import ARTICLE, rss
from tests.test_social_telegram import CHANNEL, message, page

DA_LAT = (
    "Ủy ban nhân dân thành phố Đà Lạt họp bàn phương án chỉnh trang khu vực hồ Xuân Hương, "
    "lấy ý kiến người dân về quy hoạch giao thông quanh chợ Đà Lạt trong năm tới."
)
HA_NOI = (
    "Ủy ban nhân dân thành phố Hà Nội họp bàn phương án chỉnh trang khu vực hồ Hoàn Kiếm, "
    "lấy ý kiến người dân về quy hoạch giao thông quanh phố cổ trong năm tới."
)
RUMOUR = (
    "Nghe nói từ tháng sau toàn bộ đất nông nghiệp ở xã Lạc Dương sẽ bị thu hồi để làm sân golf, "
    "người dân chỉ được đền bù một phần nhỏ, ai không ký sẽ bị cưỡng chế, chia sẻ ngay cho bà con "
    "biết trước khi quá muộn, chính quyền đang giấu kín thông tin này."
)
EDITED = RUMOUR.replace("tháng sau", "tháng tới").replace("bà con", "mọi người") + " Khẩn!"


def feed_source(source_id: str, url: str, scope: SourceScope) -> Source:
    return Source(
        id=source_id,
        name=source_id,
        kind=SourceKind.FEED,
        url=url,
        tier=SourceTier.PRESS,
        scope=scope,
    )


def test_national_items_are_kept_only_when_they_name_the_province(store, pipeline):
    routes = {
        "/national.rss": Route(rss("/da-lat.html", "/ha-noi.html"), "application/rss+xml"),
        "/da-lat.html": Route(ARTICLE.format(title="Chỉnh trang Đà Lạt", body=DA_LAT).encode()),
        "/ha-noi.html": Route(ARTICLE.format(title="Chỉnh trang Hà Nội", body=HA_NOI).encode()),
    }
    with RouteSite(routes) as site:
        national = feed_source("national", f"{site.base_url}/national.rss", SourceScope.NATIONAL)
        first = pipeline.crawl([national])
        second = pipeline.crawl([national])
    da_lat = store.get(web_item_id(f"{site.base_url}/da-lat.html"))
    assert da_lat is not None and "tp-da-lat" in da_lat.places
    assert store.get(web_item_id(f"{site.base_url}/ha-noi.html")) is None
    assert (first.stored, first.not_about_province) == (1, 1)
    # the item passed over is remembered: the next crawl does not fetch its page again
    assert Counter(site.requested)["/ha-noi.html"] == 1
    assert second.stored == 0


def test_a_rumour_copied_with_edits_across_sources_is_one_story(settings, store, pipeline):
    routes = {
        "/src-a.rss": Route(rss("/a/tin.html"), "application/rss+xml"),
        "/src-b.rss": Route(rss("/b/tin.html"), "application/rss+xml"),
        "/src-c.rss": Route(rss("/c/tin.html"), "application/rss+xml"),
        "/a/tin.html": Route(ARTICLE.format(title="Thu hồi đất Lạc Dương", body=RUMOUR).encode()),
        "/b/tin.html": Route(ARTICLE.format(title="Thu hồi đất Lạc Dương", body=EDITED).encode()),
        "/c/tin.html": Route(ARTICLE.format(title="Chỉnh trang Đà Lạt", body=DA_LAT).encode()),
    }
    with RouteSite(routes) as site:
        sources = [
            feed_source(name, f"{site.base_url}/{name}.rss", SourceScope.PROVINCIAL)
            for name in ("src-a", "src-b", "src-c")
        ]
        pipeline.crawl(sources)
    a, b, c = (store.get(web_item_id(f"{site.base_url}/{n}/tin.html")) for n in "abc")
    assert a.story_id is not None and a.story_id == b.story_id
    assert c.story_id != a.story_id
    assert a.duplicate_of is None and b.duplicate_of is None  # near, not exact, copies
    stats = pipeline.stories.stats(a.story_id)
    assert (stats.size, stats.sources) == (2, 2)

    app = create_app(settings, store, sources, pipeline.state, pipeline.stories)
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as client:
        story = client.get(
            f"/api/stories/{a.story_id}", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        missing = client.get(
            "/api/stories/web:nothing", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        login(client, "admin", ADMIN_PASSWORD)
        item_page = client.get(f"/items/{b.id}")
    assert story.status_code == 200
    assert (story.json()["size"], story.json()["sources"]) == (2, 2)
    assert missing.status_code == 404
    assert "Cùng câu chuyện (nội dung gần giống): 2 tin từ 2 nguồn" in item_page.text
    assert "xã Lạc Dương" in item_page.text
    section = SECTION_VI[b.classification.section]
    assert f"Chuyên mục báo chí: {section}" in item_page.text
    assert "Ngôn từ xúc phạm, thù địch:" in item_page.text


def test_social_sources_are_read_in_the_same_crawl_and_remembered(store, pipeline):
    recently = datetime.now(UTC) - timedelta(minutes=10)
    newest = page(
        [
            message(201, recently.isoformat(), RUMOUR),
            message(202, (recently + timedelta(minutes=1)).isoformat(), None),  # photo only
        ],
        prev=None,
    )
    with RouteSite({f"/s/{CHANNEL}": newest}) as site:
        telegram = Source(
            id="tg",
            name="Telegram",
            kind=SourceKind.TELEGRAM,
            url=f"{site.base_url}/s/{CHANNEL}",
            tier=SourceTier.SOCIAL,
            account=CHANNEL,
        )
        report = pipeline.crawl([telegram])
        again = pipeline.crawl([telegram])
    assert report.stored == 1
    # read again, the post is known: adaptive polling sees nothing new
    assert (again.done["tg"].entries, again.done["tg"].skipped_known) == (1, 1)
    stored = store.search(SearchQuery(source_ids=["tg"])).hits
    assert [hit.document.id for hit in stored] == [f"telegram:{CHANNEL}:201"]
    assert stored[0].document.places == ["xa-lac-duong"]
    state = pipeline.state.states()["tg"]
    assert state.last_success_at is not None and state.consecutive_failures == 0
