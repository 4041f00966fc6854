"""Facebook Graph API: a page's posts, for pages the configured access token may read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from crawlers.social.connector import post_document, recent
from crawlers.social.http import ApiClient, SocialError
from mediawatch.identity import social_item_id
from mediawatch.model import Document, Source

PAGE_SIZE = 100
FIELDS = "id,message,created_time,permalink_url,from"
# Graph API error codes (error.code, error.error_subcode) → our causes.
_RATE_LIMIT_CODES = {4, 17, 32, 613}
_EXPIRED_SUBCODES = {463}


class _Post(BaseModel):
    id: str
    message: str | None = None
    created_time: AwareDatetime
    permalink_url: str | None = None
    author: dict[str, str] = Field(default_factory=dict, alias="from")


class _Page(BaseModel):
    data: list[dict[str, Any]]
    paging: dict[str, Any] = Field(default_factory=dict)


def _api_error(status: int, body: Any) -> str:
    """Our cause for ``{"error": {"message", "type": "OAuthException", "code", ...}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"http_{status}"
    code, subcode = error.get("code"), error.get("error_subcode")
    if code == 190:
        return "token_expired" if subcode in _EXPIRED_SUBCODES else "token_invalid"
    if code == 10 or (isinstance(code, int) and 200 <= code < 300):
        return "permission_denied"
    if code in _RATE_LIMIT_CODES:
        return "rate_limited"
    if code == 100:
        return "not_found" if subcode == 33 else "bad_request"
    return f"http_{status}"


class FacebookConnector:
    def __init__(self, client: ApiClient, graph_url: str, token: str, max_items: int) -> None:
        self._client = client
        self._graph_url = graph_url.rstrip("/")
        self._token = token
        self._max_items = max_items
        self.skipped = 0

    def fetch(self, source: Source, since: datetime | None) -> Iterator[Document]:
        return recent(self._posts(source, since), since, self._max_items)

    def _posts(self, source: Source, since: datetime | None) -> Iterator[Document]:
        url: str | None = f"{self._graph_url}/{source.account}/posts"
        params: dict[str, Any] | None = {
            "fields": FIELDS,
            "limit": PAGE_SIZE,
            "access_token": self._token,
        }
        if since is not None:
            params["since"] = int(since.timestamp())
        while url:
            page = self._page(url, params)
            for raw in page.data:
                document = self._document(source, raw)
                if document is None:
                    self.skipped += 1
                    continue
                yield document
            url, params = self._next(page), None  # the next URL carries every parameter

    def _page(self, url: str, params: dict[str, Any] | None) -> _Page:
        status, body = self._client.get_json(url, params)
        if status != 200 or not isinstance(body, dict) or "error" in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            detail = f"HTTP {status}: {error.get('type', '')} {error.get('message', '')}"
            raise SocialError(
                _api_error(status, body),
                self._client.redact(detail)[:300],
                self._client.redact(url),
            )
        try:
            return _Page.model_validate(body)
        except ValidationError as error:
            raise SocialError("bad_response", str(error)[:300], self._client.redact(url)) from error

    def _next(self, page: _Page) -> str | None:
        """The cursor URL of the next page, only on the Graph API's own host: it carries the
        token, which must never go anywhere else."""
        following = page.paging.get("next")
        if not following or not page.data:
            return None
        if urlsplit(following)[:2] != urlsplit(self._graph_url)[:2]:
            raise SocialError("bad_paging", f"next page on another host: {urlsplit(following)[1]}")
        return str(following)

    @staticmethod
    def _document(source: Source, raw: dict[str, Any]) -> Document | None:
        """None for posts without text (photos, shares without a caption) or malformed ones."""
        try:
            post = _Post.model_validate(raw)
        except ValidationError:
            return None
        if not post.message or not post.message.strip():
            return None
        page_id, _, post_id = post.id.partition("_")
        fallback = f"{page_id}/posts/{post_id}" if post_id else post.id
        url = post.permalink_url or f"https://www.facebook.com/{fallback}"
        return post_document(
            source,
            url,
            "",
            post.message,
            post.created_time,
            [post.author.get("name", "")],
            extractor="facebook-graph",
            date_source="api",
            post_id=social_item_id("facebook", post.id),
        )
