"""Article extraction on the demo layouts and on a real extraction benchmark."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog
import trafilatura

from bench.extraction_score import load_pages, page_scores, shingles
from crawlers.extract import FALLBACK_BELOW, decode_html, extract_article
from crawlers.spiders.source import MIN_ARTICLE_CHARS
from mediawatch.demo.site import DemoSite, load_corpus
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(load_corpus(), base_url="http://127.0.0.1:9")


@pytest.mark.parametrize("layout", ["news", "portal", "forum"])
def test_each_demo_layout_yields_text_title_date_and_author(site, layout):
    outlet = next(o for o in site.corpus.outlets if o.layout == layout)
    item = next(i for i in site.corpus.items if i.outlet == outlet.slug)
    status, _type, body = site.render(site.article_path(item))
    assert status == 200
    article = extract_article(body.decode("utf-8"), site.base_url + site.article_path(item))
    for paragraph in item.paragraphs:
        assert paragraph[:50] in article.text
    assert "Chủ đề nổi bật" not in article.text and "Tin liên quan" not in article.text
    assert article.title == item.title
    assert article.published is not None
    assert article.published.date() == site.published(item).date()
    if item.author and layout != "portal":
        assert item.author in article.authors


def test_pages_without_an_article_give_too_little_text_to_pass_for_one():
    assert len(extract_article("<html><body><nav>Trang chủ</nav></body></html>").text) < (
        MIN_ARTICLE_CHARS
    )
    assert extract_article("").text == ""


VIETNAMESE_LETTERS = re.compile(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđươ]")


def test_pages_that_declare_their_charset_late_are_not_mojibake():
    folder = shared_path("fixtures/vn-listing-pages")
    pages = sorted(folder.glob("*.html.gz"))
    assert len(pages) == 8
    for page in pages:
        text = decode_html(gzip.decompress(page.read_bytes()))
        assert "á»" not in text and "Ä‘" not in text and "Æ°" not in text, page.name  # mojibake
        assert len(VIETNAMESE_LETTERS.findall(text)) > 100, page.name


def test_extract_command_reads_a_file_like_the_crawler(site, tmp_path):
    item = next(i for i in site.corpus.items if i.outlet == "tincaonguyen")
    _status, _type, body = site.render(site.article_path(item))
    late = body.replace(b'<meta charset="utf-8">', b"").replace(
        b"</head>", b'<meta charset="utf-8"></head>'
    )
    page = tmp_path / "bai.html.gz"
    page.write_bytes(gzip.compress(late))
    command = Path(sys.executable).with_name("mediawatch")
    result = subprocess.run(
        [str(command), "extract", str(page), "--url", site.base_url + "/x.html", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["title"] == item.title
    assert item.paragraphs[0][:50] in record["text"]
    assert record["published"].startswith(site.published(item).date().isoformat())
    missing = subprocess.run(
        [str(command), "extract", str(tmp_path / "none.html")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2
    assert "cannot read" in missing.stdout + missing.stderr


CLOUDFLARE_CHALLENGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main">
<h1 class="zone-name-title h1">baolamdong.vn</h1><h2 class="h2" id="challenge-running">
Checking if the site connection is secure</h2><noscript><div class="h2">Enable JavaScript and
cookies to continue</div></noscript></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "baolamdong.vn",cType: 'managed'};
var cpo = document.createElement('script');
cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8a1b2c3d4e5f';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>"""

DDOS_GUARD_CHECK = """<!DOCTYPE html><html><head><title>DDoS-Guard</title></head><body>
<div id="ddg-l10n-title">Checking your browser before accessing lamdong.gov.vn</div>
<script src="https://check.ddos-guard.net/check.js"></script></body></html>"""


def article_page(body: str, head: str = "", lang: str = "vi") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Đà Lạt mở rộng vùng trồng hoa</title>{head}</head><body><nav>Trang chủ</nav>"
        f"<article><h1>Đà Lạt mở rộng vùng trồng hoa</h1>{body}</article></body></html>"
    )


PARAGRAPHS = "".join(
    f"<p>Đoạn {n}: Thành phố Đà Lạt, tỉnh Lâm Đồng, tiếp tục mở rộng diện tích trồng hoa "
    f"công nghệ cao, hướng tới xuất khẩu sang Nhật Bản và châu Âu trong năm tới.</p>"
    for n in range(6)
)


@pytest.mark.parametrize(
    ("page", "signature"), [(CLOUDFLARE_CHALLENGE, "cloudflare"), (DDOS_GUARD_CHECK, "ddos")]
)
def test_bot_challenge_pages_are_a_problem_not_an_article(page, signature):
    article = extract_article(page, "https://baolamdong.vn/bai-viet.html")
    assert article.problem == "bot_challenge", signature
    assert article.published is None


