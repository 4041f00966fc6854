"""Accepted items survive an Elasticsearch outage: stop the server mid-ingest, keep writing,
start it again, and every item is there exactly once."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from index.elastic import ElasticStore
from index.query import SearchQuery
from index.spool import Spool, SpoolingStore
from mediawatch.config import ElasticsearchSettings
from mediawatch.pipeline import Pipeline
from tests.conftest import REPO
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
    backend = ElasticStore(ElasticsearchSettings(urls=[own_server], index_prefix="mwspool"))
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
