"""Dependencies injected into routes: the store, the settings, the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from api.security import Principal, authenticate, bearer_scheme
from classifier.topic_labels import TopicLabels
from crawlers.state import CrawlState
from index.store import Store
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


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
SourcesDep = Annotated[list[Source], Depends(get_sources)]
CrawlStateDep = Annotated[CrawlState, Depends(get_crawl_state)]
StoriesDep = Annotated[StoryIndex, Depends(get_stories)]
TopicCorrectionsDep = Annotated[TopicLabels, Depends(get_topic_corrections)]
