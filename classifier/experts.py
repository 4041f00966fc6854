"""Fitting a model per data set, each tuned by cross-validation on its own train, and the gate.

Why per data set: pooled, student feedback and product reviews pull the sentiment weights
apart, and each data set scored below a plain model of its own (k-fold on train: UIT-VSFC
0.72 against 0.76 macro-F1). Each expert is a class-balanced linear SVM (macro-F1 counts
every class alike) whose C is chosen by k-fold cross-validated macro-F1 on its train, and
whose margins become probabilities through a temperature fitted on the same out-of-fold
margins; the CV also decides whether it learns from the texts without diacritics too (input
arrives both ways). Dev is never seen by a choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from classifier.calibration import fit_temperature

# Folds of the cross-validation that chooses C and fits the temperature.
SELECTION_FOLDS = 5
# Candidates for C, the SVM's inverse regularisation.
C_CHOICES = (0.1, 0.3, 1.0)
# The gate tells data sets apart: a fixed C, not tuned, high enough for confident shares
# (texts that two sets share in style still get mixed answers).
GATE_C = 16.0


@dataclass
class FittedExperts:
    """Weights for ``LinearTextModel``: experts' rows stacked in ``sources`` order."""

    sources: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    gate: tuple[np.ndarray, np.ndarray] | None
    selection: dict = field(default_factory=dict)


def fit_experts(
    features: csr_matrix,
    labels: np.ndarray,
    sources: np.ndarray,
    classes: tuple[str, ...],
    seed: int,
    folded: csr_matrix,
) -> FittedExperts:
    """An expert per source of ``sources`` ("" marks examples every expert learns from, such
    as reviewers' decisions), and a gate between them when there are several.

    ``folded`` holds the same rows from the texts without diacritics. The gate learns from
    both forms, so that typing without marks (common in one set, rare in another) does not
    decide which expert reads a text; each expert may learn from both (a choice of its CV)."""
    names = sorted(str(name) for name in set(sources) - {""})
    shared = np.flatnonzero(sources == "")
    coefs, intercepts, selection = [], [], {}
    for name in names:
        rows = np.concatenate([np.flatnonzero(sources == name), shared])
        coef, intercept, chosen = _fit_expert(
            _Forms(features[rows], folded[rows], labels[rows]), classes, seed
        )
        coefs.append(coef)
        intercepts.append(intercept)
        selection[name] = chosen
    gate = None
    if len(names) > 1:
        own = np.flatnonzero(sources != "")
        estimator = LogisticRegression(C=GATE_C, max_iter=2000, random_state=seed)
        estimator.fit(sparse.vstack([features[own], folded[own]]), np.tile(sources[own], 2))
        if len(names) == 2:  # one column for two classes: the second source's log-odds
            gate = (
                np.vstack([-estimator.coef_ / 2, estimator.coef_ / 2]),
                np.concatenate([-estimator.intercept_ / 2, estimator.intercept_ / 2]),
            )
        else:
            gate = (estimator.coef_, estimator.intercept_)
    return FittedExperts(names, np.vstack(coefs), np.concatenate(intercepts), gate, selection)


@dataclass(frozen=True)
class _Forms:
    """One expert's examples, as written and without diacritics, row for row."""

    accented: csr_matrix
    folded: csr_matrix
    labels: np.ndarray

    def rows(self, which: np.ndarray, both: bool) -> tuple[csr_matrix, np.ndarray]:
        """Features and labels of ``which`` rows: as written, or in both forms."""
        if not both:
            return self.accented[which], self.labels[which]
        stacked = sparse.vstack([self.accented[which], self.folded[which]]).tocsr()
        return stacked, np.tile(self.labels[which], 2)


@dataclass(frozen=True)
class _Setting:
    regularisation: float
    both_forms: bool  # also train on the texts without diacritics

    def __str__(self) -> str:
        return f"C={self.regularisation}" + (" +folded" if self.both_forms else "")


def _fit_expert(
    forms: _Forms, classes: tuple[str, ...], seed: int
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One expert's calibrated weights and how its setting was chosen.

    Each setting is scored by out-of-fold macro-F1 on the held-out texts as written and
    without diacritics (mean of the two), since input arrives both ways; an item and its
    folded copy always fall in the same fold."""
    missing = set(classes) - set(forms.labels)
    if missing:
        raise ValueError(f"training data lacks some of {classes}: {sorted(missing)}")
    folds = list(
        StratifiedKFold(n_splits=SELECTION_FOLDS, shuffle=True, random_state=seed).split(
            forms.accented, forms.labels
        )
    )
    width = 1 if len(classes) == 2 else len(classes)
    scores: dict[_Setting, float] = {}
    margins: dict[_Setting, np.ndarray] = {}
    for setting in [_Setting(c, both) for both in (False, True) for c in C_CHOICES]:
        held_out = np.zeros((2 * len(forms.labels), width))  # as written, then folded
        for fit_rows, held_rows in folds:
            estimator = _svm(setting.regularisation, seed).fit(
                *forms.rows(fit_rows, setting.both_forms)
            )
            features, _labels = forms.rows(held_rows, both=True)
            decided = estimator.decision_function(features).reshape(-1, width)
            held_out[held_rows] = decided[: len(held_rows)]
            held_out[held_rows + len(forms.labels)] = decided[len(held_rows) :]
        margins[setting] = held_out
        predicted = _predicted(held_out, classes).reshape(2, -1)  # as written, folded
        scores[setting] = float(
            np.mean([f1_score(forms.labels, form, average="macro") for form in predicted])
        )
    best = max(scores, key=lambda s: (scores[s], -s.regularisation, not s.both_forms))
    column_of = {label: column for column, label in enumerate(classes)}
    truth_columns = np.array([column_of[label] for label in np.tile(forms.labels, 2)])
    temperature = fit_temperature(margins[best], truth_columns)
    estimator = _svm(best.regularisation, seed).fit(
        *forms.rows(np.arange(len(forms.labels)), best.both_forms)
    )
    if list(estimator.classes_) != list(classes):
        raise ValueError(f"classes {list(estimator.classes_)} are not {list(classes)}")
    chosen = {
        "cv_macro_f1_as_written_and_folded": {str(s): round(v, 4) for s, v in scores.items()},
        "chosen": str(best),
        "temperature": round(temperature, 4),
        "train": len(forms.labels),
    }
    return estimator.coef_ / temperature, estimator.intercept_ / temperature, chosen


def _svm(regularisation: float, seed: int) -> LinearSVC:
    return LinearSVC(C=regularisation, class_weight="balanced", random_state=seed)


def _predicted(margins: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    if margins.shape[1] == 1:
        return np.array(classes)[(margins[:, 0] > 0).astype(int)]
    return np.array(classes)[margins.argmax(axis=1)]
