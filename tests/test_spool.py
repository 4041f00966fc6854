"""Accepted items survive an Elasticsearch outage: stop the server mid-ingest, keep writing,
start it again, and every item is there exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from index.elastic import ElasticStore
from index.query import SearchQuery, TrendQuery
from index.spool import Spool, SpoolingStore
from index.store import StoreUnavailable
from mediawatch.config import ElasticsearchSettings, Settings
from mediawatch.pipeline import Pipeline
from mediawatch.service import build_store
from tests.conftest import REPO, free_port
from tests.factories import make_document

PORT = "19500"  # the suite's own server uses 19200 (HTTP) and 19300 (transport)


def elasticsearch(command: str) -> None:
    subprocess.run(
        ["bash", "scripts/elasticsearch", command],
        cwd=REPO,
        check=True,
        env=os.environ | {"ES_PORT": PORT},
        timeout=300,
    )


@pytest.fixture
def own_server() -> Iterator[str]:
    """A server of this test's own, since the test stops it."""
    if os.geteuid() != 0:
        message = "needs root to run Elasticsearch as its own user (scripts/elasticsearch)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    elasticsearch("start")
    try:
        yield f"http://127.0.0.1:{PORT}"
    finally:
        elasticsearch("stop")


def test_outage_mid_ingest_loses_nothing_and_duplicates_nothing(
    own_server, tmp_path, classifier, settings
):
    backend = ElasticStore(
        ElasticsearchSettings(urls=[own_server], index_prefix="mwspool", refresh_writes=True)
    )
    store = SpoolingStore(backend, Spool(tmp_path / "spool" / "items.jsonl"))
    pipeline = Pipeline(store, classifier, settings)
    documents = [
        make_document(f"https://bao.vn/tin/{i}", f"Tin số {i}", f"Nội dung về đất đai số {i}.")
        for i in range(60)
    ]
    assert pipeline.ingest(documents[:20]).stored == 20

    elasticsearch("stop")
    assert pipeline.ingest(documents[20:40]).spooled == 20  # crawling goes on
    assert pipeline.ingest(documents[10:45]).spooled == 35  # a re-crawl overlapping the outage
    assert store.spool.pending() == 55
    assert store.flush() == 0  # still away: nothing lost, nothing written

    elasticsearch("resume")
    report = pipeline.ingest(documents[45:60])
    assert report.stored == 15
    assert store.spool.pending() == 0
    page = backend.search(SearchQuery(limit=100))
    ids = [hit.document.id for hit in page.hits]
    assert page.total == 60
    assert sorted(ids) == sorted(d.id for d in documents)


def test_a_torn_line_is_set_aside_and_the_rest_is_written(tmp_path, store):
    spool = Spool(tmp_path / "spool" / "items.jsonl")
    documents = [make_document(f"https://bao.vn/{i}", f"Tin {i}", "Nội dung") for i in range(3)]
    spool.append(documents[:2])
    with spool.path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "web:torn", "url": "https://bao.v')  # a crash mid-append
    spool.append(documents[2:])  # after a crash: must not be glued onto the torn line
    assert spool.drain(store) == 3
    assert spool.pending() == 0
    assert all(store.get(d.id) for d in documents)
    assert "web:torn" in spool.dead_letters.read_text(encoding="utf-8")


def test_appends_during_an_outage_from_two_processes_are_all_kept(tmp_path, store):
    path = tmp_path / "spool" / "items.jsonl"
    script = (
        "import sys; from index.spool import Spool; from pathlib import Path\n"
        "from tests.factories import make_document\n"
        "spool = Spool(Path(sys.argv[1]))\n"
        "for i in range(50):\n"
        "    spool.append([make_document(f'https://p{sys.argv[2]}.vn/{i}', 'Tin', 'Nội dung')])\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(n)], cwd=REPO)
        for n in range(2)
    ]
    spool = Spool(path)
    drained = 0
    while any(w.poll() is None for w in writers):
        drained += spool.drain(store)
    drained += spool.drain(store)
    assert all(w.returncode == 0 for w in writers)
    assert drained == 100
    assert store.search(SearchQuery(limit=1)).total == 100


def test_the_production_store_serves_every_read_of_the_contract(tmp_path):
    """build_store's Elasticsearch store (spool in front) is a whole Store: trends included;
    with the server away, reads say "unavailable" rather than failing to exist."""
    settings = Settings(
        data_dir=tmp_path,
        store="elasticsearch",
        elasticsearch=ElasticsearchSettings(urls=[f"http://127.0.0.1:{free_port()}"], timeout_s=1),
    )
    store = build_store(settings)
    assert isinstance(store, SpoolingStore)
    now = datetime.now(UTC)
    query = TrendQuery(since=now - timedelta(days=1), until=now)
    with pytest.raises(StoreUnavailable):
        store.trend_counts(query, settings.timezone)
    with pytest.raises(StoreUnavailable):
        store.top_stories(query)
