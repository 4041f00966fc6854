"""Benchmarks: `python bench/run.py`. Each figure is printed beside a baseline run in the same
process, with the ratio, because absolute times on shared machines mean little.

- classify: one batched call vs one call per item (what a naive pipeline would do);
- search: FTS5 over the folded text vs a LIKE scan of the same column;
- ingest: the pipeline's batches of 50 vs batches of one (one transaction per item);
- model load: the shipped arrays vs a pickle of the same scikit-learn estimator.
"""

from __future__ import annotations

import io
import pickle
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifier.linear import LinearTextModel
from classifier.service import SHIPPED_MODELS, Classifier, ItemToClassify
from index.query import SearchQuery
from index.sqlite import SQLiteStore
from mediawatch import pipeline as pipeline_module
from mediawatch.config import Settings
from mediawatch.demo.site import load_corpus
from mediawatch.model import Document, SourceTier, utc_now
from mediawatch.pipeline import Pipeline
from mediawatch.text import collapse

REPEATS = 3


def best_of(function: Callable[[], object]) -> float:
    """Best wall time of a few runs: the least disturbed by other work on the machine."""
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def synthetic_documents(count: int, seed: int = 13) -> list[Document]:
    """Documents stitched from the demo corpus's paragraphs: real Vietnamese, varied text."""
    rng = random.Random(seed)
    paragraphs = [p for item in load_corpus().items for p in item.paragraphs]
    titles = [item.title for item in load_corpus().items]
    return [
        Document(
            id="web:pending",
            url=f"https://bench.example.vn/tin/{i}",
            source_id=f"bench-{i % 7}",
            source_tier=rng.choice(list(SourceTier)),
            title=rng.choice(titles),
            text="\n\n".join(rng.sample(paragraphs, 4)),
            fetched_at=utc_now(),
        )
        for i in range(count)
    ]


def main() -> None:
    console = Console()
    table = Table(title=f"mediawatch benchmarks (best of {REPEATS})")
    for column in ("what", "mediawatch", "baseline", "speed-up"):
        table.add_column(column, justify="right" if column != "what" else "left")

    def row(what: str, ours: float, baseline: float, unit: str, per: int) -> None:
        table.add_row(
            what,
            f"{per / ours:,.0f} {unit}/s",
            f"{per / baseline:,.0f} {unit}/s",
            f"{baseline / ours:.1f}×",
        )

    classifier = Classifier.load()
    documents = synthetic_documents(2000)
    texts = [ItemToClassify(d.title, d.text, d.source_tier) for d in documents[:400]]
    batched = best_of(lambda: classifier.classify_batch(texts))
    one_by_one = best_of(lambda: [classifier.classify_batch([t]) for t in texts])
    row("classify 400 items", batched, one_by_one, "items", len(texts))

    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(data_dir=Path(directory) / "a")
        store = SQLiteStore(settings.database_path)
        pipeline = Pipeline(store, classifier, settings)
        ingest = best_of(lambda: pipeline.ingest(documents[:500]))
        slow_settings = Settings(data_dir=Path(directory) / "b")
        slow = Pipeline(SQLiteStore(slow_settings.database_path), classifier, slow_settings)
        original = pipeline_module.BATCH_SIZE
        pipeline_module.BATCH_SIZE = 1
        try:
            ingest_single = best_of(lambda: slow.ingest(documents[:500]))
        finally:
            pipeline_module.BATCH_SIZE = original
        row("ingest 500 items (re-runs are no-ops)", ingest, ingest_single, "items", 500)

        pipeline.ingest(documents)
        queries = [collapse(q) for q in ("thu hoi dat", "ca phe", "quy hoach", "sat lo", "du lich")]
        with sqlite3.connect(store.path) as connection:

            def count(sql: str, argument: Callable[[str], str]) -> None:
                for query in queries:
                    connection.execute(sql, (argument(query),)).fetchone()

            fts = best_of(
                lambda: count(
                    "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", lambda q: f'"{q}"'
                )
            )
            like = best_of(
                lambda: count(
                    "SELECT count(*) FROM items_fts WHERE body LIKE ?", lambda q: f"%{q}%"
                )
            )
        row(f"full-text match, {len(documents)} items", fts, like, "queries", len(queries))
        search = best_of(lambda: [store.search(SearchQuery(text=q)) for q in queries])
        table.add_row(
            "search page with snippets", f"{len(queries) / search:,.0f} queries/s", "", ""
        )

    shipped = best_of(lambda: LinearTextModel.load(SHIPPED_MODELS, "sentiment"))
    model = LinearTextModel.load(SHIPPED_MODELS, "sentiment")
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression()
    estimator.coef_, estimator.intercept_ = model.coef.astype("float64"), model.intercept
    estimator.classes_ = model.classes
    buffer = io.BytesIO()
    pickle.dump(estimator, buffer)
    pickled = buffer.getvalue()
    unpickle = best_of(lambda: pickle.loads(pickled))
    table.add_row(
        "load sentiment model",
        f"{shipped * 1000:.0f} ms",
        f"{unpickle * 1000:.0f} ms (pickle, unsafe to open)",
        f"{unpickle / shipped:.1f}×",
    )
    console.print(table)


if __name__ == "__main__":
    main()
