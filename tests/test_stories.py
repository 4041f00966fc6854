"""Near-duplicates across sources share a story; the index survives restarts and forgets."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash

from index.sqlite import SQLiteStore
from mediawatch.model import Document, SourceTier
from mediawatch.stories import NUM_PERM, SCHEME, SEED, StoryIndex, shingles, signature
from mediawatch.text import collapse
from tests.conftest import shared_path

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

RUMOUR = (
    "Khẩn cấp: từ ngày 15 tháng này tỉnh Lâm Đồng sẽ thu hồi toàn bộ đất nông nghiệp "
    "chưa có sổ đỏ ở Đà Lạt, Lạc Dương và Đơn Dương để giao cho một tập đoàn nước ngoài "
    "làm sân golf. Người dân chỉ được bồi thường 10% giá thị trường, ai không ký giấy đồng ý "
    "trước cuối tuần sẽ bị cưỡng chế. Thông tin này do một cán bộ phường Xuân Hương tiết lộ, "
    "mọi người chia sẻ gấp cho bà con biết để kịp phản đối."
)
# The same rumour as other pages carry it: words changed, a sentence added, diacritics lost.
COPY_1 = RUMOUR.replace("Khẩn cấp", "Tin nóng").replace("10%", "15%") + (
    " Đã có hàng trăm hộ dân nhận được thông báo."
)
COPY_2 = (
    "tin nong: tu ngay 15 thang nay tinh lam dong se thu hoi toan bo dat nong nghiep chua co "
    "so do o da lat, lac duong va don duong de giao cho mot tap doan nuoc ngoai lam san golf. "
    "nguoi dan chi duoc boi thuong 15% gia thi truong, ai khong ky giay dong y truoc cuoi tuan "
    "se bi cuong che. thong tin nay do mot can bo phuong xuan huong tiet lo, moi nguoi chia se "
    "gap cho ba con biet."
)
SAME_TOPIC = (
    "Sở Tài nguyên và Môi trường tỉnh Lâm Đồng khẳng định không có chủ trương thu hồi đất "
    "nông nghiệp chưa có giấy chứng nhận để giao cho doanh nghiệp làm sân golf. Thông tin lan "
    "truyền trên mạng xã hội là sai sự thật; cơ quan công an đang xác minh người đăng tải và "
    "đề nghị người dân không chia sẻ tin chưa được kiểm chứng."
)


def doc(item: str, text: str, *, source: str, at: datetime, title: str = "") -> Document:
    return Document(
        id=f"web:{item}",
        url=f"https://{source}.example.vn/{item}",
        source_id=source,
        source_tier=SourceTier.SOCIAL,
        title=title,
        text=text,
        published_at=at,
        fetched_at=at,
    )


def record_batch(index: StoryIndex, documents: list[Document], now: datetime) -> list[Document]:
    """The stories of a batch the store has taken: proposed, then recorded, as the pipeline
    does once the store has the items."""
    proposal = index.propose(documents, now)
    index.record(proposal)
    return proposal.documents


def test_one_rumour_copied_by_three_sources_is_one_story(tmp_path: Path):
    with StoryIndex(tmp_path / "stories.db") as index:
        rumour = doc("a", RUMOUR, source="fb-1", at=NOW - timedelta(hours=5))
        first = record_batch(index, [rumour], NOW)
        later = record_batch(
            index,
            [
                doc("b", COPY_1, source="tg-2", at=NOW - timedelta(hours=3)),
                doc("c", COPY_2, source="web-3", at=NOW - timedelta(hours=1)),
                doc("d", SAME_TOPIC, source="web-3", at=NOW - timedelta(hours=1)),
            ],
            NOW,
        )
    assert first[0].story_id == "web:a"
    assert [d.story_id for d in later] == ["web:a", "web:a", "web:d"]


def test_items_in_one_batch_join_the_earliest(tmp_path: Path):
    batch = [
        doc("late", COPY_2, source="web-3", at=NOW - timedelta(hours=1)),
        doc("early", RUMOUR, source="fb-1", at=NOW - timedelta(hours=9)),
        doc("middle", COPY_1, source="tg-2", at=NOW - timedelta(hours=4)),
    ]
    with StoryIndex(tmp_path / "stories.db") as index:
        assigned = record_batch(index, batch, NOW)
        again = record_batch(index, batch[:1], NOW)
    assert [d.id for d in assigned] == ["web:late", "web:early", "web:middle"]
    assert {d.story_id for d in assigned} == {"web:early"}
    assert again[0].story_id == "web:early"


def test_different_articles_on_one_topic_are_different_stories(tmp_path: Path):
    path = shared_path("data/vntc/dev.jsonl.gz")
    by_topic: dict[str, list[str]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if len(row["text"].split()) >= 150:
                by_topic.setdefault(row["label"], []).append(row["text"])
    articles = [text for texts in by_topic.values() for text in texts[:6]]
    documents = [
        doc(str(i), text, source=f"s{i % 3}", at=NOW - timedelta(minutes=i))
        for i, text in enumerate(articles)
    ]
    with StoryIndex(tmp_path / "stories.db") as index:
        assigned = record_batch(index, documents, NOW)
    assert len(assigned) >= 30
    assert [d.story_id for d in assigned] == [d.id for d in assigned]


def test_stories_survive_a_restart(tmp_path: Path):
    path = tmp_path / "stories.db"
    with StoryIndex(path) as index:
        record_batch(index, [doc("a", RUMOUR, source="fb-1", at=NOW - timedelta(hours=5))], NOW)
    with StoryIndex(path) as reopened:
        copy = record_batch(reopened, [doc("b", COPY_1, source="tg-2", at=NOW)], NOW)
    assert copy[0].story_id == "web:a"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_signatures_older_than_the_window_no_longer_link(tmp_path: Path):
    path = tmp_path / "stories.db"
    with StoryIndex(path, window=timedelta(days=30)) as index:
        record_batch(index, [doc("old", RUMOUR, source="fb-1", at=NOW - timedelta(days=31))], NOW)
    with StoryIndex(path, window=timedelta(days=30)) as index:
        assert index.expire(NOW) == 1
        fresh = record_batch(index, [doc("new", COPY_1, source="tg-2", at=NOW)], NOW)
        assert fresh[0].story_id == "web:new"
        assert index.stats("web:old", NOW).size == 1
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT item_id, signature IS NULL FROM story_items ORDER BY 1")
        assert rows.fetchall() == [("web:new", 0), ("web:old", 1)]


def test_short_texts_stand_alone(tmp_path: Path):
    short = "Đà Lạt sẽ thu hồi đất nông nghiệp, chia sẻ gấp"
    with StoryIndex(tmp_path / "stories.db") as index:
        assigned = record_batch(
            index,
            [
                doc("x", short, source="fb-1", at=NOW - timedelta(hours=1)),
                doc("y", short, source="fb-2", at=NOW),
            ],
            NOW,
        )
    assert [d.story_id for d in assigned] == ["web:x", "web:y"]


def test_story_stats_count_what_was_assigned(tmp_path: Path):
    times = [NOW - timedelta(hours=h) for h in (40, 30, 20, 5, 2, 1)]
    texts = [RUMOUR, COPY_1, COPY_2, RUMOUR + " Chia sẻ ngay!", COPY_1 + " Thật không?", COPY_2]
    sources = ["fb-1", "tg-2", "web-3", "fb-1", "fb-4", "tg-2"]
    documents = [
        doc(str(i), text, source=source, at=at)
        for i, (text, source, at) in enumerate(zip(texts, sources, times, strict=True))
    ]
    with StoryIndex(tmp_path / "stories.db") as index:
        record_batch(index, documents, NOW)
        stats = index.stats("web:0", NOW)
        bulk = index.stats_for(["web:0", "web:unknown"], NOW)
        assert index.stats("web:unknown", NOW) is None
    assert stats is not None
    assert stats.first_seen == times[0]
    assert stats.last_seen == times[-1]
    assert (stats.size, stats.sources) == (6, 4)
    assert (stats.items_last_24h, stats.items_previous_24h) == (4, 2)
    assert stats.per_hour_6h == 3 / 6
    assert bulk == {"web:0": stats}


def test_signatures_are_datasketchs_default_hash_of_the_shingles():
    """Remembered shingle hashes give the very signature datasketch computes itself, so
    signatures stored before (or by another process) stay comparable."""
    with gzip.open(shared_path("data/vntc/dev.jsonl.gz"), "rt", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for _, line in zip(range(40), lines, strict=False)]
    for text in texts + texts:  # the second round reads remembered hashes
        plain = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
        plain.update_batch([s.encode() for s in shingles(collapse(text))])
        assert np.array_equal(signature(text).hashvalues, plain.hashvalues)


def test_a_start_settling_mid_batch_does_not_lose_another_workers_batch(tmp_path: Path):
    """Worker B starts (settling every pending row) while worker A's batch is proposed but
    not yet stored: B drops A's pending rows, and A's batch still counts once A records it."""
    store = SQLiteStore(tmp_path / "mediawatch.db")
    path = tmp_path / "stories.db"
    batch = [
        doc("a", RUMOUR, source="fb-1", at=NOW - timedelta(hours=2)),
        doc("b", COPY_1, source="tg-2", at=NOW - timedelta(hours=1)),
    ]
    with StoryIndex(path) as worker_a, StoryIndex(path) as worker_b:
        proposal = worker_a.propose(batch, NOW)
        assert worker_b.settle(lambda item_id: store.get(item_id) is not None) == 2
        store.upsert(proposal.documents)
        worker_a.record(proposal)
        assert worker_b.stats("web:a", NOW).size == 2
