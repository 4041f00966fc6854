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
from mediawatch.model import JUDGED_FALSE, ClaimLinkStatus, Document, ReviewState


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
    """Entered the review queue: risky enough, linked to a judged claim, or picked up."""
    risk = document.classification.risk if document.classification else 0.0
    linked = any(link.status == ClaimLinkStatus.LINKED for link in document.claim_matches)
    picked = document.review.state != ReviewState.NEW
    return picked or (document.duplicate_of is None and (risk >= threshold or linked))


def yearly_tables(
    documents: Iterable[Document],
    since: datetime,
    until: datetime,
    threshold: float,
    topic_labels: dict[str, str],
) -> list[Table]:
    """The report's four sheets from the items of the period (one pass, any number)."""
    tiers: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    topics: dict[str, _Group] = defaultdict(_Group)
    agencies: dict[str, _Agency] = defaultdict(_Agency)
    total = in_queue = escalated = responded = 0
    decisions = []
    for document in documents:
        review = document.review
        total += 1
        tiers[document.source_tier.value] += 1
        in_queue += queued(document, threshold)
        to_decision = _hours(document.fetched_at, review.decided_at)
        to_response = _hours(review.escalated_at, review.responded_at)
        escalated += review.escalated_at is not None
        responded += review.responded_at is not None
        if review.outcome is not None:
            outcomes[review.outcome.value] += 1
            decisions.append(
                [
                    document.id,
                    document.title,
                    OUTCOME_VI.get(review.outcome.value, review.outcome.value),
                    review.reviewer or "",
                    document.fetched_at,
                    review.decided_at,
                    round(to_decision, 1) if to_decision is not None else None,
                    review.escalated_to or "",
                    review.escalated_at,
                    review.responded_at,
                    round(to_response, 1) if to_response is not None else None,
                ]
            )
        topic_ids = (
            [t.id for t in document.classification.topics] if document.classification else []
        )
        for topic in topic_ids or ["(không chủ đề)"]:
            group = topics[topic]
            group.items += 1
            group.decided += review.outcome is not None
            group.judged_false += review.outcome in JUDGED_FALSE
            if to_decision is not None:
                group.to_decision.append(to_decision)
            if to_response is not None:
                group.to_response.append(to_response)
        if review.escalated_to:
            agency = agencies[review.escalated_to]
            agency.escalated += 1
            if to_response is not None:
                agency.responded += 1
                agency.to_response.append(to_response)

    overview: list[list[object]] = [
        ["Từ", since],
        ["Đến (không gồm)", until],
        ["Tin thu thập", total],
    ]
    overview += [[f"Tin thu thập – {TIER_VI.get(t, t)}", n] for t, n in sorted(tiers.items())]
    overview.append(["Tin vào hàng chờ xem xét", in_queue])
    overview += [[f"Kết luận – {label}", outcomes[key]] for key, label in OUTCOME_VI.items()]
    overview += [
        ["Chuyển cơ quan chức năng", escalated],
        ["Có phản hồi chính thức", responded],
    ]
    by_topic = [
        [
            topic_labels.get(topic, topic),
            group.items,
            group.decided,
            group.judged_false,
            _stat(group.to_decision, 50),
            _stat(group.to_response, 50),
        ]
        for topic, group in sorted(topics.items(), key=lambda item: (-item[1].items, item[0]))
    ]
    by_agency = [
        [
            name,
            agency.escalated,
            agency.responded,
            _stat(agency.to_response, 50),
            _stat(agency.to_response, 90),
            agency.escalated - agency.responded,
        ]
        for name, agency in sorted(agencies.items())
    ]
    return [
        Table("Tổng quan", ["Chỉ tiêu", "Giá trị"], overview),
        Table(
            "Theo chủ đề",
            [
                "Chủ đề",
                "Số tin",
                "Đã kết luận",
                "Sai sự thật / gây hiểu lầm",
                "Trung vị thời gian đến kết luận (giờ)",
                "Trung vị thời gian đến phản hồi chính thức (giờ)",
            ],
            by_topic,
        ),
        Table(
            "Theo cơ quan",
            [
                "Cơ quan",
                "Đã chuyển",
                "Đã phản hồi",
                "Trung vị thời gian phản hồi (giờ)",
                "Phân vị 90 thời gian phản hồi (giờ)",
                "Còn chờ",
            ],
            by_agency,
        ),
        Table(
            "Quyết định",
            [
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
            ],
            sorted(decisions, key=lambda row: (row[5], row[0])),
        ),
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
