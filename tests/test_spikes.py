"""The spike rule on made-up series: flat is quiet, a real jump raises, a tiny one does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from mediawatch.config import SpikeSettings
from mediawatch.spikes import detect, windows

SETTINGS = SpikeSettings()


def test_a_flat_series_raises_nothing():
    assert detect({"land": [10] * 14 + [10], "tourism": [3, 4, 2] * 4 + [3, 3, 4]}, SETTINGS) == []


def test_a_jump_against_the_own_baseline_raises():
    spikes = detect({"land": [3] * 14 + [20], "tourism": [30] * 14 + [32]}, SETTINGS)
    assert [spike.key for spike in spikes] == ["land"]
    assert spikes[0].baseline == 3 and spikes[0].count == 20
    assert spikes[0].p_value < 1e-6


def test_a_big_key_needs_a_big_jump_its_small_neighbour_does_not():
    """20 is a spike for a key that usually has 3, not for one that usually has 15."""
    assert detect({"a": [15] * 14 + [20]}, SETTINGS) == []
    assert detect({"a": [15] * 14 + [45]}, SETTINGS)[0].key == "a"


def test_small_absolute_jumps_do_not_raise():
    assert detect({"new": [0] * 14 + [2]}, SETTINGS) == []
    assert detect({"rare": [0, 1] * 7 + [4]}, SETTINGS) == []  # under min_count
    assert detect({"new": [0] * 14 + [6]}, SETTINGS)[0].key == "new"


def test_windows_fold_buckets_oldest_first():
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    rows = [
        (end - timedelta(hours=1), "a", 2),
        (end - timedelta(hours=23), "a", 1),
        (end - timedelta(hours=25), "a", 5),
        (end - timedelta(hours=49), "b", 7),  # before the first window
        (end, "a", 9),  # after the last
    ]
    assert windows(rows, end, timedelta(days=1), 2) == {"a": [5, 3]}


def test_on_simulated_counts_false_alarms_are_rare_and_real_bursts_found():
    """Poisson series with a fixed seed: a z-score above 3 raises on about 1% of flat
    series at three items a day; this rule on 0.1–0.2%, and still finds a fivefold burst."""
    rng = np.random.default_rng(7)
    flat = {f"k{i}": list(rng.poisson(3, 15)) for i in range(5000)}
    assert len(detect(flat, SETTINGS)) / len(flat) < 0.003
    bursts = {f"k{i}": [*rng.poisson(10, 14), rng.poisson(50)] for i in range(2000)}
    assert len(detect(bursts, SETTINGS)) / len(bursts) > 0.95
