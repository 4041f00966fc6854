"""Who is calling: an API token (scripts) or a logged-in browser session (people)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mediawatch.config import Settings

bearer_scheme = HTTPBearer(auto_error=False, description="Personal API token")
SESSION_USER = "user"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    via: str  # "token" or "session"


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


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """A token for any method; a browser session only for reading (no CSRF on JSON writes)."""
    if credentials is not None:
        registry: TokenRegistry = request.app.state.tokens
        name = registry.identify(credentials.credentials)
        if name is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "API token không hợp lệ (invalid API token)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Principal(name, "token")
    user = request.session.get(SESSION_USER) if "session" in request.scope else None
    if user and request.method in _SAFE_METHODS:
        return Principal(user, "session")
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Cần API token: gửi header 'Authorization: Bearer <token>' (API token required)",
        headers={"WWW-Authenticate": "Bearer"},
    )
