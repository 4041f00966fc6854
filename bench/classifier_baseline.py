"""Our linear models against the floor the issue sets: plain TF-IDF + logistic regression.

For each task the bench loads the same train and dev as ``mediawatch train`` (same seed, so the
same carved dev), fits the baseline on train, and scores it and our shipped model on dev and on
dev with its diacritics stripped: macro-F1, accuracy and, for two classes, ROC-AUC.

The baseline, fixed and untuned (scikit-learn defaults unless said):

- words: ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)``;
- characters: ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
  min_df=2)``;
- the two joined by ``FeatureUnion`` (each L2-normalised, as TfidfVectorizer does);
- ``LogisticRegression(C=1.0, max_iter=3000)`` (lbfgs, L2, multinomial for many classes).

    python -m bench.classifier_baseline [--tasks section ...] [--models DIR] [--data DIR]
                                        [--markdown FILE]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from classifier.linear import LinearTextModel
from classifier.service import SHIPPED_MODELS
from classifier.train import TASKS, TaskSpec, evaluate, fold_diacritics_of, load_task_data

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 13  # the seed `mediawatch train` uses by default: the same dev split
SPLITS = {"dev": "dev", "dev_without_diacritics": "dev, no diacritics"}
METRICS = {"macro_f1": "macro-F1", "accuracy": "accuracy", "roc_auc": "ROC-AUC"}


def baseline_pipeline(seed: int = SEED) -> Pipeline:
    """The plain baseline described in the module docstring."""
    return Pipeline(
        [
            (
                "tfidf",
                FeatureUnion(
                    [
                        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
                        (
                            "chars",
                            TfidfVectorizer(
                                analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                            ),
                        ),
                    ]
                ),
            ),
            ("logreg", LogisticRegression(C=1.0, max_iter=3000, random_state=seed)),
        ]
    )


class FittedBaseline:
    """A fitted pipeline seen through the interface ``classifier.train.evaluate`` scores."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self._pipeline.classes_]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self._pipeline.predict_proba(texts)


@dataclass
class Comparison:
    """One task's scores, ours and the baseline's, per split, and where the time went."""

    task: str
    n_train: int = 0
    n_dev: int = 0
    ours: dict[str, dict] = field(default_factory=dict)
    baseline: dict[str, dict] = field(default_factory=dict)
    # Stage -> (wall-clock, CPU) seconds: CPU time tells more on a shared machine.
    seconds: dict[str, tuple[float, float]] = field(default_factory=dict)


@contextmanager
def _timed(comparison: Comparison, stage: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    comparison.seconds[stage] = (time.perf_counter() - wall, time.process_time() - cpu)


def compare_task(spec: TaskSpec, data_dir: Path, models_dir: Path, seed: int = SEED) -> Comparison:
    """Fit the baseline on the task's train split; score it and our model on both dev forms."""
    comparison = Comparison(spec.task)
    with _timed(comparison, "load"):
        train, dev, _described = load_task_data(spec, data_dir, seed)
        dev_forms = {"dev": dev, "dev_without_diacritics": fold_diacritics_of(dev)}
    comparison.n_train, comparison.n_dev = len(train), len(dev)
    with _timed(comparison, "baseline fit"):
        pipeline = baseline_pipeline(seed).fit([e.text for e in train], [e.label for e in train])
    with _timed(comparison, "baseline score"):
        baseline = FittedBaseline(pipeline)
        comparison.baseline = {split: evaluate(baseline, dev_forms[split]) for split in SPLITS}
    with _timed(comparison, "ours load+score"):
        ours = LinearTextModel.load(models_dir, spec.task)
        comparison.ours = {split: evaluate(ours, dev_forms[split]) for split in SPLITS}
    return comparison


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _difference(ours: float | None, baseline: float | None) -> str:
    return "–" if ours is None or baseline is None else f"{ours - baseline:+.4f}"


def markdown_table(comparison: Comparison) -> str:
    """Rows ours, baseline and their difference; a column per split and metric."""
    columns = [
        (split, metric)
        for split in SPLITS
        for metric in METRICS
        if metric in comparison.ours[split] or metric in comparison.baseline[split]
    ]
    header = " | ".join(f"{SPLITS[split]} {METRICS[metric]}" for split, metric in columns)
    rows = [
        ("ours", [_cell(comparison.ours[s].get(m)) for s, m in columns]),
        ("baseline (TF-IDF + LR)", [_cell(comparison.baseline[s].get(m)) for s, m in columns]),
        (
            "ours − baseline",
            [
                _difference(comparison.ours[s].get(m), comparison.baseline[s].get(m))
                for s, m in columns
            ],
        ),
    ]
    timings = ", ".join(
        f"{stage} {wall:.1f} s ({cpu:.1f} s CPU)"
        for stage, (wall, cpu) in comparison.seconds.items()
    )
    lines = [
        f"### {comparison.task} (train {comparison.n_train}, dev {comparison.n_dev})",
        "",
        f"| model | {header} |",
        "| --- |" + " ---: |" * len(columns),
        *(f"| {name} | {' | '.join(cells)} |" for name, cells in rows),
        "",
        f"Time (wall, CPU of this process): {timings}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[Comparison]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--models", type=Path, default=SHIPPED_MODELS, help="our models")
    parser.add_argument("--data", type=Path, default=DATA, help="../shared/data layout")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the carved dev splits")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    comparisons, tables = [], []
    for task in args.tasks:
        comparison = compare_task(TASKS[task], args.data, args.models, args.seed)
        table = markdown_table(comparison)
        print(table, flush=True)
        comparisons.append(comparison)
        tables.append(table)
    if args.markdown:
        args.markdown.write_text("\n".join(tables), encoding="utf-8")
    return comparisons


if __name__ == "__main__":
    main()
