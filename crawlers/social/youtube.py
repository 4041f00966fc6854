"""YouTube Data API v3: a channel's uploads, or a search, newest first.

A channel is read through its uploads playlist (``channels`` → ``playlistItems``): one quota
unit a page, where ``search`` costs a hundred; search is for query sources only.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from crawlers.social.connector import post_document, recent
from crawlers.social.http import ApiClient, SocialError
from mediawatch.model import Document, Source

PAGE_SIZE = 50
# Error reasons of the Data API (errors[].reason, details[].reason) → our causes.
_REASONS = {
    "quotaExceeded": "quota_exceeded",
    "dailyLimitExceeded": "quota_exceeded",
    "rateLimitExceeded": "rate_limited",
    "userRateLimitExceeded": "rate_limited",
    "keyInvalid": "bad_key",
    "API_KEY_INVALID": "bad_key",
    "keyExpired": "bad_key",
    "accessNotConfigured": "api_not_enabled",
    "SERVICE_DISABLED": "api_not_enabled",
    "forbidden": "forbidden",
    "channelNotFound": "not_found",
    "playlistNotFound": "not_found",
}
_UNAVAILABLE_TITLES = {"Private video", "Deleted video"}


class _Snippet(BaseModel):
    publishedAt: AwareDatetime  # noqa: N815 - the API's field names
    title: str = ""
    description: str = ""
    channelTitle: str = ""  # noqa: N815
    resourceId: dict[str, str] = Field(default_factory=dict)  # noqa: N815


class _Page(BaseModel):
    items: list[dict[str, Any]] = Field(default_factory=list)
    nextPageToken: str | None = None  # noqa: N815


def _api_error(status: int, body: Any) -> str:
    """Our cause for an error body ``{"error": {"code", "message", "errors": [{"reason"}]}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f"http_{status}"
    reasons = [e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)]
    reasons += [d.get("reason") for d in error.get("details", []) if isinstance(d, dict)]
    for reason in reasons:
        if reason in _REASONS:
            return _REASONS[reason]
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
        status, f"http_{status}"
    )


class YouTubeConnector:
    def __init__(self, client: ApiClient, api_url: str, api_key: str, max_items: int) -> None:
        self._client = client
        self._api_url = api_url.rstrip("/")
        self._key = api_key
        self._max_items = max_items
        self.skipped = 0

    def _call(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        url = f"{self._api_url}/{endpoint}"
        status, body = self._client.get_json(url, params | {"key": self._key})
        if status != 200 or not isinstance(body, dict) or "error" in body:
            message = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
            raise SocialError(
                _api_error(status, body),
                self._client.redact(f"HTTP {status}: {message}"[:300]),
                url,
            )
        return body

    def fetch(self, source: Source, since: datetime | None) -> Iterator[Document]:
        if source.query:
            params: dict[str, Any] = {
                "part": "snippet",
                "q": source.query,
                "type": "video",
                "order": "date",
                "maxResults": PAGE_SIZE,
                "relevanceLanguage": source.language,
            }
            if source.account:
                params["channelId"] = source.account
            if since is not None:
                params["publishedAfter"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            yield from recent(self._pages(source, "search", params), since, self._max_items)
        else:
            uploads = self._uploads_playlist(str(source.account))
            params = {"part": "snippet", "playlistId": uploads, "maxResults": PAGE_SIZE}
            yield from recent(self._pages(source, "playlistItems", params), since, self._max_items)

    def _uploads_playlist(self, channel_id: str) -> str:
        body = self._call("channels", {"part": "contentDetails", "id": channel_id})
        for item in body.get("items") or []:
            playlist = item.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
            if playlist:
                return str(playlist)
        raise SocialError("not_found", f"no channel {channel_id!r} or it has no uploads")

    def _pages(self, source: Source, endpoint: str, params: dict[str, Any]) -> Iterator[Document]:
        token: str | None = None
        while True:
            body = self._call(endpoint, params | ({"pageToken": token} if token else {}))
            try:
                page = _Page.model_validate(body)
            except ValidationError as error:
                raise SocialError("bad_response", str(error)[:300]) from error
            for raw in page.items:
                document = self._document(source, endpoint, raw)
                if document is None:
                    self.skipped += 1
                    continue
                yield document
            token = page.nextPageToken
            if not token or not page.items:
                return

    def _document(self, source: Source, endpoint: str, raw: dict[str, Any]) -> Document | None:
        """None for what cannot be a document: private or deleted videos, malformed items."""
        try:
            snippet = _Snippet.model_validate(raw.get("snippet"))
        except ValidationError:
            return None
        if endpoint == "search":
            video_id = (raw.get("id") or {}).get("videoId")
            # search escapes HTML in its snippets (&#39;, &quot;), playlistItems does not
            title, text = html.unescape(snippet.title), html.unescape(snippet.description)
        else:
            video_id = snippet.resourceId.get("videoId")
            title, text = snippet.title, snippet.description
        if not video_id or title in _UNAVAILABLE_TITLES:
            return None
        return post_document(
            source,
            f"https://www.youtube.com/watch?v={video_id}",
            title,
            text or title,
            snippet.publishedAt,
            [snippet.channelTitle],
            extractor="youtube-api",
            date_source="api",
        )
