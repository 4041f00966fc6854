"""Training and evaluation of the linear models on labelled JSONL (``../shared/data`` format).

Each task names its data sets and label mapping. Where a set has no dev split, a dev split is
carved from train by a seeded hash of the item id, so training is repeatable and the dev items
never leak into training.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold

from classifier.calibration import fit_temperature
from classifier.experts import fit_experts
from classifier.features import (
    FeaturizerConfig,
    TextFeaturizer,
    inverse_document_frequency,
    reweighted,
)
from classifier.labelled_data import Example, find_split, read_jsonl
from classifier.linear import LinearTextModel, ModelCard
from classifier.news_tone import PROVINCIAL_TONE, TONE_CLASSES, tone_splits
from mediawatch.text import fold

# Neutral sentences naming the province's communities, written from a guideline (see there).
IDENTITY_MENTIONS = Path(__file__).with_name("data") / "identity" / "neutral_mentions.jsonl"

# Texts featurized at once when scoring: bounds memory on large files (long articles).
PREDICT_BATCH = 2000
# A model whose dev ECE is above this is calibrated (temperature fitted by CV on train).
CALIBRATION_THRESHOLD = 0.05
CALIBRATION_FOLDS = 3
# Keys of a card's metrics that are not a split's scores.
CURVE_KEY = "reliability_curve"
CALIBRATION_KEY = "calibration"
SELECTION_KEY = "selection"


class ProbabilisticModel(Protocol):
    """What ``evaluate`` scores: ours, or any model seen through the same two members."""

    @property
    def classes(self) -> list[str]: ...

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    labels: dict[str, str]  # dataset label -> task label
    dev_share_if_missing: float = 0.15


@dataclass(frozen=True)
class TaskSpec:
    task: str
    classes: tuple[str, ...]
    datasets: tuple[DatasetSpec, ...]
    # Chosen on dev for every task (C 4 or 16, with or without idf): C=16 with idf weighting
    # beat the plain TF-IDF floor on each (python -m bench.classifier_baseline).
    regularisation: float = 16.0
    # Weights smaller than this in magnitude are set to zero after fitting: zeros compress,
    # so a many-class model stays a few MB (0 keeps every weight).
    prune_below: float = 0.0
    # Weight features by their inverse document frequency on train (stored with the weights).
    idf_weighting: bool = True
    notes: str = ""  # why the labels are what they are; written into the model card
    # Examples by split ("train", "dev", "test") from a set of our own instead of the data
    # sets' files (news tone: labels here, texts in VNTC). A test split is reported only.
    examples: Callable[[Path], dict[str, list[Example]]] | None = None
    # Written examples of our own (JSON Lines: id, text, label) added to train, never to dev:
    # the toxicity model learns from them that naming a community is not an insult.
    supplement: Path | None = None
    # One class-balanced SVM per data set, tuned by cross-validation on train and mixed by a
    # gate (classifier/experts.py), instead of one logistic regression over the pooled sets.
    # Its shipped weights are fitted again on train and dev once the dev figures are taken.
    experts: bool = False
    featurizer: FeaturizerConfig = field(default_factory=FeaturizerConfig)

    def dataset_labels(self) -> dict[str, str]:
        """Every label a data set of this task may carry, and the task's own, to a task label."""
        mapping = {label: label for label in self.classes}
        for dataset in self.datasets:
            mapping.update(dataset.labels)
        return mapping


