"""Social normalisation and underthesea word segmentation: what each adds to macro-F1, at what cost.

For every task, the same training sample is fitted three ways, each scored on dev and on dev
with its diacritics stripped:

- ``old``: the featurizer as the shipped models were trained (``normalize`` only);
- ``new``: with ``social_normalisation`` (contacts masked, repeats squeezed, teencode);
- ``+seg``: ``new`` plus underthesea's word segmentation, its compounds ("quảng_trị") as extra
  word features (accented and folded), in a block of their own.

Throughput is measured on the dev texts: the featurizer (texts/s, fresh caches) with and
without social normalisation, and underthesea.word_tokenize alone (texts/s and characters/s).

    python -m bench.segmentation                      # 4,000 training texts, 2,000 dev texts
    python -m bench.segmentation --train-limit 0 --no-segmentation   # all data, old vs new

underthesea is not a dependency of mediawatch: install it beside to run the ``+seg`` column.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csr_matrix
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize as l2_normalize

from classifier.features import FeaturizerConfig, TextFeaturizer
from classifier.labelled_data import Example
from classifier.train import TASKS, evaluate, fold_diacritics_of, load_task_data
from mediawatch.text import fold, normalize_for_model

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

Featurize = Callable[[list[str]], csr_matrix]


class _Fitted:
    """A fitted estimator and its featurizer, shaped as ``evaluate`` expects a model."""

    def __init__(self, featurize: Featurize, estimator: LogisticRegression) -> None:
        self._featurize = featurize
        self._estimator = estimator
        self.classes = [str(c) for c in estimator.classes_]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self._estimator.predict_proba(self._featurize(texts))


class _Segmented:
    """The social featurizer plus underthesea's compounds as a second, separately scaled block."""

    def __init__(self, max_chars: int) -> None:
        from underthesea import word_tokenize  # optional: measured here, not a dependency

        self._tokenize = word_tokenize
        self._max_chars = max_chars
        self._base = TextFeaturizer(FeaturizerConfig(social_normalisation=True))
        self._hasher = FeatureHasher(n_features=2**18, input_type="string", alternate_sign=False)

    def compounds(self, text: str) -> list[str]:
        words = self._tokenize(normalize_for_model(text[: self._max_chars]).lower())
        joined = [w.replace(" ", "_") for w in words if " " in w]
        return joined + [fold(w) for w in joined]

    def __call__(self, texts: list[str]) -> csr_matrix:
        counts = csr_matrix(self._hasher.transform(map(self.compounds, texts)), dtype=np.float32)
        np.log1p(counts.data, out=counts.data)
        combined = sp.hstack([self._base.transform(texts), l2_normalize(counts)], format="csr")
        return l2_normalize(combined)


def fit(featurize: Featurize, train: list[Example], regularisation: float, seed: int) -> _Fitted:
    """The estimator ``classifier.train`` fits (weights unpruned), on ``featurize``'s features."""
    estimator = LogisticRegression(C=regularisation, max_iter=2000, random_state=seed, tol=1e-5)
    estimator.fit(featurize([e.text for e in train]), [e.label for e in train])
    return _Fitted(featurize, estimator)


def rate(make: Callable[[], Callable[[list[str]], object]], texts: list[str], runs: int) -> float:
    """Texts per second over ``texts``, each run with a fresh ``make()``: the best of ``runs``
    (the machine is shared: the best run is the one least slowed by others)."""
    best = float("inf")
    for _ in range(runs):
        function = make()
        start = time.perf_counter()
        function(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def scores(model: _Fitted, dev: list[Example]) -> dict[str, float | None]:
    accented, folded = evaluate(model, dev), evaluate(model, fold_diacritics_of(dev))
    return {
        "f1": accented["macro_f1"],
        "f1_folded": folded["macro_f1"],
        "auc": accented.get("roc_auc"),
        "auc_folded": folded.get("roc_auc"),
    }


def run_task(task: str, args: argparse.Namespace) -> dict[str, dict]:
    spec = TASKS[task]
    train, dev, _described = load_task_data(spec, args.data, args.seed)
    # The files are in a seeded shuffle: their first items are a fair sample.
    train = train[: args.train_limit] if args.train_limit else train
    dev = dev[: args.dev_limit] if args.dev_limit else dev
    featurizers: dict[str, Callable[[], Featurize]] = {
        "old": lambda: TextFeaturizer(FeaturizerConfig()).transform,
        "new": lambda: TextFeaturizer(FeaturizerConfig(social_normalisation=True)).transform,
    }
    if args.segmentation:
        featurizers["+seg"] = lambda: _Segmented(FeaturizerConfig().max_chars)
    results: dict[str, dict] = {}
    dev_texts = [e.text for e in dev]
    for name, make in featurizers.items():
        started = time.perf_counter()
        model = fit(make(), train, spec.regularisation, args.seed)
        results[name] = scores(model, dev)
        results[name]["fit_s"] = time.perf_counter() - started
        # Fresh caches each run; segmentation is slow enough to time once.
        results[name]["texts_per_s"] = rate(make, dev_texts, runs=1 if name == "+seg" else 3)
    if args.segmentation:
        segmenter = _Segmented(FeaturizerConfig().max_chars)
        per_text = rate(
            lambda: lambda texts: [segmenter.compounds(t) for t in texts], dev_texts, runs=1
        )
        mean_chars = sum(min(len(t), FeaturizerConfig().max_chars) for t in dev_texts) / len(dev)
        results["+seg"]["segment_texts_per_s"] = per_text
        results["+seg"]["segment_chars_per_s"] = per_text * mean_chars
    print_task(task, len(train), len(dev), results)
    return results


def _figure(value: float | None) -> str:
    return "    -" if value is None else f"{value:.4f}"


def print_task(task: str, n_train: int, n_dev: int, results: dict[str, dict]) -> None:
    print(f"\n{task}: {n_train} train, {n_dev} dev")
    header = ("F1 dev", "folded", "AUC dev", "folded", "texts/s", "fit s")
    print(f"{'':6} " + " ".join(f"{h:>7}" for h in header))
    base = results["old"]
    for name, row in results.items():
        print(
            f"{name:6} {_figure(row['f1']):>7} {_figure(row['f1_folded']):>7} "
            f"{_figure(row['auc']):>7} {_figure(row['auc_folded']):>7} "
            f"{row['texts_per_s']:8.0f} {row['fit_s']:6.0f}"
        )
    for name, row in results.items():
        if name != "old":
            print(
                f"{name} - old: F1 {row['f1'] - base['f1']:+.4f}, "
                f"folded {row['f1_folded'] - base['f1_folded']:+.4f}; "
                f"featurizer speed x{row['texts_per_s'] / base['texts_per_s']:.2f}"
            )
    if "segment_texts_per_s" in results.get("+seg", {}):
        seg = results["+seg"]
        print(
            f"underthesea.word_tokenize alone: {seg['segment_texts_per_s']:.0f} texts/s, "
            f"{seg['segment_chars_per_s']:.0f} chars/s "
            f"({seg['segment_texts_per_s'] / 500:.2f}x the 500 items/s of the whole stage)"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--train-limit", type=int, default=4000, help="0: all")
    parser.add_argument("--dev-limit", type=int, default=2000, help="0: all")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--segmentation", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    for task in args.tasks:
        run_task(task, args)


if __name__ == "__main__":
    main()