def test_an_article_that_carries_a_challenge_script_is_still_an_article():
    script = '<script src="/cdn-cgi/challenge-platform/h/b/scripts/jsd/main.js"></script>'
    article = extract_article(article_page(PARAGRAPHS + script), "https://baolamdong.vn/a.html")
    assert article.problem is None
    assert "Đoạn 5" in article.text


def test_pages_without_article_text_are_empty_pages():
    assert extract_article("").problem == "empty_page"
    assert extract_article("<html><body><nav>Trang chủ</nav></body></html>").problem == (
        "empty_page"
    )
    assert extract_article(article_page(PARAGRAPHS)).problem is None


def test_json_ld_date_wins_and_a_bare_day_is_that_day_in_vietnam():
    published = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": '
        '[{"@type": "WebPage"}, {"@type": "NewsArticle", "headline": "Mở rộng vùng hoa",'
        ' "datePublished": "%s", "author": [{"@type": "Person", "name": "Hoàng Yến"}]}]}'
        "</script>"
    )
    timed = extract_article(article_page(PARAGRAPHS, published % "2026-03-05T08:30:00+07:00"))
    assert timed.published == datetime(2026, 3, 5, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (timed.date_source, timed.title, timed.authors) == (
        "json-ld",
        "Mở rộng vùng hoa",
        ["Hoàng Yến"],
    )
    day = extract_article(article_page(PARAGRAPHS, published % "2026-03-05"))
    assert day.published is not None and day.published.utcoffset() == timedelta(hours=7)
    assert (day.published.date(), day.published.hour) == (date(2026, 3, 5), 0)
    meta = '<meta property="article:published_time" content="2026-03-04T21:00:00Z">'
    from_meta = extract_article(article_page(PARAGRAPHS, meta))
    assert from_meta.date_source == "meta"
    assert from_meta.published == datetime(2026, 3, 4, 21, tzinfo=UTC)


def test_a_page_with_no_date_anywhere_gets_none_not_a_guess():
    article = extract_article(article_page(PARAGRAPHS), "https://baolamdong.vn/a.html")
    assert (article.published, article.date_source) == (None, None)
    assert article.language == "vi"


def test_broken_json_ld_is_logged_and_the_page_still_extracted():
    broken = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    with structlog.testing.capture_logs() as logs:
        article = extract_article(article_page(PARAGRAPHS, broken), "https://x.vn/a.html")
    assert "Đoạn 3" in article.text and article.problem is None
    assert any(
        e["event"] == "json_ld_unreadable" and e["url"] == "https://x.vn/a.html" for e in logs
    )


def test_tiny_trafilatura_output_triggers_the_fallback():
    """A real page (andythefactory set) whose article trafilatura's precision mode misses."""
    folder = shared_path("fixtures/extraction-andythefactory-aed")
    page = next(p for p in load_pages(folder) if p.key == "f3e7a477b083f735db1d4ce14a86bc97")
    alone = trafilatura.bare_extraction(page.html, favor_precision=True, fast=True)
    assert len(alone.text) < FALLBACK_BELOW
    article = extract_article(page.html, page.truth["url"])
    assert article.extractor == "readability"
    truth = page.truth["articleBody"]
    ours = page_scores(truth, article.text, shingles).f1
    assert ours > 0.9 > page_scores(truth, alone.text, shingles).f1


def test_a_vietnamese_page_with_a_late_charset_is_not_mojibake():
    padding = "<!-- " + "x" * 5000 + " -->"  # pushes the declaration past the sniffing window
    body = article_page(PARAGRAPHS).replace('<meta charset="utf-8">', padding)
    body = body.replace("</head>", '<meta charset="utf-8"></head>').encode("utf-8")
    article = extract_article(decode_html(body, "text/html"), "https://baolamdong.vn/a.html")
    assert article.title == "Đà Lạt mở rộng vùng trồng hoa"
    assert "Thành phố Đà Lạt, tỉnh Lâm Đồng" in article.text
    assert "á»" not in article.text and "Ä‘" not in article.text


def test_a_page_dated_later_today_in_vietnam_keeps_its_date():
    """Vietnam is 7 hours ahead of the servers' UTC: a forum post dated (local) tomorrow by
    the UTC calendar, within the allowed day, must not lose its date to htmldate's default
    latest date (the machine's own)."""
    site = DemoSite(load_corpus(), base_url="http://127.0.0.1:9")
    outlet = next(o for o in site.corpus.outlets if o.layout == "forum")
    item = next(i for i in site.corpus.items if i.outlet == outlet.slug)
    site.now = datetime.now(UTC) + timedelta(hours=20 + item.age_hours)
    _status, _type, body = site.render(site.article_path(item))
    article = extract_article(body.decode("utf-8"), site.base_url + site.article_path(item))
    assert article.published is not None
    assert article.published.date() == site.published(item).date()
