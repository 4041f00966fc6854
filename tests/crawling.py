"""Running the real crawl child against loopback sites, and the pages those sites serve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawlers.events import FailureEvent, ItemEvent, SourceDoneEvent, Validators
from crawlers.process import crawl
from mediawatch.config import CrawlSettings
from mediawatch.model import Document, Source, SourceKind, SourceTier

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav>Trang chủ · Thời sự · Kinh tế</nav><article><h1>{title}</h1>
<p>{body}</p><p>{body}</p><p>{body}</p></article>
<footer>Bản quyền thuộc về tòa soạn.</footer></body></html>"""
BODY = "Ủy ban nhân dân tỉnh Lâm Đồng công bố kế hoạch giải phóng mặt bằng cho dự án đường cao tốc."
ALLOW_ALL = b"User-agent: *\nDisallow:\n"
# The test sites stand for the web but live on loopback, which a crawl refuses unless allowed.
LOOPBACK = ["127.0.0.1"]


def article(title: str, published: str | None = None) -> bytes:
    """An article page; ``published`` (ISO 8601) goes where news sites put it, in a meta tag."""
    page = ARTICLE.format(title=title, body=BODY)
    if published:
        meta = f'<meta property="article:published_time" content="{published}">'
        page = page.replace("</head>", meta + "</head>")
    return page.encode()


def rss(*links: str) -> bytes:
    items = "".join(
        f"<item><title>Tin {i}</title><link>{{base}}{link}</link>"
        f"<description>Tóm tắt tin số {i} về chính sách đất đai của tỉnh.</description>"
        f"<pubDate>Mon, 23 Nov 2026 08:00:00 +0700</pubDate></item>"
        for i, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Thử</title>'
        f"<link>{{base}}/</link>{items}</channel></rss>"
    ).encode()


def source(
    source_id: str,
    url: str,
    tier: SourceTier = SourceTier.PRESS,
    kind: SourceKind = SourceKind.FEED,
    **fields: Any,
) -> Source:
    return Source(id=source_id, name=source_id, kind=kind, url=url, tier=tier, **fields)


def quick_settings(**changes: Any) -> CrawlSettings:
    """Politeness off for loopback sites, which are allowed: no delay, no retries unless a
    test asks for them."""
    quick = {
        "download_delay_s": 0.0,
        "retries": 0,
        "timeout_s": 10,
        "allowed_internal_hosts": LOOPBACK,
    }
    return CrawlSettings(**(quick | changes))


@dataclass
class CrawlResult:
    items: list[Document] = field(default_factory=list)
    failures: list[FailureEvent] = field(default_factory=list)
    done: dict[str, SourceDoneEvent] = field(default_factory=dict)

    def by_path(self) -> dict[str, Document]:
        """Items by their URL's path; a path seen twice is a test failure, not a lookup."""
        found: dict[str, Document] = {}
        for item in self.items:
            path = "/" + item.url.split("/", 3)[3]
            assert path not in found, f"{path} emitted twice"
            found[path] = item
        return found

    def reasons(self, stage: str) -> dict[str, str]:
        """Failure reason by URL path for one stage."""
        return {"/" + f.url.split("/", 3)[3]: f.reason for f in self.failures if f.stage == stage}


def run_crawl(
    sources: list[Source],
    tmp_path: Path,
    settings: CrawlSettings | None = None,
    known_ids: Iterable[str] = (),
    validators: Mapping[str, Validators] | None = None,
) -> CrawlResult:
    result = CrawlResult()
    log_file = tmp_path / "logs" / "crawl.log"
    for event in crawl(sources, settings or quick_settings(), log_file, known_ids, validators):
        if isinstance(event, ItemEvent):
            result.items.append(event.document)
        elif isinstance(event, FailureEvent):
            result.failures.append(event)
        else:
            assert event.source_id not in result.done, f"{event.source_id} done twice"
            result.done[event.source_id] = event
    return result
