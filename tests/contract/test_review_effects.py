"""A committed review step always ends with its audit entry and its claim, exactly once, on
both stores: when audit.db is locked past its wait the reviewer is still told the step is
done, and when the process dies between the step and its effects, the reconciler (at start
and on the scheduler) writes what is missing, and running it again adds nothing."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from index.claims import ClaimRegister
from index.elastic import ElasticStore
from mediawatch.audit import AuditLog
from tests.conftest import API_TOKEN, LiveServer
from tests.factories import make_document

RUMOUR = "Hồ Tuyền Lâm sắp bị lấp để xây khu đô thị cao tầng"
TEXT = "Một tập đoàn đã được giao đất, người dân Đà Lạt chia sẻ để phản đối việc lấp hồ."


@pytest.fixture
def item(store):
    document = make_document("https://fb.example/p/41", RUMOUR, TEXT, risk=0.9)
    store.upsert([document])
    return document


def _review(url: str, item_id: str, **body: object) -> httpx.Response:
    return httpx.post(
        f"{url}/api/items/{item_id}/review",
        json=body,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=90,
    )


def _effects(settings, item_id: str) -> tuple[list[str], list[str]]:
    """The step's audit actions on the item, and the claims the item is linked to."""
    audit = AuditLog.from_settings(settings)
    actions = [e.action for e in audit.entries(target=item_id)]
    actions += [e.action for e in audit.entries(action="claim.") if e.detail["item_id"] == item_id]
    return actions, ClaimRegister(settings.claims_path).claims_of_item(item_id)


