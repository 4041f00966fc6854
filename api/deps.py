"""Dependencies injected into routes: the store, the settings, the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from api.security import (
    LoginRequired,
    PageForbidden,
    Permission,
    Principal,
    authenticate,
    bearer_scheme,
    client_ip,
    permission_check,
    session_user,
)
from classifier.topic_labels import TopicLabels
from crawlers.state import CrawlState
from index.store import Store
from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.config import Settings, load_sources
from mediawatch.model import Source
from mediawatch.stories import StoryIndex


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_sources(request: Request) -> list[Source]:
    """The registry the service was started with, else the configured file as it is now."""
    sources = request.app.state.sources
    return sources if sources is not None else load_sources(get_settings(request).sources_file)


def get_crawl_state(request: Request) -> CrawlState:
    return request.app.state.crawl_state


def get_stories(request: Request) -> StoryIndex:
    return request.app.state.stories


def get_topic_corrections(request: Request) -> TopicLabels:
    return request.app.state.topic_corrections


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    return authenticate(request, credentials)


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def get_audit(request: Request) -> AuditLog:
    return request.app.state.audit


def page_principal(request: Request) -> Principal:
    """The logged-in person behind a page; no session sends them to the login form."""
    user = session_user(request)
    if user is None:
        raise LoginRequired
    return Principal(user.username, user.role, "session", client_ip(request))


def requires(permission: Permission) -> Any:
    """A JSON route's dependency: 401 without credentials, 403 without the permission."""
    check = permission_check(permission)

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return check(principal)

    return Depends(dependency)


def page_requires(permission: Permission) -> Any:
    """A page's dependency: the login form without a session, a 403 page without the
    permission."""

    def dependency(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
        if not principal.may(permission):
            raise PageForbidden(principal, permission)
        return principal

    return Depends(dependency)


def audit(
    request: Request,
    principal: Principal,
    action: str,
    target: str | None = None,
    **detail: Any,
) -> None:
    """Append to the audit log who did ``action`` to ``target``, from where, with what."""
    get_audit(request).record(
        principal.name,
        action,
        role=principal.role.value,
        via=principal.via,
        ip=principal.ip,
        target=target,
        detail=detail,
    )


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
SourcesDep = Annotated[list[Source], Depends(get_sources)]
CrawlStateDep = Annotated[CrawlState, Depends(get_crawl_state)]
StoriesDep = Annotated[StoryIndex, Depends(get_stories)]
TopicCorrectionsDep = Annotated[TopicLabels, Depends(get_topic_corrections)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]

# JSON routes: one per permission (api/security.py says which roles hold each).
DashboardsDep = Annotated[Principal, requires(Permission.DASHBOARDS)]
ReaderDep = Annotated[Principal, requires(Permission.READ_ITEMS)]
ExporterDep = Annotated[Principal, requires(Permission.EXPORT)]
ReviewerDep = Annotated[Principal, requires(Permission.REVIEW)]
WatchlistsDep = Annotated[Principal, requires(Permission.WATCHLISTS)]
AdminDep = Annotated[Principal, requires(Permission.ADMIN)]
IngestDep = Annotated[Principal, requires(Permission.INGEST)]

# Pages: the same permissions, with a login redirect instead of a 401.
PagePrincipalDep = Annotated[Principal, Depends(page_principal)]  # any logged-in person
PageDashboardsDep = Annotated[Principal, page_requires(Permission.DASHBOARDS)]
PageReaderDep = Annotated[Principal, page_requires(Permission.READ_ITEMS)]
PageReviewerDep = Annotated[Principal, page_requires(Permission.REVIEW)]
PageAdminDep = Annotated[Principal, page_requires(Permission.ADMIN)]
PageWatchlistsDep = Annotated[Principal, page_requires(Permission.WATCHLISTS)]
