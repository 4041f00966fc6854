"""The benchmark's news site: N article pages behind RSS feeds and news sitemaps.

Everything is generated from a seed, so the parent (which checks the store) and the server
process (which serves the bytes) build the same site independently. Text comes from the demo
corpus's real Vietnamese paragraphs, so extraction and classification do their real work.
Some pages are exact copies of another page's article under a new URL and a different page
around it (the store must mark them duplicates); some are near copies with one paragraph
rewritten (they are distinct items).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from zoneinfo import ZoneInfo

from mediawatch.demo.site import load_corpus

ITEMS_PER_FEED = 100
URLS_PER_SITEMAP = 1000
COPY_SHARE = 0.03  # exact copies: same title and text, another URL
NEAR_COPY_SHARE = 0.03  # one paragraph rewritten: a different item
BODY_BYTES = (2000, 6000)
_EPOCH = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_SECTIONS = [
    ("thoi-su", "Thời sự"),
    ("kinh-te", "Kinh tế"),
    ("xa-hoi", "Xã hội"),
    ("phap-luat", "Pháp luật"),
    ("giao-duc", "Giáo dục"),
    ("suc-khoe", "Sức khỏe"),
    ("du-lich", "Du lịch"),
    ("nong-nghiep", "Nông nghiệp"),
    ("van-hoa", "Văn hóa"),
    ("the-thao", "Thể thao"),
]
_PLACES = [
    "Đà Lạt",
    "Bảo Lộc",
    "Di Linh",
    "Đức Trọng",
    "Lâm Hà",
    "Gia Nghĩa",
    "Phan Thiết",
    "La Gi",
    "Đơn Dương",
    "Cát Tiên",
]
_AUTHORS = ["Minh Anh", "Thu Hà", "Quốc Việt", "Hoàng Long", "Ngọc Trâm", "Văn Đức"]
_FOOTER = (
    "Báo Lâm Đồng điện tử. Cơ quan chủ quản: Tỉnh ủy Lâm Đồng. Địa chỉ: 38 Quang Trung, "
    "phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng. Điện thoại: 0263 3822 367. Ghi rõ nguồn "
    "khi phát hành lại thông tin từ website này."
)


@dataclass(frozen=True, slots=True)
class Article:
    path: str
    section: tuple[str, str]
    title: str
    summary: str
    paragraphs: tuple[str, ...]
    author: str
    published: datetime
    copy_of: str | None = None  # path of the page whose article this one repeats exactly


@dataclass(frozen=True, slots=True)
class Response:
    content_type: str
    body: bytes


class BenchSite:
    """The articles and every response the server gives, keyed by request path."""

    def __init__(self, pages: int, seed: int, base_url: str) -> None:
        if pages < 1:
            raise ValueError("the site needs at least one page")
        self.base_url = base_url.rstrip("/")
        self.articles = _articles(pages, seed)
        self.feed_paths = [
            f"/rss/{n:03d}.rss" for n in range(-(-len(self.articles) // ITEMS_PER_FEED))
        ]
        self.sitemap_index_path = "/sitemap.xml"
        self.routes = self._routes(random.Random(seed + 1))

    @property
    def exact_copies(self) -> list[Article]:
        return [a for a in self.articles if a.copy_of is not None]

    def url(self, path: str) -> str:
        return self.base_url + path

    def _routes(self, rng: random.Random) -> dict[str, Response]:
        routes = {
            "/robots.txt": Response(
                "text/plain; charset=utf-8",
                f"User-agent: *\nAllow: /\nSitemap: {self.url(self.sitemap_index_path)}\n".encode(),
            )
        }
        titles = [(a.path, a.title) for a in self.articles]
        for article in self.articles:
            related = rng.sample(titles, min(6, len(titles)))
            routes[article.path] = Response(
                "text/html; charset=utf-8", self._page(article, related).encode()
            )
        rss = "application/rss+xml; charset=utf-8"
        for n, path in enumerate(self.feed_paths):
            chunk = self.articles[n * ITEMS_PER_FEED : (n + 1) * ITEMS_PER_FEED]
            routes[path] = Response(rss, self._feed(n, chunk).encode())
        xml = "application/xml; charset=utf-8"
        sitemaps = []
        for n in range(-(-len(self.articles) // URLS_PER_SITEMAP)):
            path = f"/sitemaps/news-{n:03d}.xml"
            chunk = self.articles[n * URLS_PER_SITEMAP : (n + 1) * URLS_PER_SITEMAP]
            routes[path] = Response(xml, self._sitemap(chunk).encode())
            sitemaps.append(path)
        routes[self.sitemap_index_path] = Response(xml, self._sitemap_index(sitemaps).encode())
        return routes

    def _page(self, article: Article, related: list[tuple[str, str]]) -> str:
        section_slug, section_name = article.section
        local = article.published.astimezone(_VIETNAM)
        menu = "".join(f'<li><a href="/{s}/">{escape(n)}</a></li>' for s, n in _SECTIONS)
        related_items = "".join(
            f'<li><a href="{p}">{escape(t)}</a></li>' for p, t in related if p != article.path
        )
        body = "".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
        return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<title>{escape(article.title)} | Báo Lâm Đồng điện tử</title>
<meta name="description" content="{escape(article.summary)}">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{local.isoformat()}">
<link rel="canonical" href="{self.url(article.path)}">
<link rel="stylesheet" href="/static/site.css">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{escape(article.title)}","datePublished":"{local.isoformat()}",
"author":{{"@type":"Person","name":"{article.author}"}}}}</script>
<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{"section":"{section_slug}"}});</script>
</head><body>
<header class="site-header"><a class="logo" href="/">Báo Lâm Đồng</a>
<nav class="main-menu"><ul>{menu}</ul></nav>
<form class="search" action="/tim-kiem"><input name="q" placeholder="Tìm kiếm"></form></header>
<div class="breadcrumb"><a href="/">Trang chủ</a> ›
<a href="/{section_slug}/">{section_name}</a></div>
<main><article class="detail">
<h1 class="title">{escape(article.title)}</h1>
<div class="meta"><span class="author">{article.author}</span>
<time datetime="{local.isoformat()}">{local:%d/%m/%Y %H:%M}</time></div>
<p class="sapo"><strong>{escape(article.summary)}</strong></p>
<div class="content">{body}</div>
<div class="share">Chia sẻ: <a href="#">Facebook</a> <a href="#">Zalo</a></div>
</article>
<aside class="related"><h2>Tin liên quan</h2><ul>{related_items}</ul></aside></main>
<footer><p>{_FOOTER}</p><p>© 2026 Báo Lâm Đồng. Giấy phép số 28/GP-BTTTT.</p></footer>
</body></html>
"""

    def _feed(self, n: int, articles: list[Article]) -> str:
        items = "".join(
            f"<item><title>{escape(a.title)}</title><link>{self.url(a.path)}</link>"
            f"<guid>{self.url(a.path)}</guid><description>{escape(a.summary)}</description>"
            f"<pubDate>{format_datetime(a.published)}</pubDate></item>\n"
            for a in articles
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Báo Lâm Đồng - luồng {n}</title><link>{self.base_url}/</link>"
            f"<description>Tin tức tỉnh Lâm Đồng</description><language>vi</language>\n"
            f"{items}</channel></rss>\n"
        )

    def _sitemap(self, articles: list[Article]) -> str:
        urls = "".join(
            f"<url><loc>{self.url(a.path)}</loc><lastmod>{a.published.isoformat()}</lastmod>"
            "<news:news><news:publication><news:name>Báo Lâm Đồng</news:name>"
            "<news:language>vi</news:language></news:publication>"
            f"<news:publication_date>{a.published.isoformat()}</news:publication_date>"
            f"<news:title>{escape(a.title)}</news:title></news:news></url>\n"
            for a in articles
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            f"{urls}</urlset>\n"
        )

    def _sitemap_index(self, paths: list[str]) -> str:
        entries = "".join(f"<sitemap><loc>{self.url(p)}</loc></sitemap>\n" for p in paths)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</sitemapindex>\n"
        )


