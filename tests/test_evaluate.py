"""`mediawatch evaluate`: the fixed interface the models are judged by, run as a command."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from typer.testing import CliRunner

from classifier.features import FeaturizerConfig
from classifier.labelled_data import Example, read_jsonl
from classifier.linear import LinearTextModel, ModelCard
from classifier.train import evaluate
from mediawatch.cli import app
from tests.conftest import shared_path

ROWS_PER_TASK = 200
DEV_FILES = {
    "section": ["vntc/dev.jsonl.gz"],
    "sentiment": ["uit_vsfc/dev.jsonl.gz"],
    "toxicity": ["vihsd/dev.jsonl.gz", "victsd/dev.jsonl.gz"],
    "reliability": ["reintel/train.jsonl.gz"],
}
POSITIVE = {"toxicity": "toxic", "reliability": "unreliable"}


def run_evaluate(*args: str):
    return CliRunner().invoke(app, ["evaluate", *map(str, args)])


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return path


def real_rows(task: str) -> list[dict]:
    """The first rows of the task's dev files, shared out among them, extra fields kept."""
    files = DEV_FILES[task]
    rows: list[dict] = []
    for name in files:
        rows += read_jsonl(shared_path(f"data/{name}"))[: ROWS_PER_TASK // len(files)]
    return rows


@pytest.mark.parametrize("task", list(DEV_FILES))
def test_evaluate_prints_one_json_object_with_the_scores(task: str, tmp_path: Path):
    rows = real_rows(task)
    result = run_evaluate("--task", task, "--data", write_jsonl(tmp_path / "dev.jsonl.gz", rows))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert report["task"] == task
    assert report["n"] == len(rows)
    # The shipped models are trained on these sets: well above chance on their own dev rows.
    assert 0.5 < report["accuracy"] <= 1 and 0.3 < report["macro_f1"] <= 1
    per_class = report["per_class"]
    assert sum(c["support"] for c in per_class.values()) == len(rows)
    assert report["macro_f1"] == pytest.approx(
        np.mean([c["f1"] for c in per_class.values()]), abs=1e-3
    )
    if task in POSITIVE:
        assert report["positive_class"] == POSITIVE[task]
        assert 0.5 < report["roc_auc"] <= 1
    else:
        assert "roc_auc" not in report


def test_dataset_label_names_are_mapped_onto_the_models(tmp_path: Path):
    rows = read_jsonl(shared_path("data/vfnd/train.jsonl.gz"))[:60]
    assert {r["label"] for r in rows} == {"fake", "real"}
    result = run_evaluate(
        "--task", "reliability", "--data", write_jsonl(tmp_path / "vfnd.jsonl", rows)
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["labels_mapped"] == {"fake": "unreliable", "real": "reliable"}
    support = {label: c["support"] for label, c in report["per_class"].items()}
    assert support["unreliable"] == sum(r["label"] == "fake" for r in rows)
    assert support["reliable"] == sum(r["label"] == "real" for r in rows)


def test_labels_the_task_cannot_map_are_named(tmp_path: Path):
    rows = read_jsonl(shared_path("data/vihsd/dev.jsonl.gz"))[:20]
    rows[3]["label"] = "satire"
    result = run_evaluate("--task", "toxicity", "--data", write_jsonl(tmp_path / "x.jsonl", rows))
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "'satire' (1 rows, first at line 4)" in result.stderr


def test_a_line_that_is_not_json_is_named_by_file_and_line(tmp_path: Path):
    rows = read_jsonl(shared_path("data/uit_vsfc/dev.jsonl.gz"))[:5]
    path = write_jsonl(tmp_path / "broken.jsonl", rows)
    path.write_text(path.read_text(encoding="utf-8") + '{"id": "x", "text": "cut o\n')
    result = run_evaluate("--task", "sentiment", "--data", path)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert f"{path}:6: not JSON" in result.stderr


def test_a_row_without_text_is_named_by_file_and_line(tmp_path: Path):
    path = write_jsonl(
        tmp_path / "rows.jsonl.gz",
        [{"id": "1", "text": "Giảng viên dạy rất hay", "label": "positive"}, {"id": "2"}],
    )
    result = run_evaluate("--task", "sentiment", "--data", path)
    assert result.exit_code != 0
    assert f"{path}:2: needs a string 'text' and 'label'" in result.stderr


def test_missing_file_and_unknown_task_fail_clearly(tmp_path: Path):
    missing = tmp_path / "absent.jsonl.gz"
    result = run_evaluate("--task", "sentiment", "--data", missing)
    assert result.exit_code != 0
    assert f"{missing}: no such file" in result.stderr
    present = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "x", "label": "clean"}])
    result = run_evaluate("--task", "emotion", "--data", present)
    assert result.exit_code != 0
    assert "unknown task 'emotion'" in result.stderr
    assert result.stdout == ""


