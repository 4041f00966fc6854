"""Dashboard pages for people: login, the review queue, one item, search, trends, sources."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.deps import (
    CrawlStateDep,
    PageAdminDep,
    PageReaderDep,
    PageReviewerDep,
    SettingsDep,
    SourcesDep,
    StoreDep,
    StoriesDep,
    TopicCorrectionsDep,
)
from api.security import SESSION_ROLE, SESSION_USER, check_password
from classifier.risk import WORDING_REASON_CODES
from classifier.topic_labels import UnknownTopics
from dashboards import TEMPLATES_DIR
from index.highlight import mark, query_terms
from index.query import SearchQuery
from index.store import ItemNotFound, ReviewConflict
from mediawatch.gazetteer import packaged_gazetteer
from mediawatch.health import HealthStatus, source_health
from mediawatch.model import Document, ReviewDecision, ReviewOutcome, Role, utc_now

log = structlog.get_logger("mediawatch.web")
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)
CSRF_KEY = "csrf"
FLASH_KEY = "flash"


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get(CSRF_KEY, "")
    if not expected or not hmac.compare_digest(expected, submitted):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Phiên làm việc đã hết hạn, hãy tải lại trang (CSRF)"
        )


def render(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    context |= {
        "user": request.session.get(SESSION_USER),
        "role": request.session.get(SESSION_ROLE),
        "csrf": csrf_token(request),
        "flash": request.session.pop(FLASH_KEY, None),
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=next)


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf)
    if not check_password(settings, username, password):
        return render(
            request,
            "login.html",
            status.HTTP_401_UNAUTHORIZED,
            next=next,
            error="Sai tên đăng nhập hoặc mật khẩu.",
        )
    request.session.clear()
    request.session[SESSION_USER] = username
    request.session[SESSION_ROLE] = Role.ADMIN.value
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PageReaderDep,
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    per_page = 25
    queue = store.review_queue(settings.review_threshold, per_page, (page - 1) * per_page)
    return render(
        request,
        "queue.html",
        queue=queue,
        page=page,
        per_page=per_page,
        threshold=settings.review_threshold,
    )


def _evidence_phrases(document: Document) -> list[str]:
    if document.classification is None:
        return []
    phrases = [p for topic in document.classification.topics for p in topic.evidence]
    for reason in document.classification.reasons:
        if reason.code in WORDING_REASON_CODES:
            phrases += reason.evidence
    return phrases


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(
    request: Request,
    item_id: str,
    store: StoreDep,
    stories: StoriesDep,
    corrections: TopicCorrectionsDep,
    principal: PageReaderDep,
    q: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    document = store.get(item_id)
    if document is None:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=item_id)
    phrases = _evidence_phrases(document) + query_terms(q)
    correction = corrections.for_item(item_id)
    if correction is not None:
        checked = set(correction.topics)
    else:
        checked = (
            {t.id for t in document.classification.topics} if document.classification else set()
        )
    return render(
        request,
        "item.html",
        doc=document,
        story=stories.stats(document.story_id) if document.story_id else None,
        places=place_labels(document.places),
        title_html=mark(document.title, phrases),
        paragraphs_html=[mark(p, phrases) for p in document.text.split("\n") if p.strip()],
        history=store.review_log(item_id),
        outcomes=list(ReviewOutcome),
        topic_choices=request.app.state.topic_labels,
        topics_checked=checked,
        topic_correction=correction,
    )


@router.post("/items/{item_id}/topics")
def topics_form(
    request: Request,
    item_id: str,
    store: StoreDep,
    corrections: TopicCorrectionsDep,
    principal: PageReviewerDep,
    csrf: Annotated[str, Form()],
    topic: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf)
    if store.get(item_id) is None:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=item_id)
    try:
        label = corrections.correct(item_id, topic or [], principal.name)
    except UnknownTopics as error:
        log.warning("topics_refused", item_id=item_id, by=principal.name, error=str(error))
        message = f"Chủ đề không hợp lệ ({error})."
    else:
        log.info("topics_corrected", item_id=item_id, by=principal.name, topics=list(label.topics))
        message = "Đã ghi nhận chủ đề; dùng làm nhãn khi huấn luyện lại."
    request.session[FLASH_KEY] = message
    return RedirectResponse(f"/items/{quote(item_id)}", status.HTTP_303_SEE_OTHER)


@router.post("/items/{item_id}/review")
def review_form(
    request: Request,
    item_id: str,
    store: StoreDep,
    principal: PageReviewerDep,
    outcome: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    expected_version: Annotated[int, Form(ge=0)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        decision = ReviewDecision(
            outcome=outcome, note=note or None, expected_version=expected_version
        )
        store.record_review(item_id, decision, reviewer=principal.name)
    except ValidationError:
        message = "Kết luận không hợp lệ."
    except ItemNotFound:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=item_id)
    except ReviewConflict:
        message = "Tin này vừa được người khác xử lý; hãy xem lại trước khi quyết định."
    else:
        message = "Đã ghi nhận quyết định."
    request.session[FLASH_KEY] = message
    return RedirectResponse(f"/items/{quote(item_id)}", status.HTTP_303_SEE_OTHER)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    store: StoreDep,
    principal: PageReaderDep,
    q: Annotated[str, Query(max_length=500)] = "",
    page: Annotated[int, Query(ge=1, le=400)] = 1,
) -> Response:
    query = SearchQuery(
        text=q or None, sort="relevance" if q else "newest", limit=25, offset=(page - 1) * 25
    )
    return render(request, "search.html", q=q, results=store.search(query), page=page)


@router.get("/sources", response_class=HTMLResponse)
def sources_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    sources: SourcesDep,
    state: CrawlStateDep,
    principal: PageAdminDep,
) -> Response:
    health = source_health(sources, state, store, utc_now(), settings.timezone)
    attention = [h for h in health if h.status in (HealthStatus.FAILING, HealthStatus.VOLUME_DROP)]
    return render(request, "sources.html", health=health, attention=attention)


def place_labels(place_ids: list[str]) -> list[str]:
    """ "xã Lạc Dương" for "xa-lac-duong"; an id the gazetteer no longer has stays as it is."""
    places = packaged_gazetteer().places
    return [f"{places[i].type} {places[i].name}" if i in places else i for i in place_ids]


def daily_chart(totals: list, by_sentiment: list) -> dict:
    """Geometry for a stacked bar chart drawn as inline SVG: no script, no CDN."""
    days = sorted({row.day for row in totals})
    peak = max((row.count for row in totals), default=0) or 1
    stacks = []
    for day in days:
        parts = {row.key: row.count for row in by_sentiment if row.day == day}
        total = next(row.count for row in totals if row.day == day)
        parts["unclassified"] = total - sum(parts.values())
        stacks.append({"day": day, "total": total, "parts": parts})
    return {"stacks": stacks, "peak": peak}