def _articles(count: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    corpus = load_corpus().items
    paragraphs = [p for item in corpus for p in item.paragraphs]
    titles = [item.title for item in corpus]
    articles: list[Article] = []
    for number in range(count):
        section = rng.choice(_SECTIONS)
        path = f"/{section[0]}/bai-{number:05d}.html"
        published = _EPOCH - timedelta(minutes=7 * number)
        roll = rng.random()
        if articles and roll < COPY_SHARE:
            original = rng.choice([a for a in articles[-200:] if a.copy_of is None])
            articles.append(
                Article(
                    path,
                    section,
                    original.title,
                    original.summary,
                    original.paragraphs,
                    rng.choice(_AUTHORS),
                    published,
                    copy_of=original.path,
                )
            )
            continue
        if articles and roll < COPY_SHARE + NEAR_COPY_SHARE:
            original = rng.choice(articles[-200:])
            body = list(original.paragraphs)
            slot = rng.randrange(len(body))
            body[slot] = rng.choice([p for p in paragraphs if p != body[slot]])
            articles.append(
                Article(
                    path,
                    section,
                    original.title,
                    original.summary,
                    tuple(body),
                    rng.choice(_AUTHORS),
                    published,
                )
            )
            continue
        target = rng.randint(*BODY_BYTES)
        body = []
        while sum(len(p.encode()) for p in body) < target:
            body.append(rng.choice(paragraphs))
        articles.append(
            Article(
                path,
                section,
                f"{rng.choice(titles)} ({rng.choice(_PLACES)})",
                body[0][:200].rsplit(" ", 1)[0] + "…",
                tuple(body[1:]) if len(body) > 2 else tuple(body),
                rng.choice(_AUTHORS),
                published,
            )
        )
    return articles
