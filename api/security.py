"""Who is calling and what they may do: roles map to permissions, routes require one.

An API token (scripts) or a logged-in browser session (people) identifies the caller; JSON
writes from a browser session also need the CSRF header, forms the CSRF field.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mediawatch.config import Settings
from mediawatch.model import Role

bearer_scheme = HTTPBearer(auto_error=False, description="Personal API token")
SESSION_USER = "user"
SESSION_ROLE = "role"
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


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role
    via: str  # "token" or "session"
    ip: str | None = None

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class TokenRegistry:
    """Holds only hashes of the tokens; compares in constant time."""

    def __init__(self, settings: Settings) -> None:
        self._by_digest = {
            _digest(secret.get_secret_value()): name for name, secret in settings.api_tokens.items()
        }

    def identify(self, token: str) -> str | None:
        candidate = _digest(token)
        found = None
        for digest, name in self._by_digest.items():
            if hmac.compare_digest(digest, candidate):
                found = name
        return found


def check_password(settings: Settings, username: str, password: str) -> bool:
    expected = settings.admin_password
    if expected is None:
        return False
    user_ok = hmac.compare_digest(_digest(username), _digest(settings.admin_username))
    password_ok = hmac.compare_digest(_digest(password), _digest(expected.get_secret_value()))
    return user_ok and password_ok


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """A token for any method; a browser session for reading, and for writing with the CSRF
    header the pages send."""
    if credentials is not None:
        registry: TokenRegistry = request.app.state.tokens
        name = registry.identify(credentials.credentials)
        if name is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "API token không hợp lệ (invalid API token)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        role = Role.ADMIN if name == "admin" else Role.REVIEWER
        return Principal(name, role, "token", client_ip(request))
    session = request.session if "session" in request.scope else {}
    user = session.get(SESSION_USER)
    if user and (request.method in _SAFE_METHODS or _csrf_header_ok(request)):
        role = Role(session.get(SESSION_ROLE, Role.VIEWER))
        return Principal(user, role, "session", client_ip(request))
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Cần API token: gửi header 'Authorization: Bearer <token>' (API token required)",
        headers={"WWW-Authenticate": "Bearer"},
    )


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
