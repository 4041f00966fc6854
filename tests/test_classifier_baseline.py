"""The baseline bench on a small labelled set the test writes: both models scored, both forms."""

from __future__ import annotations

import re
from pathlib import Path

from bench.classifier_baseline import main
from classifier.train import TASKS, train_task
from tests.labelled_data import write_toxicity_data


def test_bench_scores_ours_and_the_baseline_on_dev_and_folded_dev(tmp_path: Path):
    data = write_toxicity_data(tmp_path / "data", {"train": 300, "dev": 80}, seed=1)
    models = tmp_path / "models"
    train_task(TASKS["toxicity"], data, seed=13).save(models)
    markdown = tmp_path / "table.md"

    arguments = ["--tasks", "toxicity", "--data", str(data), "--models", str(models)]
    (comparison,) = main([*arguments, "--markdown", str(markdown)])

    assert (comparison.n_train, comparison.n_dev) == (600, 160)
    for scores in (comparison.ours, comparison.baseline):
        assert set(scores) == {"dev", "dev_without_diacritics"}
        # Words of each class in every text: both models separate them on accented text.
        assert scores["dev"]["macro_f1"] > 0.9
        assert scores["dev"]["roc_auc"] > 0.95
        assert 0 <= scores["dev_without_diacritics"]["accuracy"] <= 1
    table = markdown.read_text(encoding="utf-8")
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()}
    assert {"ours", "baseline (TF-IDF + LR)", "ours − baseline"} <= set(rows)
    ours_f1 = comparison.ours["dev"]["macro_f1"]
    baseline_f1 = comparison.baseline["dev"]["macro_f1"]
    assert f"{ours_f1:.4f}" in rows["ours"]
    assert f"{ours_f1 - baseline_f1:+.4f}" in rows["ours − baseline"]
    assert "dev, no diacritics ROC-AUC" in table
    assert re.search(r"baseline fit \d+\.\d s", table)
