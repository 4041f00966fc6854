"""Build the FastAPI application around a store and settings."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from api import web
from api.body_limits import BodyGuard
from api.claims_feed import ClaimsFeed
from api.deps import PrincipalDep
from api.export_jobs import ExportJobs
from api.review_effects import Reconciling, ReviewEffects
from api.routers import account_pages, accounts, ingest, items, review, trends
from api.routers import audit as audit_router
from api.routers import claims as claims_router
from api.routers import claims_pages as claims_pages_router
from api.routers import exports as exports_router
from api.routers import reports as reports_router
from api.routers import sources as sources_router
from api.routers import stories as stories_router
from api.routers import topics as topics_router
from api.routers import trend_pages as trend_pages_router
from api.routers import watchlists as watchlists_router
from api.security import LoginRequired, PageForbidden, login_url
from api.security_headers import SecurityHeaders
from classifier.taxonomy import Taxonomy
from classifier.topic_labels import TopicLabels
from crawlers.state import CrawlState
from dashboards import STATIC_DIR
from dashboards.formatting import install_filters
from index.claims import ClaimRegister
from index.store import Store, StoreUnavailable
from mediawatch import __version__
from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.config import Settings
from mediawatch.model import Source
from mediawatch.stories import StoryIndex
from mediawatch.watchlists import Watchlists

log = structlog.get_logger("mediawatch.api")


def _validation_error(request: Request, error: RequestValidationError) -> Response:
    """A 422 that says which parameter is wrong and why, in a form people can read."""
    problems = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ()))
        problems.append({"field": where, "message": problem.get("msg", "invalid")})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return JSONResponse(
        {"detail": f"Yêu cầu không hợp lệ (invalid request): {summary}", "errors": problems},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _store_unavailable(request: Request, error: StoreUnavailable) -> Response:
    return JSONResponse(
        {"detail": f"Kho dữ liệu tạm thời không truy cập được (store unavailable): {error}"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "30"},
    )


def _login_redirect(request: Request, _error: LoginRequired) -> Response:
    return RedirectResponse(login_url(request), status.HTTP_303_SEE_OTHER)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the scheduler the service hands over (``app.state.scheduler``), or without one
    (uvicorn workers) this process's own reconciler of review steps' effects; on uvicorn's
    shutdown stop them (letting a running digest or reconcile finish, not a crawl), then the
    export pool, then close the SQLite connections this app opened, so nothing is left
    writing or open."""
    scheduler = app.state.scheduler
    if scheduler is not None:
        scheduler.start()
    else:
        app.state.reconciling = Reconciling(
            app.state.review_effects, app.state.settings.review.reconcile_minutes
        )
        app.state.reconciling.start()
    try:
        yield
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.stop()
        if app.state.reconciling is not None:
            app.state.reconciling.stop()
        app.state.export_jobs.shutdown()
        for resource in app.state.owned:
            resource.close()


def create_app(
    settings: Settings,
    store: Store,
    sources: list[Source] | None = None,
    crawl_state: CrawlState | None = None,
    stories: StoryIndex | None = None,
) -> FastAPI:
    """``sources``, ``crawl_state`` and ``stories`` are the worker's when it serves the API
    itself; otherwise the configured files are read."""
    app = FastAPI(
        title="mediawatch",
        version=__version__,
        description="Giám sát thông tin báo chí, mạng xã hội về chính sách tỉnh Lâm Đồng.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.scheduler = None  # the embedded service's, started and stopped with the app
    app.state.reconciling = None  # without a scheduler, started and stopped with the app
    app.state.settings = settings
    app.state.store = store
    app.state.sources = sources
    app.state.crawl_state = crawl_state or CrawlState(settings.crawl_state_path, settings.timezone)
    app.state.stories = stories or StoryIndex(settings.stories_path)
    app.state.accounts = Accounts.from_settings(settings)
    app.state.audit = AuditLog.from_settings(settings)
    app.state.watchlists = Watchlists(settings.watchlists_path)
    app.state.export_jobs = ExportJobs(settings.exports_dir, settings.exports)
    app.state.topic_labels = Taxonomy.load().labels_vi
    app.state.topic_corrections = TopicLabels(
        settings.topic_labels_path, frozenset(app.state.topic_labels)
    )
    app.state.claims = ClaimRegister(settings.claims_path)
    # Long-lived connections this app opened, closed at shutdown (the caller's stay open).
    app.state.owned = [app.state.claims, app.state.topic_corrections] + (
        [] if stories else [app.state.stories]
    )
    app.state.claims_feed = ClaimsFeed(app.state.claims, store, settings, app.state.audit)
    # Called after every committed review step as listener(document, command, principal,
    # step id), and again by the reconciler: false and misleading decisions become claims.
    app.state.review_listeners = [app.state.claims_feed]
    # Inside the session middleware (added after it is outside): it reads the decoded session.
    app.add_middleware(BodyGuard, limits=settings.body_limits)
    app.state.review_effects = ReviewEffects(
        store, app.state.audit, app.state.review_listeners, app.state.claims, app.state.accounts
    )
    try:  # steps whose audit entry or claim a crash or a locked file kept from being written
        app.state.review_effects.reconcile()
    except Exception:  # a store still starting: the next periodic run catches up
        log.exception("review_reconcile_at_start_failed")
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or secrets.token_urlsafe(32),
        session_cookie="mediawatch_session",
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
        max_age=settings.security.session_hours * 3600,
    )
    app.add_middleware(SecurityHeaders)  # last added, outermost: every answer carries them
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(PageForbidden, web.forbidden_page)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    install_filters(web.templates.env, settings.timezone)
    app.include_router(items.router)
    app.include_router(review.router)
    app.include_router(trends.router)
    app.include_router(trends.spikes_router)
    app.include_router(watchlists_router.router)
    app.include_router(exports_router.router)
    app.include_router(reports_router.router)
    app.include_router(sources_router.router)
    app.include_router(stories_router.router)
    app.include_router(topics_router.router)
    app.include_router(ingest.router)
    app.include_router(claims_router.router)
    app.include_router(claims_pages_router.router)
    app.include_router(accounts.router)
    app.include_router(audit_router.router)
    app.include_router(account_pages.router)
    app.include_router(trend_pages_router.router)
    app.include_router(web.router)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_principal: PrincipalDep) -> dict:
        """The schema needs a token too: every endpoint does."""
        return app.openapi()

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
