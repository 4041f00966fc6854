"""The classify benchmark, small: its items, its timing hook and a whole run, so it cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.classify import measure
from bench.classify.__main__ import main
from bench.classify.items import MIX, load_items
from classifier.service import Classifier
from classifier.timing import StageTimes
from mediawatch.model import SourceTier
from tests.conftest import shared_path

REPO_ROOT = Path(__file__).resolve().parents[1]
STAGES = {
    "normalise",
    "features",
    "predict sentiment",
    "predict reliability",
    "predict section",
    "predict toxicity",
    "predict tone",  # the press and official items of the mix
    "topics",
    "risk",
    "results",
    measure.OTHER,
}


def test_items_follow_the_mix_with_press_titles_and_tiers() -> None:
    data = shared_path("data")
    items = load_items(400, data)
    assert len(items.items) == len(items.sets) == 400
    counts = Counter(items.sets)
    assert {share.dataset: round(400 * share.share) for share in MIX} == counts
    for item, name in zip(items.items, items.sets, strict=True):
        assert item.text
        assert item.tier == (SourceTier.PRESS if name in {"vntc", "vfnd"} else SourceTier.SOCIAL)
        assert bool(item.title) == (name == "vntc")
    assert items.sets[:50] != sorted(items.sets[:50]), "batches must mix the sets"
    assert load_items(400, data).items == items.items


def test_without_shared_data_the_demo_items_are_repeated_and_said_so(tmp_path: Path) -> None:
    items = load_items(90, tmp_path / "absent")
    assert len(items.items) == 90
    assert len(set(items.items)) < 90
    assert "absent" in items.described and "demo" in items.described


def test_timed_classification_equals_untimed_and_every_stage_is_counted() -> None:
    items = load_items(60, Path("/nonexistent")).items
    classifier = Classifier.load()
    timer = StageTimes()
    assert classifier.classify_batch(items, timer) == Classifier.load().classify_batch(items)
    assert set(timer.seconds) == STAGES - {measure.OTHER}
    assert all(seconds > 0 for seconds in timer.seconds.values())

    run = measure.run_ours(classifier, items, 25)
    assert set(run.stages) == STAGES
    assert abs(sum(run.shares().values()) - 1) < 1e-9


def test_a_whole_run_prints_items_per_second_and_stage_shares_that_add_up() -> None:
    data = shared_path("data")
    finished = subprocess.run(
        [sys.executable, "-m", "bench.classify", "--items", "200", "--repeat", "1"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = finished.stdout
    assert f"200 items from {data}" in out
    assert re.search(r"mediawatch classify stage\s+│\s+200 │\s+[\d.]+ │\s+[\d,]+ │\s+[\d.]+ │", out)
    assert re.search(r"baseline TF-IDF \+ LR\s+│\s+200 │", out)
    shares = {
        stage.strip(): float(share)
        for stage, share in re.findall(r"│ ([^│]+?)\s+│\s+[\d.]+ │\s+([\d.]+)% │\s+[\d,]+ │", out)
    }
    assert set(shares) == STAGES
    assert abs(sum(shares.values()) - 100) < 0.5
    assert re.search(r"[\d,]+ items/s (meets|MISSES) the target ≥ 500 items/s", out)


@pytest.mark.parametrize("option", ["--items", "--repeat", "--batch"])
def test_a_count_below_one_is_refused_by_name(option: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([option, "0"])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be at least 1, not 0" in capsys.readouterr().err
