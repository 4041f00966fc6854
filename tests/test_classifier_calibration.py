"""Reliability curves and temperature calibration: over-confident models are brought back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from scipy.special import softmax

from classifier.calibration import fit_temperature
from classifier.cards import write_card_markdown
from classifier.linear import LinearTextModel
from classifier.train import (
    TASKS,
    expected_calibration_error,
    reliability_curve,
    train_task,
)
from tests.labelled_data import write_toxicity_data


def test_curve_of_the_positive_class_for_two_classes():
    # 40 items said 5 % positive, 2 of them are; 60 said 90 %, 57 of them are.
    probabilities = np.array([[0.95, 0.05]] * 40 + [[0.1, 0.9]] * 60)
    truth = ["toxic"] * 2 + ["clean"] * 38 + ["toxic"] * 57 + ["clean"] * 3
    curve = reliability_curve(probabilities, truth, ["clean", "toxic"])
    assert curve["of"] == "P(toxic)"
    assert curve["bins"] == [
        {"mean_predicted": 0.05, "observed": 0.05, "count": 40},
        {"mean_predicted": 0.9, "observed": 0.95, "count": 60},
    ]


def test_curve_of_the_top_class_for_many_classes():
    # Top class 0.5 (a): right once in four; top class 0.8 (c): right three times in four.
    probabilities = np.array([[0.5, 0.3, 0.2]] * 4 + [[0.1, 0.1, 0.8]] * 4)
    truth = ["a", "b", "b", "c", "c", "c", "c", "a"]
    curve = reliability_curve(probabilities, truth, ["a", "b", "c"])
    assert curve["of"] == "top-class probability"
    assert [(b["mean_predicted"], b["observed"], b["count"]) for b in curve["bins"]] == [
        (0.5, 0.25, 4),
        (0.8, 0.75, 4),
    ]


def test_temperature_undoes_scores_made_over_confident():
    rng = np.random.default_rng(3)
    true_scores = rng.normal(0, 1.5, size=(4000, 3))
    truth = np.array([rng.choice(3, p=p) for p in softmax(true_scores, axis=1)])
    over_confident = 4 * true_scores  # the same ranking, four times as sure
    temperature = fit_temperature(over_confident, truth)
    assert 3.4 < temperature < 4.6
    labels = [str(t) for t in truth]
    before = expected_calibration_error(softmax(over_confident, axis=1), labels, ["0", "1", "2"])
    after = expected_calibration_error(
        softmax(over_confident / temperature, axis=1), labels, ["0", "1", "2"]
    )
    assert before > 0.1
    assert after < 0.03


def test_training_calibrates_an_over_confident_model_in_the_same_file_format(tmp_path: Path):
    # Labels drawn from a logistic function, little regularisation: the pooled logistic fit
    # (the reliability model's method) is over-confident.
    data = write_toxicity_data(tmp_path / "data", {"train": 400, "dev": 300}, seed=2, sharpness=0.7)
    spec = dataclasses.replace(TASKS["toxicity"], regularisation=30.0, experts=False)
    model = train_task(spec, data, seed=13)

    metrics = model.card.metrics
    calibration = metrics["calibration"]
    assert calibration["temperature"] > 1.5
    assert calibration["dev_ece_before"] > 0.05
    assert metrics["dev"]["expected_calibration_error"] < 0.5 * calibration["dev_ece_before"]
    assert "Calibrated" in model.card.notes
    curve = metrics["reliability_curve"]["dev"]
    assert curve["of"] == "P(toxic)"
    assert sum(b["count"] for b in curve["bins"]) == metrics["dev"]["n"]

    model.save(tmp_path / "models")
    again = LinearTextModel.load(tmp_path / "models", "toxicity")
    texts = ["cảm ơn bạn, tuyệt vời", "đồ ngu cút đi"]
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    card = write_card_markdown(again.card, tmp_path / "models").read_text(encoding="utf-8")
    assert "## Reliability curve on dev (P(toxic), 10 bins)" in card
    assert f"temperature {calibration['temperature']}" in card
    first = curve["bins"][0]
    assert f"| {first['mean_predicted']} | {first['observed']} | {first['count']} |" in card
