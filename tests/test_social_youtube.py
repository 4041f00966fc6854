"""The YouTube connector against a loopback server answering the Data API v3's documented
shapes (channels, playlistItems, search, error bodies)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from crawlers.events import FailureEvent, ItemEvent, SourceDoneEvent
from crawlers.social import collect
from mediawatch.config import Settings
from mediawatch.model import Source, SourceTier
from tests.crawling import LOOPBACK
from tests.http_site import Route, RouteSite

KEY = "AIzaSy-test-key-0123456789"
CHANNEL = "UCa1b2c3LamDongTV"
UPLOADS = "UUa1b2c3LamDongTV"


def key(path: str, **params: object) -> str:
    """The path and query exactly as the connector sends them (its parameter order)."""
    return f"{path}?{httpx.QueryParams(params)}"


def api(body: dict, status: int = 200) -> Route:
    return Route(json.dumps(body, ensure_ascii=False).encode(), "application/json", status)


def playlist_item(video_id: str, title: str, description: str, published: str) -> dict:
    return {
        "kind": "youtube#playlistItem",
        "etag": f"etag-{video_id}",
        "id": f"VVVh{video_id}",
        "snippet": {
            "publishedAt": published,
            "channelId": CHANNEL,
            "title": title,
            "description": description,
            "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg"}},
            "channelTitle": "Đài PT-TH Lâm Đồng",
            "playlistId": UPLOADS,
            "position": 0,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
            "videoOwnerChannelTitle": "Đài PT-TH Lâm Đồng",
            "videoOwnerChannelId": CHANNEL,
        },
    }


PRIVATE = {
    "kind": "youtube#playlistItem",
    "id": "VVVhprivate",
    "snippet": {
        "publishedAt": "2025-06-02T12:00:00Z",
        "channelId": CHANNEL,
        "title": "Private video",
        "description": "This video is private.",
        "channelTitle": "Đài PT-TH Lâm Đồng",
        "playlistId": UPLOADS,
        "position": 1,
        "resourceId": {"kind": "youtube#video", "videoId": "privateVid1"},
    },
}

CHANNELS = {
    "kind": "youtube#channelListResponse",
    "etag": "etag-channels",
    "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
    "items": [
        {
            "kind": "youtube#channel",
            "etag": "etag-channel",
            "id": CHANNEL,
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}},
        }
    ],
}
PAGE_1 = {
    "kind": "youtube#playlistItemListResponse",
    "etag": "etag-p1",
    "nextPageToken": "EAAaBlBUOkNESQ",
    "items": [
        playlist_item(
            "vid00000003",
            "Bảo Lộc: sạt lở đất trên đèo, tạm cấm xe",
            "Mưa lớn kéo dài gây sạt lở trên đèo Bảo Lộc.\nCơ quan chức năng khuyến cáo người dân.",
            "2025-06-03T08:00:00Z",
        ),
        PRIVATE,
        playlist_item(
            "vid00000002",
            "Đà Lạt chuẩn bị Festival Hoa 2025",
            "Thành phố Đà Lạt hoàn tất công tác chuẩn bị Festival Hoa.",
            "2025-06-02T08:00:00Z",
        ),
    ],
    "pageInfo": {"totalResults": 5, "resultsPerPage": 3},
}
PAGE_2 = {
    "kind": "youtube#playlistItemListResponse",
    "etag": "etag-p2",
    "prevPageToken": "EAEaBlBUOkNESQ",
    "items": [
        playlist_item(
            "vid00000001",
            "Lâm Đồng sắp xếp đơn vị hành chính cấp xã",
            "Sau sáp nhập, tỉnh Lâm Đồng có 124 đơn vị hành chính cấp xã.",
            "2025-06-01T08:00:00Z",
        ),
        playlist_item(
            "vid00000000",
            "Thời sự Lâm Đồng tối 20/5",
            "Bản tin thời sự tối.",
            "2025-05-20T12:00:00Z",
        ),
    ],
    "pageInfo": {"totalResults": 5, "resultsPerPage": 3},
}
QUOTA = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your "
        '<a href="/youtube/v3/getting-started#quota">quota</a>.',
        "errors": [
            {
                "message": "The request cannot be completed because you have exceeded your quota.",
                "domain": "youtube.quota",
                "reason": "quotaExceeded",
            }
        ],
    }
}
BAD_KEY = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "errors": [
            {
                "message": "API key not valid. Please pass a valid API key.",
                "domain": "global",
                "reason": "badRequest",
            }
        ],
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        ],
    }
}

CHANNELS_KEY = key("/youtube/v3/channels", part="contentDetails", id=CHANNEL, key=KEY)
PAGE_1_KEY = key(
    "/youtube/v3/playlistItems", part="snippet", playlistId=UPLOADS, maxResults=50, key=KEY
)
PAGE_2_KEY = key(
    "/youtube/v3/playlistItems",
    part="snippet",
    playlistId=UPLOADS,
    maxResults=50,
    pageToken="EAAaBlBUOkNESQ",
    key=KEY,
)


def channel_source(**overrides: object) -> Source:
    return Source.model_validate(
        {
            "id": "yt-lamdongtv",
            "name": "Đài PT-TH Lâm Đồng (YouTube)",
            "kind": "youtube",
            "url": "https://www.youtube.com/channel/" + CHANNEL,
            "tier": "press",
            "account": CHANNEL,
        }
        | overrides
    )


def settings_for(tmp_path: Path, site: RouteSite, **social: object) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        social={"youtube_api_key": KEY, "youtube_api_url": f"{site.base_url}/youtube/v3"} | social,
    )
    settings.crawl.retries = 0
    settings.crawl.allowed_internal_hosts = LOOPBACK
    return settings


@pytest.fixture
def channel_site():
    routes = {CHANNELS_KEY: api(CHANNELS), PAGE_1_KEY: api(PAGE_1), PAGE_2_KEY: api(PAGE_2)}
    with RouteSite(routes) as site:
        yield site


def test_channel_uploads_across_pages_newest_first(tmp_path, channel_site):
    events = list(collect([channel_source()], settings_for(tmp_path, channel_site)))
    documents = [e.document for e in events if isinstance(e, ItemEvent)]
    assert [d.url for d in documents] == [
        f"https://www.youtube.com/watch?v=vid0000000{n}" for n in (3, 2, 1, 0)
    ]
    first = documents[0]
    assert first.id == "youtube:vid00000003"
    assert first.title == "Bảo Lộc: sạt lở đất trên đèo, tạm cấm xe"
    assert first.text.startswith("Mưa lớn kéo dài gây sạt lở trên đèo Bảo Lộc.\n")
    assert first.authors == ["Đài PT-TH Lâm Đồng"]
    assert first.published_at == datetime(2025, 6, 3, 8, tzinfo=UTC)
    assert (first.source_id, first.source_tier) == ("yt-lamdongtv", SourceTier.PRESS)
    assert (first.extractor, first.date_source) == ("youtube-api", "api")
    done = events[-1]
    assert isinstance(done, SourceDoneEvent)
    assert (done.entries, done.skipped_empty) == (4, 1)  # the private video is counted apart
    assert channel_site.requested == [CHANNELS_KEY, PAGE_1_KEY, PAGE_2_KEY]


def test_channel_stops_at_items_older_than_since(tmp_path, channel_site):
    since = {"yt-lamdongtv": datetime(2025, 5, 25, tzinfo=UTC)}
    events = list(collect([channel_source()], settings_for(tmp_path, channel_site), since))
    urls = [e.document.url for e in events if isinstance(e, ItemEvent)]
    assert urls[-1].endswith("vid00000001")
    assert len(urls) == 3


def test_max_items_ends_paging(tmp_path, channel_site):
    settings = settings_for(tmp_path, channel_site, max_items_per_source=2)
    events = list(collect([channel_source()], settings))
    assert sum(isinstance(e, ItemEvent) for e in events) == 2
    assert PAGE_2_KEY not in channel_site.requested


def test_search_source_unescapes_titles_and_sends_since(tmp_path):
    since = datetime(2025, 6, 1, tzinfo=UTC)
    search_key = key(
        "/youtube/v3/search",
        part="snippet",
        q="sạt lở Bảo Lộc",
        type="video",
        order="date",
        maxResults=50,
        relevanceLanguage="vi",
        publishedAfter="2025-06-01T00:00:00Z",
        key=KEY,
    )
    result = {
        "kind": "youtube#searchListResponse",
        "regionCode": "VN",
        "pageInfo": {"totalResults": 1, "resultsPerPage": 50},
        "items": [
            {
                "kind": "youtube#searchResult",
                "id": {"kind": "youtube#video", "videoId": "srch0000001"},
                "snippet": {
                    "publishedAt": "2025-06-03T10:15:00Z",
                    "channelId": "UCother",
                    "title": "&quot;Sạt lở&quot; đèo Bảo Lộc: người dân &#39;hoảng&#39;",
                    "description": "Clip ghi lại cảnh sạt lở...",
                    "channelTitle": "Tin Nóng 24h",
                    "liveBroadcastContent": "none",
                    "publishTime": "2025-06-03T10:15:00Z",
                },
            }
        ],
    }
    with RouteSite({search_key: api(result)}) as site:
        source = channel_source(id="yt-search-baoloc", account=None, query="sạt lở Bảo Lộc")
        events = list(collect([source], settings_for(tmp_path, site), {source.id: since}))
    (item,) = [e for e in events if isinstance(e, ItemEvent)]
    assert item.document.title == "\"Sạt lở\" đèo Bảo Lộc: người dân 'hoảng'"
    assert item.document.authors == ["Tin Nóng 24h"]


@pytest.mark.parametrize(
    ("body", "status", "cause"), [(QUOTA, 403, "quota_exceeded"), (BAD_KEY, 400, "bad_key")]
)
def test_api_error_is_a_failure_with_its_cause_and_no_key(tmp_path, body, status, cause):
    with RouteSite({CHANNELS_KEY: api(body, status)}) as site, capture_logs() as logs:
        events = list(collect([channel_source()], settings_for(tmp_path, site)))
    (failure,) = events
    assert isinstance(failure, FailureEvent)
    assert (failure.source_id, failure.stage, failure.reason) == ("yt-lamdongtv", "feed", cause)
    assert f"HTTP {status}" in failure.detail
    assert KEY not in failure.model_dump_json()
    assert KEY not in repr(logs)
    assert any(line["event"] == "social source failed" for line in logs)


def test_a_failing_source_does_not_stop_the_next(tmp_path, channel_site):
    # the API's answer for a channel id that does not exist: no items at all
    unknown = {"kind": "youtube#channelListResponse", "etag": "e", "pageInfo": {"totalResults": 0}}
    gone_key = key("/youtube/v3/channels", part="contentDetails", id="UCgone", key=KEY)
    channel_site.routes[gone_key] = api(unknown)
    broken = channel_source(id="yt-gone", account="UCgone")
    events = list(collect([broken, channel_source()], settings_for(tmp_path, channel_site)))
    assert isinstance(events[0], FailureEvent)
    assert events[0].reason == "not_found"
    assert sum(isinstance(e, ItemEvent) for e in events) == 4


def test_missing_api_key_fails_without_a_request(tmp_path, channel_site):
    settings = settings_for(tmp_path, channel_site, youtube_api_key=None)
    (failure,) = collect([channel_source()], settings)
    assert isinstance(failure, FailureEvent)
    assert failure.reason == "no_api_key"
    assert "MEDIAWATCH_SOCIAL__YOUTUBE_API_KEY" in failure.detail
    assert channel_site.requested == []