TASKS: dict[str, TaskSpec] = {
    "section": TaskSpec(
        task="section",
        classes=(
            "business",
            "computing",
            "culture",
            "health",
            "law",
            "lifestyle",
            "politics_society",
            "science",
            "sports",
            "world",
        ),
        datasets=(
            DatasetSpec(
                "vntc",
                {
                    label: label
                    for label in (
                        "politics_society",
                        "lifestyle",
                        "science",
                        "business",
                        "law",
                        "health",
                        "world",
                        "sports",
                        "culture",
                        "computing",
                    )
                },
            ),
        ),
        # 10 x 2**18 weights; with idf and C=16, those under 0.15 (86 % of them) set to zero
        # leave 2.3 MB compressed, and dev macro-F1 0.9165 against 0.9161 at 0.05 (5.7 MB)
        # (0.9110 / 0.9099 folded).
        prune_below=0.15,
    ),
    "sentiment": TaskSpec(
        task="sentiment",
        classes=("negative", "neutral", "positive"),
        experts=True,
        featurizer=FeaturizerConfig(accented_chars=True),
        datasets=(
            DatasetSpec(
                "uit_vsfc", {label: label for label in ("negative", "neutral", "positive")}
            ),
            DatasetSpec(
                "vlsp2016_sa", {label: label for label in ("negative", "neutral", "positive")}
            ),
        ),
    ),
    "reliability": TaskSpec(
        task="reliability",
        classes=("reliable", "unreliable"),
        datasets=(
            DatasetSpec("reintel", {"reliable": "reliable", "unreliable": "unreliable"}),
            DatasetSpec("vfnd", {"real": "reliable", "fake": "unreliable"}),
        ),
    ),
    "toxicity": TaskSpec(
        task="toxicity",
        classes=("clean", "toxic"),
        experts=True,
        featurizer=FeaturizerConfig(accented_chars=True),
        datasets=(
            DatasetSpec("vihsd", {"clean": "clean", "offensive": "toxic", "hate": "toxic"}),
            DatasetSpec("victsd", {"non_toxic": "clean", "toxic": "toxic"}),
        ),
        supplement=IDENTITY_MENTIONS,
        notes="Two classes, clean and toxic: ViHSD's offensive and hate both count as toxic. "
        "ViCTSD labels only toxic or not, so a three-way model could learn hate from ViHSD "
        "alone; the office needs one signal of hostile or abusive wording, and the fixed "
        "evaluation names toxic as the positive class of a two-class task.",
    ),
    "tone": TaskSpec(
        task="tone",
        classes=TONE_CLASSES,
        datasets=(),
        examples=tone_splits,
        supplement=PROVINCIAL_TONE,
        experts=True,
        featurizer=FeaturizerConfig(accented_chars=True),
        notes="Tone of press and official news (headline and lead), labelled by careful "
        "reading from a written guideline (classifier/data/news_tone/), with 400 provincial "
        "items of 2026 written and labelled from the same guideline. Read for press and "
        "official items; the sentiment model reads social posts.",
    ),
}


def _in_carved_dev(item_id: str, dataset: str, share: float, seed: int) -> bool:
    # A key of our own: the data sets carved their held-out test splits with "<seed>|<set>|<id>".
    digest = hashlib.sha256(f"mediawatch-dev|{seed}|{dataset}|{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def load_task_data(
    spec: TaskSpec, data_dir: Path, seed: int
) -> tuple[list[Example], list[Example], dict]:
    """Train and dev examples of every data set of the task (and its written supplement, which
    only trains), and a description of them."""
    if spec.examples is not None:
        splits = spec.examples(data_dir)
        train, dev = splits["train"], splits["dev"]
        described = {
            f"{spec.task} (labelled here)": {
                "train": len(train),
                "dev": len(dev),
                "test": len(splits.get("test", [])),
                "dev_origin": "seeded hash of the id",
                "train_labels": dict(Counter(e.label for e in train)),
            }
        }
    else:
        train, dev, described = _dataset_splits(spec, data_dir, seed)
    if spec.supplement is not None:
        mapping = spec.dataset_labels()
        rows = read_jsonl(spec.supplement)
        written = [Example(str(r["id"]), r["text"], mapping[r["label"]], "") for r in rows]
        train = [*train, *written]
        described[f"written ({spec.supplement.parent.name}/{spec.supplement.name})"] = {
            "train": len(written),
            "dev": 0,
            "dev_origin": "none (written examples only train)",
            "train_labels": dict(Counter(e.label for e in written)),
        }
    return train, dev, described