def test_metrics_equal_sklearns_on_a_hand_made_case():
    """A model whose probabilities are set by hand: every figure checked against sklearn."""
    classes = ["a", "b", "c"]
    # Hashed features of a one-word text hit few columns; weights made so each text's
    # class scores are fixed by which word it holds.
    config = FeaturizerConfig(n_features=2**10)
    probabilities_by_word = {
        "alpha": [0.7, 0.2, 0.1],
        "beta": [0.2, 0.5, 0.3],
        "gamma": [0.1, 0.3, 0.6],
        "delta": [0.35, 0.45, 0.2],
    }
    model = _model_predicting(classes, config, probabilities_by_word)
    words = ["alpha", "beta", "gamma", "delta", "alpha", "gamma", "beta", "delta", "gamma"]
    truth = ["a", "b", "c", "a", "b", "c", "c", "b", "a"]
    examples = [Example(str(i), w, t) for i, (w, t) in enumerate(zip(words, truth, strict=True))]

    report = evaluate(model, examples, per_class=True)

    predicted = [classes[int(np.argmax(model.predict_proba([w])[0]))] for w in words]
    assert predicted == [classes[int(np.argmax(probabilities_by_word[w]))] for w in words]
    assert report["n"] == len(words)
    assert report["accuracy"] == pytest.approx(accuracy_score(truth, predicted), abs=1e-4)
    assert report["macro_f1"] == pytest.approx(
        f1_score(truth, predicted, average="macro"), abs=1e-4
    )
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    for i, label in enumerate(classes):
        assert report["per_class"][label] == pytest.approx(
            {"precision": precision[i], "recall": recall[i], "f1": f1[i], "support": support[i]},
            abs=1e-4,
        )
    assert "roc_auc" not in report

    binary = _model_predicting(["no", "yes"], config, {"x": [0.8, 0.2], "y": [0.3, 0.7]})
    words, truth = ["x", "y", "x", "y", "x"], ["no", "yes", "yes", "no", "no"]
    examples = [Example(str(i), w, t) for i, (w, t) in enumerate(zip(words, truth, strict=True))]
    scores = [binary.predict_proba([w])[0, 1] for w in words]
    assert evaluate(binary, examples)["roc_auc"] == pytest.approx(
        roc_auc_score([t == "yes" for t in truth], scores), abs=1e-4
    )


def _model_predicting(
    classes: list[str], config: FeaturizerConfig, probabilities_by_word: dict[str, list[float]]
) -> LinearTextModel:
    """A linear model over the real featurizer giving each word's texts its probabilities.

    Solves for weights on the columns the words' features use, so predictions go through the
    same featurizer and product the shipped models use.
    """
    card = ModelCard(
        task="hand", version="hand-1", classes=classes, featurizer=config, trained_at="", seed=0
    )
    empty = LinearTextModel(
        card, np.zeros((len(classes), config.n_features)), np.zeros(len(classes))
    )
    words = list(probabilities_by_word)
    features = empty.featurizer.transform(words).toarray()
    logits = np.log(np.array([probabilities_by_word[w] for w in words]))
    coef = np.linalg.lstsq(features, logits, rcond=None)[0].T
    return LinearTextModel(card, coef, np.zeros(len(classes)))
