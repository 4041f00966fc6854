"""Who is calling and what they may do: roles map to permissions, routes require one.

A personal API token (scripts) or a logged-in browser session (people) identifies the caller,
both backed by ``mediawatch.accounts``; JSON writes from a browser session also need the CSRF
header, forms the CSRF field.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mediawatch.accounts import Accounts, User
from mediawatch.model import Role

bearer_scheme = HTTPBearer(auto_error=False, description="Personal API token")
SESSION_USER = "user"
SESSION_ROLE = "role"  # for display only: permissions come from the account
SESSION_EPOCH = "epoch"
SESSION_ID = "sid"  # the server-side session (accounts' sessions table) the cookie stands for
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class Permission(StrEnum):
    DASHBOARDS = "dashboards"  # trends pages and aggregate figures
    READ_ITEMS = "read_items"  # search, item details, stories, the queue, decisions, claims
    EXPORT = "export"  # CSV/XLSX of searches and trends, the yearly report
    REVIEW = "review"  # claim, decide, escalate, respond, reopen; edit the claims register
    SEE_AUTHORS = "see_authors"  # granted by settings.security.author_roles, not here
    WATCHLISTS = "watchlists"  # save one's own watchlists and receive their alerts
    ADMIN = "admin"  # users, tokens, sources, settings, the audit log
    INGEST = "ingest"  # push items through the pipeline (vendor feeds' scripts, staff)


_ANALYST = frozenset(
    {Permission.DASHBOARDS, Permission.READ_ITEMS, Permission.EXPORT, Permission.WATCHLISTS}
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.DASHBOARDS}),
    Role.ANALYST: _ANALYST,
    Role.REVIEWER: _ANALYST | {Permission.REVIEW, Permission.INGEST},
    Role.ADMIN: _ANALYST | {Permission.REVIEW, Permission.ADMIN, Permission.INGEST},
}


class LoginRequired(Exception):
    """Raised by page dependencies; turned into a redirect to the login page."""


class PageForbidden(Exception):
    """Raised by page dependencies for a role without the permission; a 403 page, not JSON."""

    def __init__(self, principal: Principal, permission: Permission) -> None:
        super().__init__(f"{principal.role} lacks {permission}")
        self.principal = principal
        self.permission = permission


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    via: str  # "token" or "session"
    ip: str | None = None

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """A token for any method; a browser session for reading, and for writing with the CSRF
    header the pages send. Either acts with the account's current role, and dies with it."""
    accounts: Accounts = request.app.state.accounts
    if credentials is not None:
        found = accounts.identify(credentials.credentials)
        if found is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "API token không hợp lệ hoặc đã bị thu hồi (invalid API token)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Principal(found[0].username, found[0].role, "token", client_ip(request))
    user = session_user(request)
    if user is not None:
        if request.method not in _SAFE_METHODS and not _csrf_header_ok(request):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"Thiếu hoặc sai header {CSRF_HEADER} (CSRF token required for session writes)",
            )
        return Principal(user.username, user.role, "session", client_ip(request))
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Cần API token: gửi header 'Authorization: Bearer <token>' (API token required)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def session_user(request: Request) -> User | None:
    """The account behind the browser session, re-read on every request: a disabled account,
    or one whose sessions were ended (password reset, role change), is logged out here. So is
    a session without an epoch (opened before epochs existed): nothing could ever end it, and
    one whose server-side id is gone (logged out, expired), however valid its signature."""
    session = request.session if "session" in request.scope else {}
    name = session.get(SESSION_USER)
    if not name:
        return None
    accounts: Accounts = request.app.state.accounts
    epoch, session_id = session.get(SESSION_EPOCH), session.get(SESSION_ID)
    user = None
    if isinstance(epoch, int) and isinstance(session_id, str):
        user = accounts.active(name, epoch) if accounts.session_open(session_id, name) else None
    if user is None:
        session.clear()
    return user


def login_url(request: Request) -> str:
    """The login form, coming back to where the person was."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='/')}"


def start_session(request: Request, user: User) -> None:
    """A fresh session for a person who just logged in (nothing kept from before: fixation)."""
    request.session.clear()
    request.session[SESSION_USER] = user.username
    request.session[SESSION_ROLE] = user.role.value
    request.session[SESSION_EPOCH] = user.epoch
    request.session[SESSION_ID] = request.app.state.accounts.open_session(user.username)


def end_session(request: Request) -> None:
    """Logout: the server forgets this session, so a copy of the cookie is worth nothing."""
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str):
        request.app.state.accounts.close_session(session_id)
    request.session.clear()


def _csrf_header_ok(request: Request) -> bool:
    expected = request.session.get("csrf", "")
    submitted = request.headers.get(CSRF_HEADER, "")
    return bool(expected) and hmac.compare_digest(expected, submitted)


def forbidden(principal: Principal, permission: Permission) -> HTTPException:
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        f"Vai trò '{principal.role}' không có quyền '{permission}' (forbidden)",
    )


def permission_check(permission: Permission) -> Callable[[Principal], Principal]:
    """The check a route's dependency applies once the caller is known."""

    def check(principal: Principal) -> Principal:
        if not principal.may(permission):
            raise forbidden(principal, permission)
        return principal

    return check
