"""Per-source health: is each source answering, and does it bring what it usually brings?

Items are counted by the store (what is there is what is shown); answers and failures come
from the crawl state. A source whose last full day fell far below its own usual volume is
flagged even when every request succeeded: a changed page layout or a moved feed fails quietly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from statistics import median
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from crawlers.state import CrawlState
from index.store import Store
from mediawatch.model import Source, SourceKind, SourceTier

HISTORY_DAYS = 14
FAILURE_DAYS = 7  # calendar days, today included
DROP_SHARE = 0.25  # yesterday under a quarter of the usual day is a drop
MIN_USUAL_PER_DAY = 3  # below this a quiet day is normal, not a drop


class HealthStatus(StrEnum):
    OK = "ok"
    FAILING = "failing"
    VOLUME_DROP = "volume_drop"
    NEVER_READ = "never_read"
    DISABLED = "disabled"


class SourceHealth(BaseModel):
    id: str
    name: str
    kind: SourceKind
    tier: SourceTier
    enabled: bool
    status: HealthStatus
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error_cause: str | None = None
    last_error_detail: str | None = None
    consecutive_failures: int = 0
    poll_interval_minutes: float | None = Field(
        default=None, description="The adaptive interval now in force; none for crontab"
    )
    next_due_at: datetime | None = None
    items_per_day: dict[date, int] = Field(
        description="Items collected per calendar day, today and the previous days"
    )
    items_today: int
    items_yesterday: int
    usual_per_day: float = Field(
        description=f"Median items per day over the {HISTORY_DAYS} days before yesterday"
    )
    volume_drop: bool
    failures_last_7_days: dict[str, int] = Field(
        default_factory=dict, description='Failures by "stage:cause"'
    )


def source_health(
    sources: list[Source], state: CrawlState, store: Store, now: datetime, timezone: str
) -> list[SourceHealth]:
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=HISTORY_DAYS + 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    per_source: dict[str, dict[date, int]] = {}
    for count in store.source_day_counts(since, now + timedelta(seconds=1), timezone):
        per_source.setdefault(count.key, {})[count.day] = count.count
    states = state.states()
    failures = state.failure_counts(now - timedelta(days=FAILURE_DAYS - 1))
    report = []
    for source in sources:
        days = per_source.get(source.id, {})
        yesterday = days.get(today - timedelta(days=1), 0)
        usual = float(
            median(days.get(first_day + timedelta(days=n), 0) for n in range(HISTORY_DAYS))
        )
        drop = usual >= MIN_USUAL_PER_DAY and yesterday < DROP_SHARE * usual
        known = states.get(source.id)
        if not source.enabled:
            status = HealthStatus.DISABLED
        elif known is None:
            status = HealthStatus.NEVER_READ
        elif known.consecutive_failures:
            status = HealthStatus.FAILING
        elif drop:
            status = HealthStatus.VOLUME_DROP
        else:
            status = HealthStatus.OK
        report.append(
            SourceHealth(
                id=source.id,
                name=source.name,
                kind=source.kind,
                tier=source.tier,
                enabled=source.enabled,
                status=status,
                last_success_at=known.last_success_at if known else None,
                last_error_at=known.last_error_at if known else None,
                last_error_cause=known.last_error_cause if known else None,
                last_error_detail=known.last_error_detail if known else None,
                consecutive_failures=known.consecutive_failures if known else 0,
                poll_interval_minutes=(
                    known.interval.total_seconds() / 60 if known and known.interval else None
                ),
                next_due_at=known.next_due_at if known else None,
                items_per_day=dict(sorted(days.items())),
                items_today=days.get(today, 0),
                items_yesterday=yesterday,
                usual_per_day=usual,
                volume_drop=drop,
                failures_last_7_days=failures.get(source.id, {}),
            )
        )
    return report
