"""The shared vocabulary: what a source, a document, a classification and a review are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

# Publication dates outside [PUBLISHED_EARLIEST, now + PUBLISHED_TOLERANCE] are not believed:
# nothing the province watches predates 1990, and a clock a day fast (a zone written wrong,
# a post scheduled for the morning) is plausible, a year 9999 is not. One bound for every
# entrance (ingest, crawl, import, claims, responses) and for items read back from a store.
PUBLISHED_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
PUBLISHED_TOLERANCE = timedelta(days=1)


def to_utc(value: datetime) -> datetime | None:
    """The same moment in UTC, or None where it has none (0001-01-01T00:00+01:00)."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def web_url(value: str) -> str:
    """An absolute http(s) URL, else ValueError: links people click on pages must not run
    script (javascript:) or carry a page of their own (data:)."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


WebUrl = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(web_url)]


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("datetime must carry a time zone")
    moment = to_utc(value)
    if moment is None:
        raise ValueError("datetime out of range")
    return moment


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class DateProblem(StrEnum):
    """Why a publication date given was not believed (dashboards/formatting.py says it in
    Vietnamese)."""

    UNREPRESENTABLE = "unrepresentable"  # no UTC time, or no time zone
    TOO_EARLY = "too_early"
    IN_FUTURE = "in_future"


def published_problem(value: datetime, now: datetime | None = None) -> DateProblem | None:
    """What is wrong with a publication date, or None when it is believable."""
    moment = to_utc(value) if value.tzinfo is not None else None
    if moment is None:
        return DateProblem.UNREPRESENTABLE
    if moment < PUBLISHED_EARLIEST:
        return DateProblem.TOO_EARLY
    if moment > (now or utc_now()) + PUBLISHED_TOLERANCE:
        return DateProblem.IN_FUTURE
    return None


def _believable(value: datetime | None) -> datetime | None:
    if value is not None and (problem := published_problem(value)) is not None:
        raise ValueError(
            f"ngày không chấp nhận được (date not accepted: {problem.value}, allowed "
            f"{PUBLISHED_EARLIEST:%Y-%m-%d} to now + {PUBLISHED_TOLERANCE.days} day): "
            f"{value.isoformat()}"
        )
    return value


# A date a person gives (a claim's, a response's): refused with the reason when unbelievable.
PublishedDatetime = Annotated[datetime, AfterValidator(_believable), AfterValidator(_as_utc)]


class SourceTier(StrEnum):
    """How much a source is trusted before anything is read: it weighs on the risk score."""

    OFFICIAL = "official"
    PRESS = "press"
    SOCIAL = "social"
    UNKNOWN = "unknown"


class SourceKind(StrEnum):
    """How a source is read: web kinds go through the Scrapy crawl, social kinds through APIs."""

    FEED = "feed"
    SITEMAP = "sitemap"
    LISTING = "listing"
    YOUTUBE = "youtube"
    FACEBOOK = "facebook"
    TELEGRAM = "telegram"

    @property
    def is_social(self) -> bool:
        return self in {SourceKind.YOUTUBE, SourceKind.FACEBOOK, SourceKind.TELEGRAM}


class SourceScope(StrEnum):
    """Provincial outlets are kept whole; national ones only where they concern the province."""

    PROVINCIAL = "provincial"
    NATIONAL = "national"


class ListingRules(BaseModel):
    """Which links of a section page are articles, and how to reach the next page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    links_css: str | None = None
    links_xpath: str | None = None
    next_css: str | None = None
    next_xpath: str | None = None
    max_pages: int = Field(default=3, ge=1, le=50)

    @model_validator(mode="after")
    def _one_link_rule(self) -> ListingRules:
        if (self.links_css is None) == (self.links_xpath is None):
            raise ValueError("give exactly one of links_css or links_xpath")
        if self.next_css is not None and self.next_xpath is not None:
            raise ValueError("give at most one of next_css or next_xpath")
        return self


class PollBounds(BaseModel):
    """How far adaptive polling may move a source's interval away from its schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    floor_minutes: int = Field(default=10, ge=1)
    ceiling_minutes: int = Field(default=360, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> PollBounds:
        if self.floor_minutes > self.ceiling_minutes:
            raise ValueError("floor_minutes must not exceed ceiling_minutes")
        return self


class Source(BaseModel):
    """One entry of the source registry (config/sources.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=1)
    kind: SourceKind
    url: HttpUrl
    tier: SourceTier
    scope: SourceScope = SourceScope.PROVINCIAL
    schedule: str = "every 30m"
    poll: PollBounds = Field(default_factory=PollBounds)
    enabled: bool = True
    language: str = "vi"
    fetch_pages: bool = Field(
        default=True, description="Fetch each entry's page; off for feeds carrying full text"
    )
    listing: ListingRules | None = None
    account: str | None = Field(
        default=None, description="YouTube channel id, Facebook page id or Telegram channel"
    )
    query: str | None = Field(default=None, description="YouTube search terms")

    @model_validator(mode="after")
    def _kind_needs(self) -> Source:
        if (self.kind == SourceKind.LISTING) != (self.listing is not None):
            raise ValueError("'listing' rules are required for kind listing, and only there")
        if self.kind in {SourceKind.FACEBOOK, SourceKind.TELEGRAM} and not self.account:
            raise ValueError(f"kind {self.kind} needs 'account'")
        if self.kind == SourceKind.YOUTUBE and not (self.account or self.query):
            raise ValueError("kind youtube needs 'account' (channel id) or 'query'")
        return self


