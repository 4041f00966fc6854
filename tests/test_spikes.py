"""The spike rule on made-up series: flat is quiet, a real jump raises, a tiny one does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