def test_a_decision_while_the_audit_log_is_locked_succeeds_and_is_completed_once(
    settings, store, item
):
    others = [
        make_document(f"https://a.example/{n}", f"Giá vé xe buýt {n}", "Giá vé tăng.", risk=0.9)
        for n in range(3)
    ]
    store.upsert(others)
    app = create_app(settings, store)  # the first start sets the reconciler's checkpoint
    effects = app.state.review_effects
    with LiveServer(app) as server:
        assert _review(server.url, item.id, action="claim").status_code == 200
        locker = sqlite3.connect(settings.audit_path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another process holding audit.db
        try:
            decided = _review(server.url, item.id, action="decide", outcome="false")
            # The next steps do not each wait out the lock: they are deferred at once.
            started = time.monotonic()
            bulk = httpx.post(
                f"{server.url}/api/review/bulk",
                json={"item_ids": [other.id for other in others[:2]]},
                headers={"Authorization": f"Bearer {API_TOKEN}"},
                timeout=90,
            )
            assert time.monotonic() - started < 10
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert decided.status_code == 200, decided.text
        assert decided.json()["review"]["state"] == "decided"
        assert [result["status"] for result in bulk.json()] == [200, 200]
        assert _effects(settings, item.id) == (["review.claim"], [])  # left for the reconciler

        # The next step this process settles (once the pause after a failure is over)
        # catches up on every deferred one first.
        effects.retry_after = timedelta(0)
        assert _review(server.url, others[2].id, action="claim").status_code == 200
        assert effects.reconcile() == 0  # again in this process, while it serves: nothing more
    actions, claims = _effects(settings, item.id)
    assert sorted(actions) == ["claim.create", "claim.link", "review.claim", "review.decide"]
    assert len(claims) == 1
    (written, *_bulk) = AuditLog.from_settings(settings).entries(action="review.decide")
    assert (written.actor, written.via) == ("reviewer1", "reconcile")
    assert written.detail["review_entry"] == f"{item.id}:2"
    assert written.detail["outcome"] == "false"
    assert {entry.target for entry in _bulk} == {other.id for other in others[:2]}

    # And from another API process's reconciler: nothing more.
    assert create_app(settings, store).state.review_effects.reconcile() == 0
    assert _effects(settings, item.id) == (actions, claims)
    assert len(AuditLog.from_settings(settings).entries(action="review.decide")) == 3
    assert AuditLog.from_settings(settings).verify() == []


_STEP_THEN_DIE = """
import json, os, signal, sys
from pathlib import Path
from index.elastic import ElasticStore
from index.sqlite import SQLiteStore
from mediawatch.config import ElasticsearchSettings, ReviewSettings
from mediawatch.model import ReviewCommand
where = json.loads(sys.argv[1])
store = (
    ElasticStore(ElasticsearchSettings(**where["elastic"])) if where["elastic"]
    else SQLiteStore(Path(where["sqlite"]))
)
command = ReviewCommand(action="decide", outcome="false", note="UBND tỉnh đã bác bỏ")
store.apply_review(where["item"], command, "reviewer1", ReviewSettings())
os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before any audit or claim
"""


def _decide_and_die(settings, store, item) -> None:
    """A worker process that commits a false decision and is killed before its effects."""
    where = {
        "item": item.id,
        "sqlite": str(settings.database_path),
        "elastic": store.settings.model_dump(mode="json")
        if isinstance(store, ElasticStore)
        else None,
    }
    root = Path(__file__).resolve().parents[2]
    died = subprocess.run(
        [sys.executable, "-c", _STEP_THEN_DIE, json.dumps(where)],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=120,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr.decode()
    assert store.get(item.id).review.state == "decided"
    assert _effects(settings, item.id) == ([], [])


def test_a_step_whose_process_was_killed_gets_its_effects_at_the_next_start(settings, store, item):
    create_app(settings, store)  # a service that ran before: the checkpoint exists
    _decide_and_die(settings, store, item)

    restarted = create_app(settings, store)  # reconciles at start
    actions, claims = _effects(settings, item.id)
    assert sorted(actions) == ["claim.create", "claim.link", "review.decide"] and len(claims) == 1
    claim = ClaimRegister(settings.claims_path).get(claims[0])
    assert claim.evidence == ["UBND tỉnh đã bác bỏ"] and claim.statement == RUMOUR
    assert restarted.state.review_effects.reconcile() == 0
    assert _effects(settings, item.id) == (actions, claims)


def _item_state(store, item_id: str) -> str:
    return store.get(item_id).review.state.value


def test_a_deferred_decision_replays_before_a_later_reopen_and_links_no_claim(
    settings, store, item
):
    """A false decision whose effects are deferred, then a reopen the audit log takes at
    once: the effects land in log order (decide, then reopen), and the withdrawn decision
    leaves no claim behind; before, the reopen was applied first and the replayed decision
    linked the reopened item to a new false claim."""
    app = create_app(settings, store)
    effects = app.state.review_effects
    effects.retry_after = timedelta(0)  # the audit log answers again right away
    aside = settings.audit_path.with_name("audit.db.aside")
    with LiveServer(app) as server:
        assert _review(server.url, item.id, action="claim").status_code == 200
        settings.audit_path.rename(aside)
        settings.audit_path.mkdir()  # audit.db cannot be opened: the decision's effects wait
        try:
            decided = _review(server.url, item.id, action="decide", outcome="false")
        finally:
            settings.audit_path.rmdir()
            aside.rename(settings.audit_path)
        assert decided.status_code == 200, decided.text
        assert _effects(settings, item.id) == (["review.claim"], [])
        reopened = _review(server.url, item.id, action="reopen", reason="Nhầm tin")
        assert reopened.status_code == 200, reopened.text
        assert effects.reconcile() == 0
    assert _item_state(store, item.id) == "new"
    actions, claims = _effects(settings, item.id)
    assert (actions, claims) == (["review.claim", "review.decide", "review.reopen"], [])
    assert ClaimRegister(settings.claims_path).all() == []
    assert create_app(settings, store).state.review_effects.reconcile() == 0
    assert _effects(settings, item.id) == (actions, claims)


def test_a_reopen_on_another_worker_waits_for_the_decision_a_killed_worker_left(
    settings, store, item
):
    """Worker A commits a false decision and dies before its effects; worker B reopens the
    item: B settles A's decision first (in log order), so the item ends linked to no claim."""
    app = create_app(settings, store)  # worker B, started before A's step
    _decide_and_die(settings, store, item)
    with LiveServer(app) as server:
        reopened = _review(server.url, item.id, action="reopen", reason="Nhầm tin")
        assert reopened.status_code == 200, reopened.text
    actions, claims = _effects(settings, item.id)
    assert (actions, claims) == (["review.decide", "review.reopen"], [])
    assert create_app(settings, store).state.review_effects.reconcile() == 0
    assert _effects(settings, item.id) == (actions, claims)
    assert _item_state(store, item.id) == "new"


def test_an_api_without_a_scheduler_writes_deferred_effects_on_its_own(settings, store, item):
    """Production's uvicorn workers have no scheduler: each reconciles every
    review.reconcile_minutes by itself, so a killed worker's step gets its audit entry and
    claim with no further request and no restart; the thread stops with the app."""
    settings.review.reconcile_minutes = 0.01  # 0.6 s
    app = create_app(settings, store)
    assert app.state.scheduler is None
    _decide_and_die(settings, store, item)
    with LiveServer(app):
        deadline = time.monotonic() + 30
        while _effects(settings, item.id)[1] == [] and time.monotonic() < deadline:
            time.sleep(0.2)
        actions, claims = _effects(settings, item.id)
        assert sorted(actions) == ["claim.create", "claim.link", "review.decide"]
        assert len(claims) == 1
        assert app.state.reconciling.running
    assert not app.state.reconciling.running