class TopicMatch(BaseModel):
    id: str
    label_vi: str
    evidence: list[str] = Field(default_factory=list, description="Phrases found in the text")


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class RiskReason(BaseModel):
    """One reason behind a risk score, written for the reviewer, with what it rests on."""

    code: str
    label_vi: str
    weight: float = Field(ge=0, le=1, description="This reason's share of the risk score")
    evidence: list[str] = Field(default_factory=list)


class Classification(BaseModel):
    topics: list[TopicMatch] = Field(default_factory=list)
    sentiment: Sentiment
    sentiment_scores: dict[str, float]
    section: str | None = Field(default=None, description="News section (VNTC's ten)")
    section_probability: float | None = Field(default=None, ge=0, le=1)
    unreliable_probability: float = Field(ge=0, le=1)
    toxicity_probability: float | None = Field(default=None, ge=0, le=1)
    risk: float = Field(ge=0, le=1)
    reasons: list[RiskReason] = Field(default_factory=list)
    signals: dict[str, float] = Field(
        default_factory=dict,
        description="The risk signals' values as scored: reviewers' decisions on the item "
        "later become training rows for the risk model",
    )
    model_versions: dict[str, str] = Field(default_factory=dict)


class Role(StrEnum):
    """Who may do what (api/security.py maps each role to its permissions)."""

    ADMIN = "admin"  # users, sources, settings, the audit log
    REVIEWER = "reviewer"  # monitoring staff: claim, decide, escalate
    ANALYST = "analyst"  # police and the Department: search, trends, exports; no decisions
    VIEWER = "viewer"  # dashboards only


class ReviewState(StrEnum):
    """new → in_review → decided; then escalated → responded for an official answer."""

    NEW = "new"
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    ESCALATED = "escalated"
    RESPONDED = "responded"


OPEN_STATES = frozenset({ReviewState.NEW, ReviewState.IN_REVIEW})
CLOSED_STATES = frozenset({ReviewState.DECIDED, ReviewState.ESCALATED, ReviewState.RESPONDED})


class ReviewOutcome(StrEnum):
    FALSE = "false"
    MISLEADING = "misleading"
    UNVERIFIED = "unverified"
    ACCURATE = "accurate"
    NOT_RELEVANT = "not_relevant"


JUDGED_FALSE = frozenset({ReviewOutcome.FALSE, ReviewOutcome.MISLEADING})


class ReviewAction(StrEnum):
    CLAIM = "claim"  # take the item: new → in_review, held by the caller
    RELEASE = "release"  # give it back: in_review → new
    DECIDE = "decide"  # new/in_review (held by the caller) → decided, with an outcome
    ESCALATE = "escalate"  # decided → escalated, to the police or the responsible agency
    RESPOND = "respond"  # escalated → responded, the official response linked
    REOPEN = "reopen"  # decided/escalated/responded → new, with a reason; audited


class OfficialResponse(BaseModel):
    """The agency's answer that rebuts or confirms an item (linked when it is published)."""

    url: str = Field(min_length=1, max_length=2000)
    agency: str = Field(min_length=1, max_length=200)
    published_at: UtcDatetime | None = None


def _submitted(response: OfficialResponse) -> OfficialResponse:
    _believable(response.published_at)
    return response.model_copy(update={"url": web_url(response.url)})


# A response as a person submits it (review, claims): a believable date and a web link. Stored
# ones (OfficialResponse) are read as they are, so a value written before these rules does not
# lock its page; pages show a link that is not http(s) as text.
SubmittedResponse = Annotated[OfficialResponse, AfterValidator(_submitted)]


class Review(BaseModel):
    """Where an item stands with the people who decide; ``version`` guards concurrent edits."""

    state: ReviewState = ReviewState.NEW
    outcome: ReviewOutcome | None = None
    assignee: str | None = Field(default=None, description="Who holds it (in_review)")
    claimed_at: UtcDatetime | None = None
    reviewer: str | None = Field(default=None, description="Who decided")
    decided_at: UtcDatetime | None = None
    note: str | None = None
    evidence: list[str] = Field(default_factory=list, description="Links backing the decision")
    escalated_to: str | None = Field(default=None, description="Police or the agency asked")
    escalated_at: UtcDatetime | None = None
    response: OfficialResponse | None = None
    responded_at: UtcDatetime | None = None
    due_at: UtcDatetime | None = Field(
        default=None, description="When the current state's target time runs out"
    )
    version: int = 0


