"""Refuse a write before its body is read: unauthenticated, or larger than its route takes.

FastAPI reads and decodes a JSON body before any dependency runs, so a route's own checks
(the token, the permission) came after a 1 GB body had cost 3 GB of memory. This ASGI
middleware runs first for POST, PUT, PATCH and DELETE: without a valid token or session it
answers at once (401 for /api/, the login form for pages), and it caps the body per route
(``settings.body_limits``), at the Content-Length or by counting chunks as they arrive.
"""

from __future__ import annotations

import structlog
from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security import authenticate, login_url, session_user
from mediawatch.config import BodyLimitSettings

log = structlog.get_logger("mediawatch.api.body_limits")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# On a refusal the rest of the body is not wanted: closing the connection stops the sender,
# where a kept-alive one has the server receive (and drop) all of it first.
CLOSE = {"Connection": "close"}
PUBLIC_FORMS = frozenset({"/login", "/logout"})  # logging in needs no session, nor out


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit; FastAPI's handlers turn
    it into the 413 answer (it re-raises HTTPExceptions met while reading a body)."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"Nội dung yêu cầu quá lớn (request body too large): {path} nhận tối đa "
            f"{limit // 1024} KB",
            headers=CLOSE,
        )


class BodyGuard:
    """Pure ASGI, so nothing reads the body on its way through. It must run inside the
    session middleware (it reads the session that one decodes from the cookie)."""

    def __init__(self, app: ASGIApp, limits: BodyLimitSettings) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # without receive: it cannot read the body
        path = scope["path"]
        refusal = self._refusal(request)
        if refusal is not None:
            log.info("write refused unread", path=path, status=refusal.status_code)
            await refusal(scope, receive, send)
            return
        limit = self.limits.limit(path)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            too_large = BodyTooLarge(path, limit)
            log.info("body refused unread", path=path, declared=declared, limit=limit)
            await _answer(too_large)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    def _refusal(self, request: Request) -> Response | None:
        """The answer for a caller who may not write at all, or None: a valid token or a
        session (with its CSRF header) for /api/, a session for the pages' forms."""
        path = request.url.path
        if path.startswith("/api/"):
            try:
                authenticate(request, _bearer(request))
            except HTTPException as error:
                return _answer(error)
            return None
        if path in PUBLIC_FORMS or session_user(request) is not None:
            return None
        return RedirectResponse(login_url(request), status.HTTP_303_SEE_OTHER, headers=CLOSE)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the request on with a ``receive`` that stops at ``limit`` bytes."""
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    log.info("body refused while streaming", path=scope["path"], limit=limit)
                    raise BodyTooLarge(scope["path"], limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as error:  # read outside FastAPI's handlers
            if started:
                raise
            await _answer(error)(scope, receive, send)


def _answer(error: HTTPException) -> Response:
    """The refusal as the routes word it, closing the connection."""
    return JSONResponse(
        {"detail": error.detail}, error.status_code, headers=(error.headers or {}) | CLOSE
    )


def _bearer(request: Request) -> HTTPAuthorizationCredentials | None:
    """The bearer token as ``HTTPBearer(auto_error=False)`` reads it for the routes."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
