"""One contract, two stores: every test here runs on SQLite and on a real Elasticsearch."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from index.elastic import ElasticStore
from index.sqlite import SQLiteStore
from index.store import Store
from mediawatch.config import ElasticsearchSettings, Settings

ELASTIC_URL_VARIABLE = "MEDIAWATCH_TEST_ELASTICSEARCH_URL"


def elastic_settings() -> ElasticsearchSettings:
    """A fresh index prefix per test on the server scripts/test started."""
    url = os.environ.get(ELASTIC_URL_VARIABLE)
    if not url:
        message = f"needs a running Elasticsearch (set {ELASTIC_URL_VARIABLE}; scripts/test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return ElasticsearchSettings(
        urls=[url], index_prefix=f"mwtest-{uuid.uuid4().hex[:10]}", refresh_writes=True
    )


@pytest.fixture(params=["sqlite", "elasticsearch"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Store]:
    if request.param == "sqlite":
        yield SQLiteStore(settings.database_path)
        return
    elastic = ElasticStore(elastic_settings())
    try:
        yield elastic
    finally:
        elastic.delete_everything()
