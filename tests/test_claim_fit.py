"""Fitting the claim matcher: thresholds chosen for the register's targets, reproducibly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from classifier.claim_fit import _Text, choose_thresholds, rates_at
from classifier.claim_matching import MATCHING_MODEL, MatchingModel
from classifier.claims_evaluation import ClaimItem, read_register
from mediawatch.cli import app
from mediawatch.config import ClaimSettings
from tests.conftest import REPO, shared_path


def _text(line: int, claim_id: str | None, rows: list[tuple[int, str]]) -> _Text:
    item = ClaimItem(line=line, id=f"t{line}", text="…", claim_id=claim_id)
    return _Text(item, "set", rows)


def test_thresholds_give_the_link_precision_and_the_best_offer_worked_out_by_hand():
    # Four repeats of claim "a" and two texts that repeat nothing, each scored against "a".
    probabilities = np.array([0.95, 0.8, 0.6, 0.3, 0.7, 0.2])
    texts = [
        _text(1, "a", [(0, "a")]),
        _text(2, "a", [(1, "a")]),
        _text(3, "a", [(2, "a")]),
        _text(4, "a", [(3, "a")]),
        _text(5, None, [(4, "a")]),
        _text(6, None, [(5, "a")]),
    ]
    link, suggest = choose_thresholds(texts, probabilities)
    # From 0.71 only repeats are linked (0.95, 0.8): the lowest such threshold.
    assert link == 0.71
    assert rates_at(texts, probabilities, link, link)["link"] == {
        "precision": 1.0,
        "recall": 0.5,
        "matches": 2,
        "right": 2,
    }
    # Recall 0.9 needs all four repeats: offered from 0.3 (one of six offers wrong).
    assert suggest == 0.3
    assert rates_at(texts, probabilities, link, suggest)["surfaced"]["recall"] == 1.0


def test_a_register_keeps_one_claim_per_statement(tmp_path: Path):
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        '{"id": "x1", "statement": "Đập Đại Ninh đã bị nứt."}\n'
        '{"id": "y4", "statement": "Đập Đại Ninh đã bị nứt."}\n'
        '{"id": "z2", "statement": "Giá điện tăng gấp đôi."}\n',
        encoding="utf-8",
    )
    data = tmp_path / "data.jsonl"
    data.write_text(
        '{"text": "đập nứt rồi", "claim_id": "y4"}\n{"text": "điện x2", "claim_id": "z2"}\n',
        encoding="utf-8",
    )
    kept, items = read_register(claims, data)
    assert kept == {"x1": "Đập Đại Ninh đã bị nứt.", "z2": "Giá điện tăng gấp đôi."}
    assert [item.claim_id for item in items] == ["x1", "z2"]


def test_the_settings_use_the_thresholds_chosen_with_the_shipped_matcher():
    model = MatchingModel.load()
    settings = ClaimSettings()
    assert (settings.link_threshold, settings.suggest_threshold) == (
        model.link_threshold,
        model.suggest_threshold,
    )
    chosen = model.metrics["out_of_fold_at_thresholds"]["lamdong_dev"]
    assert chosen["link"]["precision"] >= 0.95
    assert set(model.data["sets"]) == {"vifactcheck_dev", "lamdong_dev"}


def test_train_matcher_reproduces_the_shipped_matcher_from_the_dev_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    data = shared_path("data/claim_pairs/dev.jsonl.gz").parents[1]
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        app, ["train-matcher", "--data-dir", str(data), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    fitted = json.loads((tmp_path / "claim_matching.json").read_text(encoding="utf-8"))
    shipped = json.loads(MATCHING_MODEL.read_text(encoding="utf-8"))
    assert fitted["coefficients"] == pytest.approx(shipped["coefficients"], abs=1e-6)
    assert (fitted["link_threshold"], fitted["suggest_threshold"]) == (
        shipped["link_threshold"],
        shipped["suggest_threshold"],
    )
