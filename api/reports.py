"""The yearly report the provincial plan asks for by 30/11: what was collected, what was
decided, and how fast decisions and official responses came, per topic and per agency.

Time to decision is decided_at − fetched_at (from when we had the item); time to response is
responded_at − escalated_at (from when we asked). Figures are hours, one decimal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO
from zoneinfo import ZoneInfo

import numpy as np

from api.exports import Table, walk, write_xlsx
from dashboards.formatting import OUTCOME_VI, TIER_VI
from index.query import SearchQuery
from index.store import Store
from mediawatch.model import JUDGED_FALSE, Document, ReviewState


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600


def _stat(values: list[float], percentile: float) -> float | None:
    return round(float(np.percentile(values, percentile)), 1) if values else None


@dataclass
class _Group:
    items: int = 0
    decided: int = 0
    judged_false: int = 0
    to_decision: list[float] = field(default_factory=list)
    to_response: list[float] = field(default_factory=list)


@dataclass
class _Agency:
    escalated: int = 0
    responded: int = 0
    to_response: list[float] = field(default_factory=list)


def queued(document: Document, threshold: float) -> bool:
    """Entered the review queue as the stores decide it: risky enough or matching a claim of
    the register (linked or suggested), not a copy; or picked up by a reviewer anyway."""
    risk = document.classification.risk if document.classification else 0.0
    picked = document.review.state != ReviewState.NEW
    return picked or (
        document.duplicate_of is None and (risk >= threshold or bool(document.claim_matches))
    )


DECISION_HEADERS = [
    "Mã tin",
    "Tiêu đề",
    "Kết luận",
    "Người kết luận",
    "Thu thập lúc",
    "Kết luận lúc",
    "Giờ đến kết luận",
    "Chuyển tới",
    "Chuyển lúc",
    "Phản hồi lúc",
    "Giờ đến phản hồi",
]
TOPIC_HEADERS = [
    "Chủ đề",
    "Số tin",
    "Đã kết luận",
    "Sai sự thật / gây hiểu lầm",
    "Trung vị thời gian đến kết luận (giờ)",
    "Trung vị thời gian đến phản hồi chính thức (giờ)",
]
AGENCY_HEADERS = [
    "Cơ quan",
    "Đã chuyển",
    "Đã phản hồi",
    "Trung vị thời gian phản hồi (giờ)",
    "Phân vị 90 thời gian phản hồi (giờ)",
    "Còn chờ",
]
NO_TOPIC = "(không chủ đề)"


class _Tally:
    """Everything the report counts, gathered in one pass over the period's items."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.total = self.queued = self.escalated = self.responded = 0
        self.tiers: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.topics: dict[str, _Group] = defaultdict(_Group)
        self.agencies: dict[str, _Agency] = defaultdict(_Agency)
        self.decisions: list[tuple[datetime, str, list[object]]] = []  # (decided, id, row)

    def add(self, document: Document) -> None:
        review = document.review
        to_decision = _hours(document.fetched_at, review.decided_at)
        to_response = _hours(review.escalated_at, review.responded_at)
        self.total += 1
        self.tiers[document.source_tier.value] += 1
        self.queued += queued(document, self.threshold)
        self.escalated += review.escalated_at is not None
        self.responded += review.responded_at is not None
        if review.outcome is not None:
            self.outcomes[review.outcome.value] += 1
            row = _decision_row(document, to_decision, to_response)
            self.decisions.append((review.decided_at or document.fetched_at, document.id, row))
        topics = [t.id for t in document.classification.topics] if document.classification else []
        for topic in topics or [NO_TOPIC]:
            group = self.topics[topic]
            group.items += 1
            group.decided += review.outcome is not None
            group.judged_false += review.outcome in JUDGED_FALSE
            group.to_decision += [] if to_decision is None else [to_decision]
            group.to_response += [] if to_response is None else [to_response]
        if review.escalated_to:
            agency = self.agencies[review.escalated_to]
            agency.escalated += 1
            if to_response is not None:
                agency.responded += 1
                agency.to_response.append(to_response)

    def overview(self, since: datetime, until: datetime) -> Table:
        rows: list[list[object]] = [
            ["Từ", since],
            ["Đến (không gồm)", until],
            ["Tin thu thập", self.total],
        ]
        rows += [[f"Tin thu thập – {TIER_VI.get(t, t)}", n] for t, n in sorted(self.tiers.items())]
        rows.append(["Tin vào hàng chờ xem xét", self.queued])
        rows += [[f"Kết luận – {label}", self.outcomes[key]] for key, label in OUTCOME_VI.items()]
        rows.append(["Chuyển cơ quan chức năng", self.escalated])
        rows.append(["Có phản hồi chính thức", self.responded])
        return Table("Tổng quan", ["Chỉ tiêu", "Giá trị"], rows)

    def by_topic(self, labels: dict[str, str]) -> Table:
        ranked = sorted(self.topics.items(), key=lambda item: (-item[1].items, item[0]))
        rows = [
            [
                labels.get(topic, topic),
                group.items,
                group.decided,
                group.judged_false,
                _stat(group.to_decision, 50),
                _stat(group.to_response, 50),
            ]
            for topic, group in ranked
        ]
        return Table("Theo chủ đề", TOPIC_HEADERS, rows)

    def by_agency(self) -> Table:
        rows = [
            [
                name,
                agency.escalated,
                agency.responded,
                _stat(agency.to_response, 50),
                _stat(agency.to_response, 90),
                agency.escalated - agency.responded,
            ]
            for name, agency in sorted(self.agencies.items())
        ]
        return Table("Theo cơ quan", AGENCY_HEADERS, rows)

    def decided(self) -> Table:
        rows = [row for _, _, row in sorted(self.decisions, key=lambda d: (d[0], d[1]))]
        return Table("Quyết định", DECISION_HEADERS, rows)


