"""The Facebook connector against a loopback Graph API answering the documented shapes of
``/{page-id}/posts`` (cursor paging) and of its OAuthException errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from structlog.testing import capture_logs

from crawlers.events import FailureEvent, ItemEvent, SourceDoneEvent
from crawlers.social import collect
from mediawatch.config import Settings
from mediawatch.model import Source
from tests.crawling import LOOPBACK
from tests.http_site import Route, RouteSite

TOKEN = "EAAGtestPageToken0123456789abcdef"
PAGE_ID = "104523318321234"
FIELDS = "id,message,created_time,permalink_url,from"
FIRST = f"/v21.0/{PAGE_ID}/posts?" + str(
    httpx.QueryParams({"fields": FIELDS, "limit": 100, "access_token": TOKEN})
)
SECOND = f"/v21.0/{PAGE_ID}/posts?access_token={TOKEN}&fields={FIELDS}&limit=100&after=QVFIUmlG"
AUTHOR = {"name": "Báo Lâm Đồng", "id": PAGE_ID}


def api(body: dict, status: int = 200) -> Route:
    return Route(json.dumps(body, ensure_ascii=False).encode(), "application/json", status)


def post(number: int, created: str, message: str | None) -> dict:
    body = {
        "id": f"{PAGE_ID}_{number}",
        "created_time": created,
        "permalink_url": f"https://www.facebook.com/baolamdong/posts/pfbid0{number}",
        "from": AUTHOR,
    }
    if message is not None:
        body["message"] = message
    return body


PAGE_1 = {
    "data": [
        post(
            5,
            "2025-06-03T09:30:00+0000",
            "THÔNG BÁO: Tạm cấm xe qua đèo Prenn từ 14h ngày 3/6 để khắc phục sạt lở.",
        ),
        post(4, "2025-06-03T02:00:00+0000", None),  # a photo without caption
        post(3, "2025-06-02T11:00:00+0000", "Đà Lạt: khai mạc Festival Hoa lần thứ X."),
    ],
    "paging": {
        "cursors": {"before": "QVFIUjFi", "after": "QVFIUmlG"},
        "next": "{base}" + SECOND,
    },
}
PAGE_2 = {
    "data": [
        post(2, "2025-06-01T08:00:00+0000", "Bảo Lộc tổ chức đối thoại với người dân về đất đai."),
        post(1, "2025-05-20T08:00:00+0000", "Tin cũ tháng 5."),
    ],
    "paging": {"cursors": {"before": "QVFIUmlH", "after": "QVFIUmlI"}},
}
EXPIRED = {
    "error": {
        "message": "Error validating access token: Session has expired on Tuesday, "
        "03-Jun-25 01:00:00 PDT. The current time is Tuesday, 03-Jun-25 02:00:00 PDT.",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "A1b2C3d4E5f",
    }
}


def page_source() -> Source:
    return Source(
        id="fb-baolamdong",
        name="Báo Lâm Đồng (Facebook)",
        kind="facebook",
        url="https://www.facebook.com/baolamdong",
        tier="press",
        account=PAGE_ID,
    )


def settings_for(tmp_path: Path, site: RouteSite, token: str | None = TOKEN) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        social={"facebook_access_token": token, "facebook_graph_url": f"{site.base_url}/v21.0"},
    )
    settings.crawl.retries = 0
    settings.crawl.allowed_internal_hosts = LOOPBACK
    return settings


def test_page_posts_across_cursor_pages(tmp_path):
    with RouteSite({FIRST: api(PAGE_1), SECOND: api(PAGE_2)}) as site:
        events = list(collect([page_source()], settings_for(tmp_path, site)))
    documents = [e.document for e in events if isinstance(e, ItemEvent)]
    assert [d.url.rsplit("pfbid0", 1)[1] for d in documents] == ["5", "3", "2", "1"]
    first = documents[0]
    assert first.title == "THÔNG BÁO: Tạm cấm xe qua đèo Prenn từ 14h ngày 3/6 để khắc phục sạt lở."
    assert first.published_at == datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
    assert first.authors == ["Báo Lâm Đồng"]
    assert first.extractor == "facebook-graph"
    done = events[-1]
    assert isinstance(done, SourceDoneEvent)
    assert (done.entries, done.skipped_empty) == (4, 1)  # entries: posts with text
    assert site.requested == [FIRST, SECOND]


def test_since_is_sent_and_older_posts_are_not_yielded(tmp_path):
    since = datetime(2025, 5, 25, tzinfo=UTC)
    first_since = f"{FIRST}&since={int(since.timestamp())}"
    with RouteSite({first_since: api(PAGE_1), SECOND: api(PAGE_2)}) as site:
        events = list(
            collect([page_source()], settings_for(tmp_path, site), {"fb-baolamdong": since})
        )
    assert sum(isinstance(e, ItemEvent) for e in events) == 3
    assert site.requested[0] == first_since


def test_expired_token_on_the_second_page_keeps_the_first_and_hides_the_token(tmp_path):
    with (
        RouteSite({FIRST: api(PAGE_1), SECOND: api(EXPIRED, 400)}) as site,
        capture_logs() as logs,
    ):
        events = list(collect([page_source()], settings_for(tmp_path, site)))
    assert sum(isinstance(e, ItemEvent) for e in events) == 2
    failure = events[-1]
    assert isinstance(failure, FailureEvent)
    assert (failure.reason, failure.stage) == ("token_expired", "feed")
    assert "OAuthException" in failure.detail
    assert "access_token=***" in failure.url
    assert TOKEN not in failure.model_dump_json()
    assert TOKEN not in repr(logs)


def test_next_page_on_another_host_is_refused(tmp_path):
    elsewhere = PAGE_1 | {"paging": {"next": "http://203.0.113.9/steal?access_token=" + TOKEN}}
    with RouteSite({FIRST: api(elsewhere)}) as site:
        events = list(collect([page_source()], settings_for(tmp_path, site)))
    failure = events[-1]
    assert isinstance(failure, FailureEvent)
    assert failure.reason == "bad_paging"
    assert site.requested == [FIRST]


def test_missing_token_fails_without_a_request(tmp_path):
    with RouteSite({FIRST: api(PAGE_1)}) as site:
        (failure,) = collect([page_source()], settings_for(tmp_path, site, token=None))
        assert site.requested == []
    assert isinstance(failure, FailureEvent)
    assert failure.reason == "no_access_token"
