"""Extraction benchmark: `python bench/extraction.py`.

trafilatura alone (2.x defaults, metadata on) and our crawlers.extract.extract_article, side
by side on the developer halves of the two extraction benchmarks in ../shared/fixtures:
shingle P/R/F1 (the Scrapinghub way), token F1, title/date/author accuracy where the set has
ground truth, and pages per second, each with the difference or ratio.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.extraction_score import (
    Page,
    Scores,
    average,
    load_pages,
    page_scores,
    same_authors,
    same_text,
    shingles,
    tokens,
)
from crawlers.extract import extract_article

FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"
HALVES = ("extraction-scrapinghub-aeb", "extraction-andythefactory-aed")


@dataclass(frozen=True, slots=True)
class Reading:
    text: str
    title: str | None
    day: str | None  # YYYY-MM-DD as the page dates it
    authors: list[str]


@dataclass(frozen=True, slots=True)
class Result:
    shingle: Scores
    token: Scores
    title: float | None
    date: float | None
    authors: float | None
    pages_per_second: float


def trafilatura_alone(page: Page) -> Reading:
    found = trafilatura.bare_extraction(page.html, url=page.truth.get("url"), with_metadata=True)
    if found is None:
        return Reading("", None, None, [])
    authors = [name.strip() for name in (found.author or "").split(";") if name.strip()]
    # trafilatura.extract's default text output: the main text, then the comments
    text = "\n".join(part for part in (found.text, found.comments) if part)
    return Reading(text, found.title, (found.date or "")[:10] or None, authors)


def ours(page: Page) -> Reading:
    article = extract_article(page.html, page.truth.get("url"))
    day = article.published.date().isoformat() if article.published else None
    return Reading(article.text, article.title, day, article.authors)


def run(extractor: Callable[[Page], Reading], pages: list[Page]) -> Result:
    started = time.perf_counter()
    readings = [extractor(page) for page in pages]
    elapsed = time.perf_counter() - started
    truths = [page.truth for page in pages]

    def share(check: Callable[[Reading, dict[str, str]], bool], key: str) -> float | None:
        if key not in truths[0]:
            return None
        return sum(check(r, t) for r, t in zip(readings, truths, strict=True)) / len(pages)

    return Result(
        shingle=average(
            [
                page_scores(t["articleBody"], r.text, shingles)
                for r, t in zip(readings, truths, strict=True)
            ]
        ),
        token=average(
            [
                page_scores(t["articleBody"], r.text, tokens)
                for r, t in zip(readings, truths, strict=True)
            ]
        ),
        title=share(lambda r, t: same_text(r.title, t["title"]), "title"),
        date=share(lambda r, t: r.day == t["date"], "date"),
        authors=share(lambda r, t: same_authors(r.authors, t["authors"]), "authors"),
        pages_per_second=len(pages) / elapsed,
    )


def main() -> None:
    table = Table(title="Article extraction: trafilatura alone vs ours")
    for column in ("set", "measure", "trafilatura", "ours", "ours − trafilatura"):
        table.add_column(column, justify="left" if column in ("set", "measure") else "right")
    for half in HALVES:
        pages = list(load_pages(FIXTURES / half))
        base, mine = run(trafilatura_alone, pages), run(ours, pages)
        rows = [
            ("shingle precision", base.shingle.precision, mine.shingle.precision),
            ("shingle recall", base.shingle.recall, mine.shingle.recall),
            ("shingle F1", base.shingle.f1, mine.shingle.f1),
            ("token F1", base.token.f1, mine.token.f1),
            ("title accuracy", base.title, mine.title),
            ("date accuracy", base.date, mine.date),
            ("author accuracy", base.authors, mine.authors),
        ]
        name = f"{half} ({len(pages)} pages)"
        for measure, left, right in rows:
            if left is None or right is None:
                continue
            table.add_row(name, measure, f"{left:.4f}", f"{right:.4f}", f"{right - left:+.4f}")
            name = ""
        ratio = mine.pages_per_second / base.pages_per_second
        table.add_row(
            "",
            "pages/second",
            f"{base.pages_per_second:.1f}",
            f"{mine.pages_per_second:.1f}",
            f"×{ratio:.2f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
