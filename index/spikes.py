"""Current spikes in the store: what the spike rule finds in the latest windows of counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from index.query import TrendQuery
from index.store import Store
from mediawatch.config import SpikeSettings
from mediawatch.model import SourceTier, UtcDatetime, utc_now
from mediawatch.spikes import detect, windows

SpikeDimension = Literal["topic", "place"]


class SpikeReport(BaseModel):
    dimension: SpikeDimension
    key: str
    window: Literal["day", "hour"] = Field(
        description="day: last 24 hours against the baseline days; hour: social posts in the "
        "last hour against the baseline hours"
    )
    window_end: UtcDatetime
    count: int
    baseline: float = Field(description="Mean count per window over the baseline")
    ratio: float
    p_value: float


def current_spikes(
    store: Store,
    settings: SpikeSettings,
    timezone: str,
    scope: TrendQuery | None = None,
    now: datetime | None = None,
) -> list[SpikeReport]:
    """Spikes by topic and by place within ``scope``'s filters (its window is ignored),
    in windows ending at the last whole hour. The daily rule looks at every tier; the hourly
    one at social posts only, whose bursts a day's count would hide."""
    end = (now or utc_now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    base = scope or TrendQuery(since=end - timedelta(days=1), until=end)
    rules: list[tuple[Literal["day", "hour"], timedelta, int, int, list[SourceTier]]] = [
        ("day", timedelta(days=1), settings.baseline_days, settings.min_count, base.tiers)
    ]
    if not base.tiers or SourceTier.SOCIAL in base.tiers:
        hours = settings.social_baseline_hours
        rules.append(
            ("hour", timedelta(hours=1), hours, settings.min_count_hourly, [SourceTier.SOCIAL])
        )
    reports = []
    for window, width, baseline, min_count, tiers in rules:
        for dimension in ("topic", "place"):
            query = base.scoped(
                since=end - width * (baseline + 1),
                until=end,
                interval="hour",
                dimension=dimension,
                tiers=tiers,
            )
            rows = ((b.start, b.key, b.count) for b in store.trend_counts(query, timezone))
            series = windows(rows, end, width, baseline + 1)
            reports += [
                SpikeReport(
                    dimension=dimension,
                    key=spike.key,
                    window=window,
                    window_end=end,
                    count=spike.count,
                    baseline=spike.baseline,
                    ratio=spike.ratio,
                    p_value=spike.p_value,
                )
                for spike in detect(series, settings, min_count)
            ]
    return reports
