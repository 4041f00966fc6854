"""Read social sources into the same events as a web crawl, so the pipeline treats both alike."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime

import httpx
import structlog

from crawlers.destinations import DestinationPolicy
from crawlers.events import FailureEvent, ItemEvent, SourceDoneEvent
from crawlers.social.connector import Connector
from crawlers.social.facebook import FacebookConnector
from crawlers.social.http import ApiClient, Redactor, SocialError, destination_hooks
from crawlers.social.telegram import TelegramConnector
from crawlers.social.youtube import YouTubeConnector
from mediawatch.config import Settings
from mediawatch.model import Source, SourceKind

log = structlog.get_logger("mediawatch.crawl.social")


def redactor_for(settings: Settings) -> Redactor:
    social = settings.social
    secrets = (social.youtube_api_key, social.facebook_access_token)
    return Redactor(s.get_secret_value() for s in secrets if s is not None)


def connector_for(source: Source, settings: Settings, client: ApiClient) -> Connector:
    """A fresh connector for one source; SocialError when its credentials are missing, so
    that nothing is requested without them."""
    social = settings.social
    if source.kind == SourceKind.YOUTUBE:
        if social.youtube_api_key is None:
            raise SocialError("no_api_key", "set MEDIAWATCH_SOCIAL__YOUTUBE_API_KEY")
        key = social.youtube_api_key.get_secret_value()
        return YouTubeConnector(client, social.youtube_api_url, key, social.max_items_per_source)
    if source.kind == SourceKind.FACEBOOK:
        if social.facebook_access_token is None:
            raise SocialError("no_access_token", "set MEDIAWATCH_SOCIAL__FACEBOOK_ACCESS_TOKEN")
        token = social.facebook_access_token.get_secret_value()
        return FacebookConnector(
            client, social.facebook_graph_url, token, social.max_items_per_source
        )
    if source.kind == SourceKind.TELEGRAM:
        return TelegramConnector(client, social.max_items_per_source)
    raise ValueError(f"source {source.id} is a {source.kind} source, not a social one")


def collect(
    sources: Iterable[Source],
    settings: Settings,
    since_by_source: Mapping[str, datetime | None] | None = None,
    known_ids: Collection[str] = frozenset(),
    *,
    backoff_s: float = 1.0,
) -> Iterator[ItemEvent | FailureEvent | SourceDoneEvent]:
    """Each enabled social source's posts, then its done event (``skipped_known``: posts in
    ``known_ids``, so adaptive polling sees what was new). A source that fails, for whatever
    reason, gives one failure event (stage ``feed``: the source) and the others go on."""
    since_by_source = since_by_source or {}
    redact = redactor_for(settings)
    proxy_url = settings.crawl.proxy_url
    http = httpx.Client(
        timeout=settings.social.timeout_s,
        headers={"User-Agent": settings.crawl.user_agent},
        follow_redirects=True,
        # Never the environment's HTTP(S)_PROXY: through it the hooks would see only the proxy.
        trust_env=False,
        proxy=proxy_url,
        event_hooks=destination_hooks(
            DestinationPolicy.allowing(settings.crawl.allowed_internal_hosts),
            proxied=proxy_url is not None,
        ),
    )
    client = ApiClient(http, redact, retries=settings.crawl.retries, backoff_s=backoff_s)
    with http:
        for source in sources:
            if not (source.enabled and source.kind.is_social):
                continue
            taken = known = 0
            connector: Connector | None = None
            try:
                connector = connector_for(source, settings, client)
                for document in connector.fetch(source, since_by_source.get(source.id)):
                    taken += 1
                    known += document.id in known_ids
                    yield ItemEvent(document=document)
            except Exception as error:  # an odd payload must not stop the other sources
                if isinstance(error, SocialError):
                    cause, detail, url = error.cause, error.detail, error.url
                else:
                    cause, detail, url = "connector_error", repr(error), None
                    log.exception("social connector broke", source=source.id)
                url = redact(url or str(source.url))
                log.error(
                    "social source failed",
                    source=source.id,
                    url=url,
                    reason=cause,
                    detail=redact(detail)[:200],
                    items_before_failure=taken,
                )
                yield FailureEvent(
                    source_id=source.id, url=url, stage="feed", reason=cause, detail=redact(detail)
                )
                continue
            skipped = connector.skipped
            log.info("social source read", source=source.id, items=taken, without_text=skipped)
            yield SourceDoneEvent(  # entries: posts with text, what polling judges by
                source_id=source.id, entries=taken, skipped_known=known, skipped_empty=skipped
            )