def _dataset_splits(
    spec: TaskSpec, data_dir: Path, seed: int
) -> tuple[list[Example], list[Example], dict]:
    """Train and dev of the task's data sets' files, dev carved from train where missing."""
    train: list[Example] = []
    dev: list[Example] = []
    described: dict = {}
    for dataset in spec.datasets:
        directory = data_dir / dataset.name
        train_path = find_split(directory, "train")
        if train_path is None:
            raise FileNotFoundError(f"{directory}: no train.jsonl(.gz)")
        dev_path = find_split(directory, "dev")

        def examples(rows: list[dict], dataset: DatasetSpec = dataset) -> list[Example]:
            return [
                Example(str(r["id"]), r["text"], dataset.labels[r["label"]], dataset.name)
                for r in rows
                if r.get("label") in dataset.labels and r.get("text")
            ]

        train_rows = examples(read_jsonl(train_path))
        if dev_path is not None:
            dev_rows = examples(read_jsonl(dev_path))
            dev_origin = "dev split"
        else:
            share = dataset.dev_share_if_missing
            dev_rows = [e for e in train_rows if _in_carved_dev(e.id, dataset.name, share, seed)]
            dev_ids = {e.id for e in dev_rows}
            train_rows = [e for e in train_rows if e.id not in dev_ids]
            dev_origin = f"carved from train ({share:.0%}, seeded hash)"
        train += train_rows
        dev += dev_rows
        described[dataset.name] = {
            "train": len(train_rows),
            "dev": len(dev_rows),
            "dev_origin": dev_origin,
            "train_labels": dict(Counter(e.label for e in train_rows)),
        }
    return train, dev, described


def predict_proba_batched(model: ProbabilisticModel, texts: list[str]) -> np.ndarray:
    """``model.predict_proba`` a batch at a time, so long articles do not fill the memory."""
    return np.vstack(
        [
            model.predict_proba(texts[start : start + PREDICT_BATCH])
            for start in range(0, len(texts), PREDICT_BATCH)
        ]
    )


def evaluate(model: ProbabilisticModel, examples: list[Example], per_class: bool = False) -> dict:
    """Scores on ``examples``; reports macro-F1 because every task here is imbalanced.

    For two classes, ``roc_auc`` is that of the second class (``unreliable``, ``toxic``).
    """
    if not examples:
        return {}
    probabilities = predict_proba_batched(model, [e.text for e in examples])
    predicted = [model.classes[i] for i in probabilities.argmax(axis=1)]
    truth = [e.label for e in examples]
    metrics: dict = {
        "n": len(examples),
        "accuracy": round(accuracy_score(truth, predicted), 4),
        "macro_f1": round(f1_score(truth, predicted, average="macro", zero_division=0), 4),
        "expected_calibration_error": round(
            expected_calibration_error(probabilities, truth, model.classes), 4
        ),
    }
    if len(model.classes) == 2:
        positives = [label == model.classes[1] for label in truth]
        metrics["roc_auc"] = (
            round(roc_auc_score(positives, probabilities[:, 1]), 4)
            if len(set(positives)) == 2
            else None  # undefined when the examples hold one class only
        )
    if per_class:
        # The labels sklearn's macro average runs over: those in the truth or the predictions.
        labels = [c for c in model.classes if c in set(truth) | set(predicted)]
        precision, recall, f1, support = precision_recall_fscore_support(
            truth, predicted, labels=labels, zero_division=0
        )
        metrics["per_class"] = {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(n),
            }
            for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
        }
    return metrics


def expected_calibration_error(
    probabilities: np.ndarray, truth: list[str], classes: list[str], bins: int = 10
) -> float:
    """Gap between confidence and accuracy, averaged over confidence bins (top class)."""
    confidence = probabilities.max(axis=1)
    correct = np.array(
        [classes[i] == t for i, t in zip(probabilities.argmax(axis=1), truth, strict=True)]
    )
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def reliability_curve(
    probabilities: np.ndarray, truth: list[str], classes: list[str], bins: int = 10
) -> dict:
    """Predicted against observed frequency per probability bin (uniform bins, empty ones left out).

    Two classes: the probability of the positive (second) class against how often it is the
    truth. More classes: the top class's probability against how often it is right.
    """
    if len(classes) == 2:
        predicted = probabilities[:, 1]
        happened = np.array([label == classes[1] for label in truth], dtype=int)
        of = f"P({classes[1]})"
    else:
        predicted = probabilities.max(axis=1)
        happened = np.array(
            [classes[i] == t for i, t in zip(probabilities.argmax(axis=1), truth, strict=True)],
            dtype=int,
        )
        of = "top-class probability"
    observed, mean_predicted = calibration_curve(
        happened, predicted, n_bins=bins, strategy="uniform", pos_label=1
    )
    # The same bins calibration_curve uses, for the count behind each point.
    counts = np.bincount(
        np.searchsorted(np.linspace(0, 1, bins + 1)[1:-1], predicted), minlength=bins
    )
    return {
        "of": of,
        "bins": [
            {"mean_predicted": round(float(p), 4), "observed": round(float(o), 4), "count": int(n)}
            for p, o, n in zip(mean_predicted, observed, counts[counts > 0], strict=True)
        ],
    }


