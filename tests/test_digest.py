import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from classifier.taxonomy import Taxonomy
from index.elastic import ElasticStore
from mediawatch.digest import build_digest, render_digest
from mediawatch.model import Sentiment
from tests.contract.conftest import elastic_settings as contract_elastic_settings
from tests.factories import make_document

# 07:00 on 26/11 in Vietnam; "yesterday" is 25/11 from 00:00 to 24:00 Vietnamese time.
MORNING = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_digest_counts_yesterday_in_vietnamese_time(store, settings):
    store.upsert(
        [
            make_document(
                "https://a.vn/in-1",
                "Trong ngày 1",
                "Thu hồi đất Lạc Dương.",
                topics=("land",),
                risk=0.8,
                sentiment=Sentiment.NEGATIVE,
                published_at=datetime(2026, 11, 24, 17, 30, tzinfo=UTC),
            ),  # 00:30 on 25/11
            make_document(
                "https://a.vn/in-2",
                "Trong ngày 2",
                "Du lịch Đà Lạt.",
                topics=("tourism",),
                published_at=datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
            ),  # 23:00 on 25/11
            make_document(
                "https://a.vn/out",
                "Hôm nay",
                "Ngoài khoảng.",
                topics=("land",),
                published_at=datetime(2026, 11, 25, 17, 30, tzinfo=UTC),
            ),  # 00:30 on 26/11
        ]
    )
    labels = Taxonomy.load().labels_vi
    digest = build_digest(store, settings, labels, now=MORNING)
    assert digest.day.isoformat() == "2026-11-25"
    assert digest.total == 2
    assert digest.flagged == 1
    assert dict(digest.top_topics) == {labels["land"]: 1, labels["tourism"]: 1}
    assert digest.awaiting.total == 1

    message = render_digest(digest, settings)
    assert message["Subject"] == "[mediawatch] Bản tin ngày 25/11/2026: 2 tin, 1 tin chờ xem xét"
    plain = message.get_body(("plain",)).get_content()
    assert "Tổng số tin thu thập: 2" in plain
    assert "Trong ngày 1" in plain and "80%" in plain
    html = message.get_body(("html",)).get_content()
    assert '<a href="http://127.0.0.1:8000/items/' in html


def test_digest_escapes_hostile_titles(store, settings):
    store.upsert(
        [
            make_document(
                "https://a.vn/x",
                "<script>alert(1)</script> tin",
                "Nội dung",
                risk=0.9,
                published_at=datetime(2026, 11, 25, 3, tzinfo=UTC),
            )
        ]
    )
    html = (
        render_digest(build_digest(store, settings, {}, now=MORNING), settings)
        .get_body(("html",))
        .get_content()
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_digest_command_reads_the_configured_elasticsearch(tmp_path):
    """``mediawatch digest`` with MEDIAWATCH_STORE=elasticsearch counts what Elasticsearch
    holds and never creates an empty SQLite store (a digest of zeros for the leaders)."""
    elastic_settings = contract_elastic_settings()
    elastic = ElasticStore(elastic_settings)
    try:
        elastic.upsert(
            [
                make_document(
                    "https://a.vn/hom-qua",
                    "Tin hôm qua",
                    "Thu hồi đất Lạc Dương.",
                    published_at=datetime.now(UTC) - timedelta(days=1),
                )
            ]
        )
        data_dir = tmp_path / "data"
        result = subprocess.run(
            [str(Path(sys.executable).with_name("mediawatch")), "digest"],
            env=os.environ
            | {
                "MEDIAWATCH_STORE": "elasticsearch",
                "MEDIAWATCH_DATA_DIR": str(data_dir),
                "MEDIAWATCH_ELASTICSEARCH__URLS": json.dumps(elastic_settings.urls),
                "MEDIAWATCH_ELASTICSEARCH__INDEX_PREFIX": elastic_settings.index_prefix,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        elastic.delete_everything()
    assert result.returncode == 0, result.stderr
    assert "Tổng số tin thu thập: 1" in result.stdout
    assert not (data_dir / "mediawatch.db").exists()
