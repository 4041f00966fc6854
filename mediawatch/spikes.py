"""Spikes: a key (topic, place) whose latest window jumps against its own baseline.

Counts of items are small and bursty, so a z-score on a baseline of zeros calls 0 → 2 a
spike. Instead, the baseline's mean is a Poisson rate and the latest count must be unlikely
under it (upper tail probability at most ``p_value``), *and* large enough to matter in
absolute terms (``min_count``) and relative ones (``min_ratio`` times the baseline). A floor on
the rate (``min_rate``) keeps a key never seen before from spiking on a handful of items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scipy.stats import poisson

from mediawatch.config import SpikeSettings


@dataclass(frozen=True, slots=True)
class Spike:
    key: str
    count: int
    baseline: float  # mean count per window over the baseline
    ratio: float
    p_value: float


def detect(
    series: Mapping[str, Sequence[int]], settings: SpikeSettings, min_count: int | None = None
) -> list[Spike]:
    """Each key's series is its baseline windows, oldest first, then the latest window.
    Spikes are returned most surprising first."""
    floor = settings.min_count if min_count is None else min_count
    spikes = []
    for key, counts in series.items():
        *baseline, latest = counts
        if not baseline or latest < floor:
            continue
        mean = sum(baseline) / len(baseline)
        rate = max(mean, settings.min_rate)
        ratio = latest / rate
        p_value = float(poisson.sf(latest - 1, rate))  # P(X >= latest)
        if ratio >= settings.min_ratio and p_value <= settings.p_value:
            spikes.append(Spike(key, latest, mean, ratio, p_value))
    return sorted(spikes, key=lambda spike: (spike.p_value, -spike.count, spike.key))


def windows(
    counts: Iterable[tuple[datetime, str, int]], end: datetime, width: timedelta, number: int
) -> dict[str, list[int]]:
    """Fold (bucket start, key, count) rows into ``number`` windows of ``width`` that end at
    ``end``, oldest first; rows outside them are ignored."""
    start = end - width * number
    series: dict[str, list[int]] = {}
    for at, key, count in counts:
        if start <= at < end:
            slot = int((at - start) / width)
            series.setdefault(key, [0] * number)[slot] += count
    return series