class ReviewCommand(BaseModel):
    """One step of the workflow as a reviewer submits it; which fields count depends on
    the action (an outcome to decide, an agency to escalate, a response, a reason to reopen)."""

    model_config = ConfigDict(extra="forbid")

    action: ReviewAction
    expected_version: int | None = Field(
        default=None, ge=0, description="Refuse if someone changed the item since"
    )
    outcome: ReviewOutcome | None = None
    note: str | None = Field(default=None, max_length=4000)
    evidence: list[WebUrl] = Field(default_factory=list, max_length=20)
    agency: str | None = Field(default=None, max_length=200)
    response: SubmittedResponse | None = None
    reason: str | None = Field(default=None, max_length=2000)


class ClaimLinkStatus(StrEnum):
    LINKED = "linked"  # above the upper threshold (and long enough): linked automatically
    SUGGESTED = "suggested"  # between the thresholds: a reviewer confirms or rejects


class ClaimLink(BaseModel):
    """An item's match against the claims register, found when the item was processed."""

    claim_id: str
    similarity: float = Field(ge=0, le=1)
    status: ClaimLinkStatus


class RejectedDate(BaseModel):
    """A publication date as the source wrote it, and why it was recorded as unknown."""

    written: str
    problem: DateProblem


class ContentChange(BaseModel):
    """One field of an item's published content, as stored and as it arrived again (JSON).
    A version still pending (the item judged) has no ``before``: the item's own content is
    what was judged, and :meth:`Document.content_value` gives it."""

    field: str
    before: Any = None
    after: Any = None


class ContentVersion(BaseModel):
    """Content that arrived for an item already stored. An item still new in review takes
    it (``applied``); one a reviewer has taken up keeps the content that was judged, and the
    arrival waits here for the reviewers to see."""

    at: UtcDatetime
    sent_by: str | None = Field(default=None, description="The account that sent it, if any")
    source_id: str
    extractor: str
    applied: bool
    changes: list[ContentChange]


class Document(BaseModel):
    """One item on its way through the pipeline; later stages fill the later fields."""

    id: str
    url: str
    source_id: str
    source_tier: SourceTier
    title: str
    text: str
    authors: list[str] = Field(default_factory=list)
    published_at: UtcDatetime | None = None
    fetched_at: UtcDatetime
    extractor: str = "unknown"
    date_source: str | None = Field(
        default=None, description="Where published_at came from: feed, json-ld, meta, htmldate…"
    )
    date_rejected: RejectedDate | None = Field(
        default=None, description="A publication date given but not believed: kept, with why"
    )
    language: str | None = None
    places: list[str] = Field(
        default_factory=list, description="Gazetteer ids of the province's places it names"
    )
    story_id: str | None = Field(
        default=None, description="Near-duplicates across sources share one story"
    )
    text_folded: str | None = None
    title_folded: str | None = None
    content_hash: str | None = None
    duplicate_of: str | None = None
    classification: Classification | None = None
    claim_matches: list[ClaimLink] = Field(
        default_factory=list, description="Claims of the register this item repeats"
    )
    review: Review = Field(default_factory=Review)
    content_versions: list[ContentVersion] = Field(
        default_factory=list, description="Content that arrived after the item was stored"
    )
    sent_by: str | None = Field(
        default=None,
        description="Who sent this copy (ingest, import): recorded in its content version, "
        "never stored on the item",
    )

    def content_value(self, field: str) -> Any:
        """A content field as JSON, as a version's changes record it (the judged side)."""
        return self.model_dump(mode="json", include={field})[field]

    @model_validator(mode="before")
    @classmethod
    def _bound_published(cls, data: Any) -> Any:
        """An unbelievable date becomes unknown, never an error: the item is still worth
        reading, and the reviewer sees the date as it was written and why it was set aside."""
        value = data.get("published_at") if isinstance(data, dict) else None
        if isinstance(value, str):  # read back from a store written before this rule
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return data
        if not isinstance(value, datetime) or (problem := published_problem(value)) is None:
            return data
        rejected = RejectedDate(written=value.isoformat(), problem=problem)
        return data | {"published_at": None, "date_rejected": rejected}

    def without_authors(self) -> Document:
        """This item with no author named anywhere, its content versions included."""
        versions = [
            v.model_copy(update={"changes": [c for c in v.changes if c.field != "authors"]})
            for v in self.content_versions
        ]
        return self.model_copy(update={"authors": [], "content_versions": versions})

    @property
    def event_time(self) -> datetime:
        """When the item happened for trends and ordering: its date, else when we saw it."""
        return self.published_at or self.fetched_at


SortOrder = Literal["relevance", "newest", "risk"]
