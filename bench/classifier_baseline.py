"""Our classifiers against the plain baseline, per data set, on dev, with and without diacritics.

For each task the bench loads the same train and dev as ``mediawatch train`` (same seed, so the
same carved dev), fits **our method on train alone** (the shipped weights were refitted on
train + dev, so dev would flatter them) and, for each data set, **the baseline on that set's
train**; then scores both on that set's dev, as written and with its diacritics stripped.
Nothing here chose a setting: ours chose its own by cross-validation on train.

The baseline, fixed and untuned (as the issue that asked for this bench states it):

- words: ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)``;
- characters: ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
  min_df=3)``;
- the two joined by ``FeatureUnion``, then ``LinearSVC(C=0.5, class_weight="balanced")``.

For tone, the written provincial test set (``tests/data/provincial_tone``) is scored too, beside
the floor fitted on the same train as ours (its written provincial items included). Each set is
judged on one metric: ROC-AUC for ViCTSD, ReINTEL and VFND (a score to rank by), macro-F1 for
the others.

    python -m bench.classifier_baseline [--tasks section ...] [--data DIR] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from classifier.evaluate import read_examples
from classifier.labelled_data import Example
from classifier.train import TASKS, evaluate, fold_diacritics_of, load_task_data, train_task

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 13  # the seed `mediawatch train` uses by default: the same dev split
RANKED_SETS = frozenset({"victsd", "reintel", "vfnd"})
# Written test sets of the province (nothing was chosen on them), scored beside the floor
# fitted on the task's whole train.
REPO = Path(__file__).resolve().parents[1]
WRITTEN_TESTS = {"tone": REPO / "tests" / "data" / "provincial_tone" / "test.jsonl"}
FORMS = {"dev": "dev", "dev_without_diacritics": "dev, no diacritics"}


def baseline_pipeline(seed: int = SEED) -> Pipeline:
    """The plain baseline described in the module docstring."""
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3)
    return Pipeline(
        [
            ("tfidf", FeatureUnion([("words", words), ("chars", chars)])),
            ("svm", LinearSVC(C=0.5, class_weight="balanced", random_state=seed)),
        ]
    )


class FittedBaseline:
    """The fitted pipeline seen through the interface ``classifier.train.evaluate`` scores:
    its margins squashed to (0, 1), enough for macro-F1 (argmax) and ROC-AUC (order)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self._pipeline.classes_]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        margins = self._pipeline.decision_function(texts)
        if margins.ndim == 1:
            margins = np.column_stack([-margins, margins])
        squashed = 1.0 / (1.0 + np.exp(-margins))
        return squashed / squashed.sum(axis=1, keepdims=True)


@dataclass
class SetComparison:
    """One data set's headline metric, ours and the baseline's, on both forms of its dev."""

    task: str
    dataset: str
    metric: str
    n_train: int
    n_dev: int
    ours: dict[str, float | None] = field(default_factory=dict)
    baseline: dict[str, float | None] = field(default_factory=dict)

    def difference(self, form: str) -> float | None:
        ours, baseline = self.ours[form], self.baseline[form]
        return None if ours is None or baseline is None else ours - baseline


def compare_task(task: str, data_dir: Path, seed: int = SEED) -> list[SetComparison]:
    """Fit ours on the task's train, the baseline per data set; score both per data set."""
    spec = TASKS[task]
    train, dev, _described = load_task_data(spec, data_dir, seed)
    ours = train_task(spec, data_dir, seed, refit=False)
    comparisons = []
    for dataset in sorted({e.source for e in dev}):
        own_train = [e for e in train if e.source == dataset]
        baseline = FittedBaseline(
            baseline_pipeline(seed).fit([e.text for e in own_train], [e.label for e in own_train])
        )
        metric = "roc_auc" if dataset in RANKED_SETS else "macro_f1"
        comparison = SetComparison(task, dataset, metric, len(own_train), 0)
        own_dev = [e for e in dev if e.source == dataset]
        comparisons.append(_scored(comparison, ours, baseline, own_dev))
    if task in WRITTEN_TESTS:
        examples, _renamed = read_examples(WRITTEN_TESTS[task], task)
        # The floor learns from all that ours learns from here, the written supplement too.
        baseline = FittedBaseline(
            baseline_pipeline(seed).fit([e.text for e in train], [e.label for e in train])
        )
        name = f"{WRITTEN_TESTS[task].parent.name} (written test)"
        comparison = SetComparison(task, name, "macro_f1", len(train), 0)
        comparisons.append(_scored(comparison, ours, baseline, examples))
    return comparisons


def _scored(
    comparison: SetComparison, ours: object, baseline: object, examples: list[Example]
) -> SetComparison:
    """``comparison`` with both models' scores on ``examples``, as written and folded."""
    comparison.n_dev = len(examples)
    for form, scored in (
        ("dev", examples),
        ("dev_without_diacritics", fold_diacritics_of(examples)),
    ):
        comparison.ours[form] = _score(ours, scored, comparison.metric)
        comparison.baseline[form] = _score(baseline, scored, comparison.metric)
    return comparison


def _score(model: object, examples: list[Example], metric: str) -> float | None:
    return evaluate(model, examples).get(metric)  # type: ignore[arg-type]


def _cell(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def markdown_table(comparisons: Sequence[SetComparison]) -> str:
    """A row per data set: ours, the baseline and ours − baseline, on each form of dev."""
    header = " | ".join(
        f"{label}: {column}"
        for label in FORMS.values()
        for column in ("ours", "baseline", "ours − baseline")
    )
    lines = [
        f"| task | data set (train, dev) | metric | {header} |",
        "| --- | --- | --- |" + " ---: |" * (3 * len(FORMS)),
    ]
    for c in comparisons:
        cells = []
        for form in FORMS:
            cells += [_cell(c.ours[form]), _cell(c.baseline[form]), _cell(c.difference(form), True)]
        lines.append(
            f"| {c.task} | {c.dataset} ({c.n_train}, {c.n_dev}) | {c.metric} | "
            f"{' | '.join(cells)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> list[SetComparison]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--data", type=Path, default=DATA, help="../shared/data layout")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the carved dev splits")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    comparisons: list[SetComparison] = []
    for task in args.tasks:
        started = time.perf_counter()
        found = compare_task(task, args.data, args.seed)
        comparisons += found
        print(markdown_table(found), f"({task}: {time.perf_counter() - started:.0f} s)", flush=True)
    table = markdown_table(comparisons)
    print("\n" + table)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    return comparisons


if __name__ == "__main__":
    main()
