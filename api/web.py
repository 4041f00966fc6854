"""Dashboard pages for people: login, the review queue, one item, search, trends, sources."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import (
    AccountsDep,
    AuditDep,
    CrawlStateDep,
    PageAdminDep,
    PageReaderDep,
    PageReviewerDep,
    SettingsDep,
    SourcesDep,
    StoreDep,
    StoriesDep,
    TopicCorrectionsDep,
    audit,
)
from api.privacy import present
from api.routers.review import MAX_BULK, apply_command
from api.security import (
    SESSION_ROLE,
    SESSION_USER,
    PageForbidden,
    Permission,
    client_ip,
    end_session,
    start_session,
)
from classifier.risk import WORDING_REASON_CODES
from classifier.topic_labels import UnknownTopics
from dashboards import TEMPLATES_DIR
from index.highlight import mark, query_terms
from index.query import QueueQuery, SearchQuery
from index.store import ItemNotFound, ReviewRefused
from index.workflow import effective_due, valid_actions
from mediawatch.gazetteer import packaged_gazetteer
from mediawatch.health import HealthStatus, source_health
from mediawatch.model import (
    Document,
    OfficialResponse,
    ReviewAction,
    ReviewCommand,
    ReviewOutcome,
    ReviewState,
    utc_now,
)

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


def forbidden_page(request: Request, error: PageForbidden) -> Response:
    return render(
        request,
        "forbidden.html",
        status.HTTP_403_FORBIDDEN,
        caller_role=error.principal.role.value,
        permission=error.permission.value,
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=next)


LOGIN_FAILED = (
    "Đăng nhập không thành công: sai tên đăng nhập hoặc mật khẩu, "
    "hoặc tài khoản đang tạm khóa. Hãy thử lại sau hoặc liên hệ quản trị viên."
)


@router.post("/login")
def login(
    request: Request,
    accounts: AccountsDep,
    audit_log: AuditDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """One message for every failure (unknown user, wrong password, locked, disabled), so the
    form does not tell which accounts exist; the audit log keeps the real reason."""
    check_csrf(request, csrf)
    attempt = accounts.authenticate(username, password)
    role = attempt.user.role.value if attempt.user else None
    where = {"role": role, "via": "session", "ip": client_ip(request)}
    if not attempt.ok:
        audit_log.record(username, "login.failed", **where, detail={"reason": attempt.reason})
        if attempt.locked_now:
            until = attempt.user.locked_until if attempt.user else None
            audit_log.record(username, "login.locked", **where, detail={"until": until})
        return render(
            request, "login.html", status.HTTP_401_UNAUTHORIZED, next=next, error=LOGIN_FAILED
        )
    start_session(request, attempt.user)
    audit_log.record(username, "login.ok", **where)
    return RedirectResponse(local_path(next), status.HTTP_303_SEE_OTHER)


def local_path(target: str) -> str:
    """A path on this site, else "/": no scheme, no host, and no backslash (browsers read
    "/\\evil.example" as "//evil.example")."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith("//")
    if not local or "\\" in target or parts.scheme or parts.netloc:
        return "/"
    return target