def cross_validated_temperature(
    features: csr_matrix, labels: list[str], spec: TaskSpec, seed: int
) -> float:
    """A temperature fitted on out-of-fold decision values of train: no dev item is used."""
    column_of = {label: i for i, label in enumerate(spec.classes)}
    truth = np.array([column_of[label] for label in labels])
    scores = np.zeros((len(labels), 1 if len(spec.classes) == 2 else len(spec.classes)))
    folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    for fit_rows, held_rows in folds.split(features, truth):
        estimator = training_estimator(spec, seed).fit(features[fit_rows], truth[fit_rows])
        scores[held_rows] = estimator.decision_function(features[held_rows]).reshape(
            len(held_rows), -1
        )
    return fit_temperature(scores, truth)


def fold_diacritics_of(examples: list[Example]) -> list[Example]:
    """The same examples with diacritics stripped, as much real input arrives."""
    return [Example(e.id, fold(e.text), e.label, e.source) for e in examples]


def train_task(
    spec: TaskSpec,
    data_dir: Path,
    seed: int = 13,
    featurizer: FeaturizerConfig | None = None,
    limit: int | None = None,
    reviewed: Sequence[Example] = (),
    refit: bool = True,
) -> LinearTextModel:
    """Fit one task's model; deterministic given the data, the seed and ``limit``.

    ``reviewed`` are items labelled by reviewers' decisions: trained on, never in dev, so
    the dev figures stay comparable with the model they may replace. ``refit=False`` keeps
    the weights fitted on train alone (to score on dev) where the task would refit on both.
    """
    train, dev, described = load_task_data(spec, data_dir, seed)
    if limit is not None:
        train = train[:limit]
        dev = dev[: max(limit // 4, 1)]
    if reviewed:
        described["reviews"] = {
            "train": len(reviewed),
            "dev": 0,
            "dev_origin": "none (reviewers' decisions only train)",
            "train_labels": dict(Counter(e.label for e in reviewed)),
        }
        train = [*train, *reviewed]
    trained_at = datetime.now(UTC).replace(microsecond=0)
    card = ModelCard(
        task=spec.task,
        version=f"{spec.task}-linear-{trained_at:%Y%m%d}-s{seed}"
        + (f"-r{len(reviewed)}-{trained_at:%H%M%S}" if reviewed else ""),
        classes=list(spec.classes),
        featurizer=featurizer or spec.featurizer,
        trained_at=trained_at.isoformat(),
        seed=seed,
        data={"directory": str(data_dir), "datasets": described, "train_used": len(train)},
        notes=" ".join(_method_notes(spec)),
    )
    fit = _fit_experts if spec.experts else _fit_pooled
    model = fit(spec, card, train, dev, seed)
    card.metrics.update(
        {
            "dev": evaluate(model, dev),
            "dev_without_diacritics": evaluate(model, fold_diacritics_of(dev)),
        }
    )
    if dev:
        card.metrics[CURVE_KEY] = {
            "dev": reliability_curve(
                predict_proba_batched(model, [e.text for e in dev]),
                [e.label for e in dev],
                model.classes,
            )
        }
    if spec.experts and dev and refit:
        model = _fit_experts(spec, card, [*train, *dev], [], seed, fitted_on="train_and_dev")
        card.data["train_used"] = len(train) + len(dev)
    if spec.examples is not None:
        test = spec.examples(data_dir).get("test", [])
        card.metrics["test"] = evaluate(model, test)
        card.metrics["test_without_diacritics"] = evaluate(model, fold_diacritics_of(test))
    return model


def _method_notes(spec: TaskSpec) -> list[str]:
    """How the weights are fitted, in the card's words."""
    if spec.experts:
        notes = [
            "One class-balanced linear SVM per data set on hashed word and character n-grams of "
            "the accented and folded text; each C chosen by 5-fold cross-validated macro-F1 on "
            "that set's train, margins turned into probabilities by a temperature fitted on the "
            "same out-of-fold margins; several sets are mixed by a logistic gate that tells them "
            "apart. The weights shipped were fitted again on train and dev together; the dev "
            "figures are those of the same method fitted on train alone."
        ]
    else:
        notes = [
            f"LogisticRegression (lbfgs, L2, C={spec.regularisation}) on hashed word and "
            "character n-grams of the accented and folded text."
        ]
    if spec.idf_weighting:
        notes.append("Features weighted by their inverse document frequency on train.")
    if spec.prune_below:
        notes.append(f"Weights below {spec.prune_below} in magnitude set to zero (file size).")
    if spec.notes:
        notes.append(spec.notes)
    return notes


def _pruned(spec: TaskSpec, coef: np.ndarray) -> np.ndarray:
    """Small weights set to zero when the task asks (zeros compress)."""
    return np.where(np.abs(coef) >= spec.prune_below, coef, 0.0) if spec.prune_below else coef


def _features(
    examples: list[Example], card: ModelCard, spec: TaskSpec
) -> tuple[csr_matrix, np.ndarray | None]:
    """The examples' feature rows (idf-weighted when the task asks) and the idf."""
    features = TextFeaturizer(card.featurizer).transform([e.text for e in examples])
    if not spec.idf_weighting:
        return features, None
    idf = inverse_document_frequency(features)
    return reweighted(features, idf), idf


def _fit_experts(
    spec: TaskSpec,
    card: ModelCard,
    train: list[Example],
    _dev: list[Example],
    seed: int,
    fitted_on: str = "train",
) -> LinearTextModel:
    """An expert per data set (classifier/experts.py); the choices go into the card, under
    what they were made on (``train``, then ``train_and_dev`` when refitted)."""
    features, idf = _features(train, card, spec)
    folded = TextFeaturizer(card.featurizer).transform([fold(e.text) for e in train])
    if idf is not None:
        folded = reweighted(folded, idf)
    experts = fit_experts(
        features,
        np.array([e.label for e in train]),
        np.array([e.source for e in train]),
        spec.classes,
        seed,
        folded,
    )
    card.experts = experts.sources
    card.metrics.setdefault(SELECTION_KEY, {})[fitted_on] = experts.selection
    return LinearTextModel(card, _pruned(spec, experts.coef), experts.intercept, idf, experts.gate)


def _fit_pooled(
    spec: TaskSpec, card: ModelCard, train: list[Example], dev: list[Example], seed: int
) -> LinearTextModel:
    """One logistic regression over every data set, calibrated when dev says it must be."""
    features, idf = _features(train, card, spec)
    labels = [e.label for e in train]
    estimator = training_estimator(spec, seed).fit(features, labels)
    if list(estimator.classes_) != list(spec.classes):
        raise ValueError(f"{spec.task}: training data lacks some of {spec.classes}")
    coef, intercept = estimator.coef_, estimator.intercept_
    # Calibrate first, prune last: the same temperature with or without pruning.
    ece = evaluate(LinearTextModel(card, coef, intercept, idf), dev).get(
        "expected_calibration_error", 0.0
    )
    if ece > CALIBRATION_THRESHOLD:
        temperature = cross_validated_temperature(features, labels, spec, seed)
        coef, intercept = coef / temperature, intercept / temperature
        card.metrics[CALIBRATION_KEY] = {
            "method": f"temperature scaling fitted on {CALIBRATION_FOLDS}-fold out-of-fold "
            "decision values of train",
            "temperature": round(temperature, 4),
            "dev_ece_before": round(ece, 4),
        }
        card.notes += (
            f" Calibrated: dev ECE {ece:.4f} was above {CALIBRATION_THRESHOLD}; weights divided "
            f"by a temperature of {temperature:.3f} fitted by cross-validation on train."
        )
    return LinearTextModel(card, _pruned(spec, coef), intercept, idf)


def training_estimator(spec: TaskSpec, seed: int) -> LogisticRegression:
    """The solver every linear model of ``spec`` is fitted with (also when cross-fitting)."""
    return LogisticRegression(C=spec.regularisation, max_iter=2000, random_state=seed, tol=1e-5)
