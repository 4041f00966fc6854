import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from classifier.taxonomy import Taxonomy
from index.elastic import ElasticStore
from mediawatch.digest import build_digest, deliver_digest, render_digest, send_pending
from mediawatch.model import Sentiment
from mediawatch.service import background_jobs
from tests.conftest import Mailbox, free_port
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


def test_a_failed_send_is_kept_retried_and_never_sent_twice(pipeline, settings, smtp_server):
    settings.digest.recipients = ["lanhdao@lamdong.gov.vn"]
    server_port, settings.smtp.port = settings.smtp.port, free_port()  # the mail server is down
    pipeline.store.upsert(
        [
            make_document(
                "https://a.vn/in-1",
                "Trong ngày 1",
                "Thu hồi đất Lạc Dương.",
                risk=0.8,
                published_at=datetime(2026, 11, 25, 3, tzinfo=UTC),
            )
        ]
    )
    labels = Taxonomy.load().labels_vi
    outbox = settings.data_dir / "outbox"
    kept = deliver_digest(pipeline.store, settings, labels, now=MORNING)
    assert kept == outbox / "pending" / "digest-2026-11-25.eml" and kept.is_file()
    assert smtp_server.messages == []

    settings.smtp.port = server_port  # back up: the scheduler's retry sends it
    retry = background_jobs(settings, pipeline, [], crawl_now=False).get_job("digest-retry")
    retry.func()
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sent["Message-ID"] == "<digest-2026-11-25@mediawatch>"
    subject = str(make_header(decode_header(sent["Subject"])))
    assert subject.startswith("[mediawatch] Bản tin ngày 25/11/2026: 1 tin")
    assert not kept.exists() and (outbox / "sent" / kept.name).is_file()

    # The 07:00 job runs again (a restart, a misfire) and the retry ticks: nothing more is sent.
    again = deliver_digest(pipeline.store, settings, labels, now=MORNING)
    retry.func()
    assert again == outbox / "sent" / kept.name
    assert len(smtp_server.messages) == 1


class SlowMailbox(Mailbox):
    """A mail server that takes its time to accept: two senders overlap for sure."""

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


def pending_digest(settings) -> Path:
    """A digest written to ``pending/`` as deliver_digest leaves it when the send failed."""
    settings.digest.recipients = ["lanhdao@lamdong.gov.vn"]
    pending = settings.data_dir / "outbox" / "pending"
    pending.mkdir(parents=True)
    message = EmailMessage()
    message["Subject"], message["From"] = "Bản tin", settings.digest.sender
    message["To"], message["Message-ID"] = "lanhdao@lamdong.gov.vn", "<digest-2026-11-25@x>"
    message.set_content("Tổng số tin thu thập: 1")
    path = pending / "digest-2026-11-25.eml"
    path.write_bytes(bytes(message))
    return path


def test_two_senders_at_once_send_the_digest_exactly_once(settings):
    """``digest --send`` and the worker's retry (or two replicas) run together: one message."""
    path = pending_digest(settings)
    mailbox = SlowMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.smtp.host, settings.smtp.port = "127.0.0.1", controller.port
    start = threading.Barrier(2)
    results: list[list[Path]] = []

    def sender() -> None:
        start.wait()
        results.append(send_pending(settings))

    try:
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1
    assert sorted(len(sent) for sent in results) == [0, 1]
    outbox = settings.data_dir / "outbox"
    assert not path.exists() and (outbox / "sent" / path.name).is_file()
    assert list((outbox / "sending").iterdir()) == []


def test_a_digest_being_sent_is_left_alone_and_an_abandoned_one_is_taken_back(
    pipeline, settings, smtp_server
):
    path = pending_digest(settings)
    sending = settings.data_dir / "outbox" / "sending"
    sending.mkdir()
    claimed = path.rename(sending / path.name)  # another process is sending it now
    labels = Taxonomy.load().labels_vi
    assert deliver_digest(pipeline.store, settings, labels, now=MORNING) == claimed
    assert send_pending(settings) == [] and smtp_server.messages == []
    assert not path.exists()  # not built again beside the one being sent

    hour_ago = time.time() - 3600  # that process died mid-send an hour ago
    os.utime(claimed, (hour_ago, hour_ago))
    sent = send_pending(settings)
    assert sent == [settings.data_dir / "outbox" / "sent" / path.name]
    assert len(smtp_server.messages) == 1 and not claimed.exists()
