"""Article extraction on the demo layouts and on a real extraction benchmark."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawlers.extract import decode_html, extract_article
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


def token_f1(predicted: str, truth: str) -> float:
    """Bag-of-lowercased-tokens F1, the benchmark README's second measure."""
    got, want = Counter(predicted.lower().split()), Counter(truth.lower().split())
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def test_extraction_benchmark_scores_like_published_trafilatura():
    folder = shared_path("fixtures/extraction-scrapinghub-aeb")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    scores = []
    for page in sorted((folder / "html").glob("*.html.gz")):
        key = re.sub(r"\.html\.gz$", "", page.name)
        html = gzip.decompress(page.read_bytes()).decode("utf-8", errors="replace")
        article = extract_article(html, truth[key]["url"])
        scores.append(token_f1(article.text, truth[key]["articleBody"]))
    mean = sum(scores) / len(scores)
    assert len(scores) >= 90
    assert mean >= 0.93, f"mean token F1 {mean:.3f}"


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