def _decision_row(
    document: Document, to_decision: float | None, to_response: float | None
) -> list[object]:
    review = document.review
    outcome = review.outcome.value if review.outcome else ""
    return [
        document.id,
        document.title,
        OUTCOME_VI.get(outcome, outcome),
        review.reviewer or "",
        document.fetched_at,
        review.decided_at,
        None if to_decision is None else round(to_decision, 1),
        review.escalated_to or "",
        review.escalated_at,
        review.responded_at,
        None if to_response is None else round(to_response, 1),
    ]


def yearly_tables(
    documents: Iterable[Document],
    since: datetime,
    until: datetime,
    threshold: float,
    topic_labels: dict[str, str],
) -> list[Table]:
    """The report's four sheets from the items of the period (one pass, any number)."""
    tally = _Tally(threshold)
    for document in documents:
        tally.add(document)
    return [
        tally.overview(since, until),
        tally.by_topic(topic_labels),
        tally.by_agency(),
        tally.decided(),
    ]


def period(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """Local midnight of ``first`` to local midnight after ``last``: both days included."""
    zone = ZoneInfo(timezone)
    return datetime.combine(first, time(), zone), datetime.combine(
        last + timedelta(days=1), time(), zone
    )


def write_yearly_report(
    store: Store,
    first: date,
    last: date,
    out: IO[bytes] | str,
    *,
    threshold: float,
    timezone: str,
    topic_labels: dict[str, str],
) -> int:
    """The report for items of ``first`` to ``last`` (local days, by event time) as XLSX;
    returns the number of items it covers."""
    since, until = period(first, last, timezone)
    pages = walk(store, SearchQuery(since=since, until=until))
    counted = 0

    def documents() -> Iterable[Document]:
        nonlocal counted
        for _, page in pages:
            counted += len(page)
            yield from page

    write_xlsx(yearly_tables(documents(), since, until, threshold, topic_labels), out, timezone)
    return counted