@router.post("/logout")
def logout(request: Request, audit_log: AuditDep, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    user = request.session.get(SESSION_USER)
    if user:
        role = request.session.get(SESSION_ROLE)
        audit_log.record(user, "logout", role=role, via="session", ip=client_ip(request))
    end_session(request)
    return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PageReaderDep,
    page: Annotated[int, Query(ge=1, le=400)] = 1,
    topic: Annotated[str, Query(max_length=100)] = "",
    place: Annotated[str, Query(max_length=100)] = "",
    source: Annotated[str, Query(max_length=100)] = "",
    state: Annotated[ReviewState | None, Query()] = None,
    assignee: Annotated[str, Query(max_length=200)] = "",
    mine: bool = False,
    overdue: bool = False,
) -> Response:
    per_page = 25
    query = QueueQuery(
        threshold=settings.review_threshold,
        topics=[topic] if topic else [],
        places=[place] if place else [],
        source_ids=[source] if source else [],
        assignee=principal.name if mine else assignee or None,
        overdue=overdue,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    if state:
        query.states = [state]
    now = utc_now()
    queue = store.review_queue(query, now, settings.review)
    due = {hit.document.id: effective_due(hit.document, settings.review) for hit in queue.hits}
    filters = {
        "topic": topic,
        "place": place,
        "source": source,
        "state": state.value if state else "",
        "assignee": assignee,
        "mine": "1" if mine else "",
        "overdue": "1" if overdue else "",
    }
    return render(
        request,
        "queue.html",
        queue=queue,
        page=page,
        per_page=per_page,
        threshold=settings.review_threshold,
        stats=store.queue_stats(settings.review_threshold, now, settings.review),
        due=due,
        now=now,
        filters=filters,
        link_filters=urlencode({k: v for k, v in filters.items() if v}),
        states=list(ReviewState),
        places=places_choice(),
        topic_choices=request.app.state.topic_labels,
        may_review=principal.may(Permission.REVIEW),
    )


@router.post("/review/bulk")
def bulk_form(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: PageReviewerDep,
    csrf: Annotated[str, Form()],
    item_id: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The obvious case only: the checked items are not about the province's policy."""
    check_csrf(request, csrf)
    chosen = list(dict.fromkeys(item_id or []))[:MAX_BULK]
    command = ReviewCommand(
        action=ReviewAction.DECIDE, outcome=ReviewOutcome.NOT_RELEVANT, note=note or None
    )
    refused = []
    for one in chosen:
        try:
            apply_command(request, store, settings, principal, one, command)
        except (ItemNotFound, ReviewRefused) as error:
            refused.append(str(error))
    done = len(chosen) - len(refused)
    message = f"Đã kết luận 'Không liên quan' cho {done} tin."
    if refused:
        message += f" {len(refused)} tin không xử lý được: " + "; ".join(refused[:3])
    request.session[FLASH_KEY] = message
    return RedirectResponse("/", status.HTTP_303_SEE_OTHER)


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
    settings: SettingsDep,
    principal: PageReaderDep,
    q: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    found = store.get(item_id)
    if found is None:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=item_id)
    audit(request, principal, "item.view", item_id)
    document = present(request, principal, [found])[0]
    now = utc_now()
    due = effective_due(document, settings.review)
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
        actions=valid_actions(document.review, principal.name, now, settings.review)
        if principal.may(Permission.REVIEW)
        else [],
        agencies=settings.review.agencies,
        due=due,
        overdue=due is not None and due < now,
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
    settings: SettingsDep,
    principal: PageReviewerDep,
    action: Annotated[ReviewAction, Form()],
    csrf: Annotated[str, Form()],
    expected_version: Annotated[int, Form(ge=0)],
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    evidence: Annotated[str, Form(max_length=20_000)] = "",
    agency: Annotated[str, Form(max_length=200)] = "",
    response_url: Annotated[str, Form(max_length=2000)] = "",
    response_agency: Annotated[str, Form(max_length=200)] = "",
    response_at: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Every workflow step from the item page: the same rules and audit as the JSON API."""
    check_csrf(request, csrf)
    try:
        response = None
        if action is ReviewAction.RESPOND and response_url:
            published = (
                datetime.fromisoformat(response_at).replace(tzinfo=ZoneInfo(settings.timezone))
                if response_at
                else None
            )
            response = OfficialResponse(
                url=response_url, agency=response_agency or agency, published_at=published
            )
        command = ReviewCommand(
            action=action,
            expected_version=expected_version,
            outcome=outcome or None,
            note=note or None,
            evidence=[line.strip() for line in evidence.splitlines() if line.strip()],
            agency=agency or None,
            response=response,
            reason=reason or None,
        )
        apply_command(request, store, settings, principal, item_id, command)
    except ValueError:  # pydantic's ValidationError and a malformed date alike
        message = "Thông tin nhập chưa hợp lệ (kết luận, đường dẫn, thời gian…); hãy kiểm tra lại."
    except ItemNotFound:
        return render(request, "not_found.html", status.HTTP_404_NOT_FOUND, item_id=item_id)
    except ReviewRefused as error:
        message = str(error)
    else:
        message = "Đã ghi nhận quyết định." if action is ReviewAction.DECIDE else "Đã ghi nhận."
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
    results = store.search(query)
    if q:
        audit(request, principal, "search", q=q, page=page, total=results.total)
    return render(request, "search.html", q=q, results=results, page=page)  # shows no authors


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


def places_choice() -> dict[str, str]:
    """Every place of the gazetteer for the queue's filter, by name."""
    places = packaged_gazetteer().places.values()
    return {p.id: f"{p.type} {p.name}" for p in sorted(places, key=lambda p: (p.name, p.type))}


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
