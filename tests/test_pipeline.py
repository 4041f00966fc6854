"""The pipeline keeps what it received even when the crawl behind it fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crawlers.process import CrawlProcessError
from index.query import SearchQuery
from mediawatch.clock import day_bounds, recent_days
from mediawatch.model import Document, SourceTier, utc_now


def documents_then_crash(count: int) -> Iterator[Document]:
    for i in range(count):
        yield Document(
            id="web:pending",
            url=f"https://bao.vn/tin/{i}",
            source_id="bao",
            source_tier=SourceTier.PRESS,
            title=f"Tin số {i}",
            text=f"Nội dung số {i} về quy hoạch Đà Lạt.",
            fetched_at=utc_now(),
        )
    raise CrawlProcessError("crawl process exited with -9")


def test_items_received_before_a_crash_are_stored(pipeline):
    with pytest.raises(CrawlProcessError):
        pipeline.ingest(documents_then_crash(7))
    assert pipeline.store.search(SearchQuery()).total == 7


def test_same_text_under_another_url_points_at_the_first(pipeline):
    first, second = (
        Document(
            id="web:pending",
            url=url,
            source_id="bao",
            source_tier=SourceTier.SOCIAL,
            title="Nghe nói sắp thu hồi đất",
            text="Chia sẻ gấp!!!",
            fetched_at=utc_now(),
        )
        for url in ("https://a.vn/1", "https://b.vn/copy")
    )
    pipeline.ingest([first])
    pipeline.ingest([second])
    hits = {h.document.url: h.document for h in pipeline.store.search(SearchQuery()).hits}
    assert hits["https://a.vn/1"].duplicate_of is None
    assert hits["https://b.vn/copy"].duplicate_of == hits["https://a.vn/1"].id


def test_recent_days_start_at_local_midnight():
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
    since, until = recent_days(7, "Asia/Ho_Chi_Minh", now)
    assert since.isoformat() == "2026-11-20T00:00:00+07:00"
    assert until == now
    start, end = day_bounds(now, "Asia/Ho_Chi_Minh")
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-25T00:00:00+07:00",
        "2026-11-26T00:00:00+07:00",
    )
