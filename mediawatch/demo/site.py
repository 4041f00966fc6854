"""A loopback web server that publishes the demo corpus as real feeds and article pages.

Pages are rendered per request with dates relative to the server's start, so the demo always
shows a fresh last few days. The same server backs the end-to-end tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from mediawatch.model import Source, SourceKind, SourceTier, utc_now

CORPUS_FILE = Path(__file__).with_name("corpus.yaml")
_TEMPLATES = Path(__file__).with_name("templates")
_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class Outlet(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    tier: SourceTier
    feed_format: Literal["rss", "atom"]
    layout: Literal["news", "portal", "forum"]
    language: str = "vi"
    description: str = ""


class CorpusItem(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    outlet: str
    age_hours: int = Field(ge=0)
    title: str
    author: str = ""
    summary: str
    body: str
    robots_disallowed: bool = False
    copy_of: str | None = None

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class Corpus(BaseModel):
    outlets: list[Outlet]
    items: list[CorpusItem]

    def outlet(self, slug: str) -> Outlet | None:
        return next((o for o in self.outlets if o.slug == slug), None)


def load_corpus(path: Path = CORPUS_FILE) -> Corpus:
    return Corpus.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass
class DemoSite:
    """Renders the corpus; knows nothing about sockets so it can be tested directly."""

    corpus: Corpus
    now: datetime = field(default_factory=utc_now)
    base_url: str = "http://127.0.0.1"

    def __post_init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "xml", "j2"])
        )

    def published(self, item: CorpusItem) -> datetime:
        return (self.now - timedelta(hours=item.age_hours)).astimezone(_VIETNAM)

    def article_path(self, item: CorpusItem) -> str:
        return f"/{item.outlet}/{item.slug}.html"

    def feed_link(self, item: CorpusItem) -> str:
        """Some outlets tag their feed links for analytics, as real ones do."""
        link = self.base_url + self.article_path(item)
        return link + "?utm_source=rss&utm_medium=feed" if item.age_hours % 2 else link

    def robots_txt(self) -> str:
        lines = ["User-agent: *"]
        lines += [
            f"Disallow: {self.article_path(i)}" for i in self.corpus.items if i.robots_disallowed
        ]
        return "\n".join(lines) + "\n"

    def render(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request path."""
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", self.robots_txt().encode()
        parts = path.strip("/").split("/")
        outlet = self.corpus.outlet(parts[0]) if len(parts) == 2 else None
        if outlet is None:
            return 404, "text/plain; charset=utf-8", "Không tìm thấy trang".encode()
        items = sorted(
            (i for i in self.corpus.items if i.outlet == outlet.slug), key=lambda i: i.age_hours
        )
        context = {"site": self, "outlet": outlet, "items": items, "format_rfc822": format_datetime}
        if parts[1] == "feed.xml":
            template = f"{outlet.feed_format}.xml.j2"
            content_type = f"application/{outlet.feed_format}+xml; charset=utf-8"
            return 200, content_type, self._env.get_template(template).render(context).encode()
        item = next((i for i in items if f"{i.slug}.html" == parts[1]), None)
        if item is None:
            return 404, "text/plain; charset=utf-8", "Không tìm thấy bài viết".encode()
        page = self._env.get_template(f"article_{outlet.layout}.html.j2").render(
            context | {"item": item}
        )
        return 200, "text/html; charset=utf-8", page.encode()

    def sources(self) -> list[Source]:
        """The demo outlets as a source registry, pointing at this server."""
        return [
            Source(
                id=f"demo-{outlet.slug}",
                name=outlet.name,
                kind=SourceKind.FEED,
                url=f"{self.base_url}/{outlet.slug}/feed.xml",
                tier=outlet.tier,
                schedule="every 30m",
                language=outlet.language,
            )
            for outlet in self.corpus.outlets
        ]


class DemoSiteServer:
    """Serves a DemoSite on a loopback port in a background thread; records requested paths."""

    def __init__(self, corpus: Corpus | None = None, port: int = 0) -> None:
        self.requested_paths: list[str] = []
        handler = self._handler_class()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        host, bound_port = self._server.server_address[:2]
        self.site = DemoSite(corpus or load_corpus(), base_url=f"http://{host}:{bound_port}")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return self.site.base_url

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requested_paths.append(self.path)
                status, content_type, body = server.site.render(self.path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the crawler logs what matters."""

        return Handler

    def start(self) -> DemoSiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoSiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
