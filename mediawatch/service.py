"""The embedded service: API, dashboards and scheduler in one process."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn
from pydantic import SecretStr

from api.app import create_app
from classifier.service import Classifier
from classifier.taxonomy import Taxonomy
from index.elastic import ElasticStore
from index.spool import Spool, SpoolingStore
from index.sqlite import SQLiteStore
from index.store import Store
from mediawatch.accounts import Accounts, generate_password, session_secret_problem
from mediawatch.alerts import send_spike_alerts
from mediawatch.audit import AuditLog
from mediawatch.config import Settings
from mediawatch.digest import deliver_digest, send_pending
from mediawatch.model import Role, Source
from mediawatch.overdue import alert_overdue
from mediawatch.pipeline import Pipeline
from mediawatch.scheduler import Scheduler, build_scheduler
from mediawatch.watchlists import Watchlists


@dataclass(frozen=True)
class Credentials:
    """A first account's secrets, printed once at start and never again."""

    username: str
    role: Role
    password: str
    api_token: str | None = None


DEMO_USERS = {"reviewer1": Role.REVIEWER, "analyst1": Role.ANALYST, "viewer1": Role.VIEWER}


def with_credentials(settings: Settings, demo: bool = False) -> tuple[Settings, list[Credentials]]:
    """Refuse a weak configured session secret, or generate one (one process: nobody else needs
    it); when no account exists yet, create ``admin`` with a random password and token, and in
    the demo one user per role, so every dashboard can be tried."""
    if settings.session_secret is None:
        settings = settings.model_copy(
            update={"session_secret": SecretStr(secrets.token_urlsafe(32))}
        )
    else:
        problem = session_secret_problem(settings.session_secret.get_secret_value())
        if problem:
            raise SystemExit(
                f"mediawatch: MEDIAWATCH_SESSION_SECRET {problem}; set a random value of at "
                "least 32 characters, or unset it to have one generated"
            )
    accounts = Accounts.from_settings(settings)
    if accounts.has_users():
        return settings, []
    audit = AuditLog.from_settings(settings)
    people = {"admin": Role.ADMIN} | (DEMO_USERS if demo else {})
    created = []
    for username, role in people.items():
        password = generate_password()
        accounts.add_user(username, role, password)
        token, plaintext = accounts.create_token(username, "first start")
        audit.record("system", "user.add", via="system", target=username, detail={"role": role})
        audit.record(
            "system", "token.create", via="system", target=username, detail={"id": token.id}
        )
        created.append(Credentials(username, role, password, plaintext))
    return settings, created


def build_store(settings: Settings) -> Store:
    """The configured backend; Elasticsearch writes go through a durable spool."""
    if settings.store == "elasticsearch":
        spool = Spool(settings.data_dir / "spool" / "items.jsonl")
        return SpoolingStore(ElasticStore(settings.elasticsearch), spool)
    return SQLiteStore(settings.database_path)


def build_pipeline(settings: Settings) -> Pipeline:
    return Pipeline(build_store(settings), Classifier.from_settings(settings), settings)


def bind(host: str, port: int) -> socket.socket:
    """Bind first, so the printed URL carries the real port even when port 0 was asked."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def background_jobs(
    settings: Settings,
    pipeline: Pipeline,
    sources: list[Source],
    crawl_now: bool,
    reconcile: Callable[[], object] | None = None,
) -> Scheduler:
    """Crawls on their schedules, the morning digest, and the spool flush when there is one;
    with ``reconcile`` (the API's, when it is served here), review steps' missing effects."""
    topic_labels = Taxonomy.load().labels_vi
    scheduler = build_scheduler(
        settings,
        crawl_due=lambda: pipeline.crawl_due(sources),
        digest=lambda: deliver_digest(pipeline.store, settings, topic_labels),
        digest_retry=lambda: send_pending(settings),
        crawl_now=crawl_now,
        overdue=lambda: alert_overdue(pipeline.store, settings),
        spike_alerts=lambda: send_spike_alerts(
            pipeline.store, settings, Watchlists(settings.watchlists_path)
        ),
        reconcile=reconcile,
    )
    if isinstance(pipeline.store, SpoolingStore):
        scheduler.add_job(pipeline.store.flush, "interval", minutes=1, id="spool-flush")
    return scheduler


def serve(
    settings: Settings,
    pipeline: Pipeline,
    sources: list[Source],
    sock: socket.socket,
    crawl_now: bool,
    on_started: Callable[[], None] = lambda: None,
) -> None:
    """Run until interrupted; the app's lifespan starts the scheduler and stops it with the
    web server, then the crawl's story index is closed."""
    app = create_app(settings, pipeline.store, sources, pipeline.state, pipeline.stories)
    app.state.pipeline = pipeline  # /api/ingest shares the crawl's classifier and story index
    app.state.scheduler = background_jobs(
        settings, pipeline, sources, crawl_now, reconcile=app.state.review_effects.reconcile
    )
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        on_started()
        server.run(sockets=[sock])
    finally:
        pipeline.stories.close()
