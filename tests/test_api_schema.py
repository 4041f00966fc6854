"""Schemathesis against the OpenAPI schema: no generated request gets a 500.

Every operation the schema describes is called with requests generated from it (valid and
invalid), over real HTTP, by an admin (who may call everything), on a store holding items.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.app import create_app
from index.sqlite import SQLiteStore
from mediawatch.accounts import Accounts
from mediawatch.config import Settings
from mediawatch.model import Role, Sentiment
from tests.conftest import ADMIN_PASSWORD, ADMIN_TOKEN, LiveServer
from tests.factories import make_document

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EXAMPLES = 25  # per operation and mode: about a minute on two cores


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("schema")
    settings = Settings(data_dir=data_dir)
    Accounts(settings.accounts_path).add_user("admin", Role.ADMIN, ADMIN_PASSWORD)
    Accounts(settings.accounts_path).register_token("admin", "schemathesis", ADMIN_TOKEN)
    store = SQLiteStore(settings.database_path)
    now = datetime.now(UTC)
    store.upsert(
        make_document(
            f"https://a.vn/{n}",
            f"Tin đồn thu hồi đất số {n}",
            "Nghe nói sắp thu hồi toàn bộ đất đai ở Lạc Dương, chia sẻ ngay!",
            risk=0.4 + n / 10,
            topics=("land",),
            sentiment=Sentiment.NEGATIVE,
            published_at=now - timedelta(hours=n),
        )
        for n in range(5)
    )
    with LiveServer(create_app(settings, store)) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(api_server: LiveServer) -> schemathesis.BaseSchema:
    document = httpx.get(f"{api_server.url}/api/openapi.json", headers=AUTH).json()
    loaded = schemathesis.openapi.from_dict(document)
    # Valid requests and invalid ones (wrong types, out-of-range values, missing fields).
    loaded.config.generation.update(modes=list(GenerationMode), max_examples=EXAMPLES)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, api_server):
    response = case.call(base_url=api_server.url, headers=AUTH)
    case.validate_response(response, checks=[not_a_server_error])
