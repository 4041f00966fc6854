"""A model per data set, mixed by a gate: what one pooled model cannot learn, it does."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np

from classifier.labelled_data import Example
from classifier.linear import LinearTextModel
from classifier.train import TaskSpec, evaluate, train_task

# Two sources whose annotators read the same words the opposite way (as student feedback and
# product reviews do), each recognisable by its own vocabulary: so many words that no pair of
# a marker and its neighbour repeats enough for a pooled model to learn the combination.
VOCABULARY = {
    source: [f"{stem}{a}{b}" for a in "aeiou" for b in "mnpqrstv"]
    for source, stem in (("lop", "gk"), ("shop", "zx"))
}
MEANING = {
    "lop": {"nhanh": "positive", "chậm": "negative"},
    "shop": {"nhanh": "negative", "chậm": "positive"},
}


def _examples(split: str, count: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    rows = []
    for source, words in VOCABULARY.items():
        for i in range(count):
            marker = rng.choice(["nhanh", "chậm"])
            text = " ".join([*rng.sample(words, 4), marker, *rng.sample(words, 2)])
            rows.append(Example(f"{source}-{split}-{i}", text, MEANING[source][marker], source))
    return rows


def _splits(_data_dir: Path) -> dict[str, list[Example]]:
    return {
        "train": _examples("train", 200, 1),
        "dev": _examples("dev", 60, 2),
        "test": _examples("test", 60, 3),
    }


SPEC = TaskSpec(
    task="tone", classes=("negative", "positive"), datasets=(), examples=_splits, experts=True
)


def test_experts_learn_what_each_source_means_and_survive_save_and_load(tmp_path: Path):
    model = train_task(SPEC, tmp_path, seed=13)

    assert model.card.experts == ["lop", "shop"] and model.gate is not None
    test = _splits(tmp_path)["test"]
    for source in VOCABULARY:
        own = [e for e in test if e.source == source]
        assert evaluate(model, own)["accuracy"] > 0.95, source
    assert model.card.metrics["test"]["macro_f1"] > 0.95
    # Chosen by cross-validation on train, for each expert, and again once dev is added.
    selection = model.card.metrics["selection"]
    assert set(selection) == {"train", "train_and_dev"}
    assert set(selection["train"]) == {"lop", "shop"}
    assert model.card.data["train_used"] == 520

    model.save(tmp_path / "models")
    again = LinearTextModel.load(tmp_path / "models", "tone")
    texts = [e.text for e in test[:10]]
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-6)


def test_one_pooled_model_cannot_learn_both_meanings(tmp_path: Path):
    pooled = train_task(dataclasses.replace(SPEC, experts=False), tmp_path, seed=13)

    accuracies = [
        evaluate(pooled, [e for e in _splits(tmp_path)["test"] if e.source == source])["accuracy"]
        for source in VOCABULARY
    ]
    assert min(accuracies) < 0.8


def test_the_dev_figures_are_those_of_the_fit_on_train_alone(tmp_path: Path):
    on_train = train_task(SPEC, tmp_path, seed=13, refit=False)
    shipped = train_task(SPEC, tmp_path, seed=13)

    assert on_train.card.data["train_used"] == 400
    assert shipped.card.metrics["dev"] == on_train.card.metrics["dev"]
    assert not np.allclose(shipped.coef, on_train.coef)
