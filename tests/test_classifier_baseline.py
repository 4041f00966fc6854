"""The baseline bench on a small labelled set the test writes: both fitted in the run, per set."""

from __future__ import annotations

from pathlib import Path

from bench.classifier_baseline import main
from tests.labelled_data import write_toxicity_data


def test_bench_fits_both_and_scores_each_data_set_on_dev_and_folded_dev(tmp_path: Path):
    data = write_toxicity_data(tmp_path / "data", {"train": 300, "dev": 80}, seed=1)
    markdown = tmp_path / "table.md"

    comparisons = main(["--tasks", "toxicity", "--data", str(data), "--markdown", str(markdown)])

    by_set = {c.dataset: c for c in comparisons}
    assert set(by_set) == {"vihsd", "victsd"}
    assert by_set["victsd"].metric == "roc_auc" and by_set["vihsd"].metric == "macro_f1"
    table = markdown.read_text(encoding="utf-8")
    for comparison in comparisons:
        assert (comparison.n_train, comparison.n_dev) == (300, 80)
        # Words of each class in every text: both models separate them on accented text.
        assert comparison.ours["dev"] > 0.9 and comparison.baseline["dev"] > 0.9
        assert 0 <= comparison.ours["dev_without_diacritics"] <= 1
        row = next(line for line in table.splitlines() if f"| {comparison.dataset} (" in line)
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[3:6] == [
            f"{comparison.ours['dev']:.4f}",
            f"{comparison.baseline['dev']:.4f}",
            f"{comparison.difference('dev'):+.4f}",
        ]
    assert "dev, no diacritics: ours − baseline" in table
