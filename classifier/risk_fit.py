"""Fit how the risk signals combine, on labelled reliability data and reviewers' decisions.

The reliability data sets give the text signals (model probability, wording, toxicity) with a
label; the model's probability on a training item comes from a model that did not see that
item (5-fold), or the combination would learn to trust an over-fitted number. Tier, story
growth and a match with a judged claim never vary there (social posts, no stories, no claims):
they keep prior weights until enough reviewed items show them varying, and then are fitted
too. The fit is a penalised logistic regression with those prior parts as a fixed offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from classifier.features import TextFeaturizer
from classifier.linear import LinearTextModel
from classifier.risk import SIGNALS, TIER_STRENGTH, RiskContext, RiskScorer, RiskWeights
from classifier.train import TaskSpec, expected_calibration_error, load_task_data
from mediawatch.model import SourceTier

# Prior log-odds weights of the signals the labelled data cannot show. A near copy of an item
# judged false is close to certain to be false again (similarity 0.8 adds 4); official
# sources lower the odds (tier strength 0 against social's 0.6: −1.2); a story that gathered
# 32 items in a day adds 1.5.
PRIOR_COEFFICIENTS = {"source_tier": 2.0, "story_growth": 1.5, "claim_match": 5.0}
# What those signals are in the labelled data: social posts outside any story or claim.
LABELLED_REFERENCE = {
    "source_tier": TIER_STRENGTH[SourceTier.SOCIAL],
    "story_growth": 0.0,
    "claim_match": 0.0,
}
# A prior signal is fitted once this many reviewed rows show it away from its reference.
MIN_ROWS_TO_FIT = 30
L2_PENALTY = 1.0
SHRUNK_TO_ALONE = ("sensational", "call_to_share", "unverified_source", "toxicity")
ALONE_PRIOR_STRENGTH = 20.0
FOLDS = 5


@dataclass(frozen=True)
class SignalRow:
    values: dict[str, float]
    unreliable: bool


def _out_of_fold_probabilities(
    spec: TaskSpec, model: LinearTextModel, texts: list[str], labels: list[str], seed: int
) -> np.ndarray:
    features = TextFeaturizer(model.card.featurizer).transform(texts)
    # Hashed columns no text uses keep a zero weight; leaving them out gives the same fit,
    # and the solver's cost grows with the columns.
    features = features[:, np.unique(features.indices)]
    positive = np.zeros(len(texts))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train_rows, held_rows in folds.split(texts, labels):
        estimator = LogisticRegression(C=spec.regularisation, max_iter=2000, random_state=seed)
        estimator.fit(features[train_rows], [labels[i] for i in train_rows])
        column = list(estimator.classes_).index(spec.classes[1])
        positive[held_rows] = estimator.predict_proba(features[held_rows])[:, column]
    return positive


def labelled_rows(
    texts: Sequence[str],
    labels: Sequence[str],
    unreliable_probabilities: Sequence[float],
    toxicity: LinearTextModel,
    scorer: RiskScorer,
) -> list[SignalRow]:
    toxic = toxicity.predict_proba(list(texts))[:, 1]
    rows = []
    for text, label, p_unreliable, p_toxic in zip(
        texts, labels, unreliable_probabilities, toxic, strict=True
    ):
        context = RiskContext(
            tier=SourceTier.SOCIAL,
            unreliable_probability=float(p_unreliable),
            toxicity_probability=float(p_toxic),
        )
        values = scorer.measure("", text, context).values
        rows.append(SignalRow(values, label == "unreliable"))
    return rows


def _univariate_coefficient(rows: Sequence[SignalRow], name: str) -> float:
    """The signal's weight when it is the only one: how much it says by itself."""
    return _fit(rows, [name], {}, {}, {name: 1.0})[1][name]


def _fit(
    rows: Sequence[SignalRow],
    fitted: list[str],
    priors: dict[str, float],
    prior_means: dict[str, float],
    penalties: dict[str, float],
) -> tuple[float, dict[str, float]]:
    """Intercept and coefficients of ``fitted`` (MAP: a Gaussian prior on each, centred on
    ``prior_means``, default 0, with strength ``penalties``); ``priors`` enter as an offset."""
    x = np.array([[row.values.get(name, 0.0) for name in fitted] for row in rows])
    y = np.array([row.unreliable for row in rows], dtype=float)
    offset = np.array(
        [
            sum(c * (row.values.get(n, 0.0) - LABELLED_REFERENCE[n]) for n, c in priors.items())
            for row in rows
        ]
    )
    means = np.array([prior_means.get(name, 0.0) for name in fitted])
    strengths = np.array([penalties.get(name, L2_PENALTY) for name in fitted])

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        logits = params[0] + x @ params[1:] + offset
        # log(1 + e^z) − y·z, computed without overflow.
        nll = np.sum(np.logaddexp(0.0, logits) - y * logits)
        residual = 1.0 / (1.0 + np.exp(-logits)) - y
        away = params[1:] - means
        gradient = np.concatenate([[residual.sum()], x.T @ residual + strengths * away])
        return nll + 0.5 * float(strengths @ (away * away)), gradient

    result = minimize(loss, np.zeros(len(fitted) + 1), jac=True, method="L-BFGS-B")
    return float(result.x[0]), dict(zip(fitted, map(float, result.x[1:]), strict=True))


def _scores(weights: RiskWeights, rows: Sequence[SignalRow]) -> dict:
    risk = np.array([weights.probability(row.values) for row in rows])
    model_only = np.array([row.values["unreliable_model"] for row in rows])
    truth = [row.unreliable for row in rows]
    labels = ["reliable", "unreliable"]
    named_truth = [labels[t] for t in truth]

    def described(p: np.ndarray) -> dict:
        return {
            "roc_auc": round(float(roc_auc_score(truth, p)), 4),
            "macro_f1_at_0.5": round(
                float(f1_score(truth, p >= 0.5, average="macro", zero_division=0)), 4
            ),
            "expected_calibration_error": round(
                expected_calibration_error(np.column_stack([1 - p, p]), named_truth, labels), 4
            ),
        }

    return {
        "n": len(rows),
        "risk": described(risk),
        "reliability_model_alone": described(model_only),
    }


def fit_risk_weights(
    spec: TaskSpec,
    data_dir: Path,
    reliability: LinearTextModel,
    toxicity: LinearTextModel,
    scorer: RiskScorer,
    seed: int = 13,
    reviewed: Sequence[SignalRow] = (),
) -> RiskWeights:
    """Weights fitted on the reliability data (and ``reviewed`` rows), scored on its dev."""
    train, dev, described = load_task_data(spec, data_dir, seed)
    train_texts, train_labels = [e.text for e in train], [e.label for e in train]
    out_of_fold = _out_of_fold_probabilities(spec, reliability, train_texts, train_labels, seed)
    train_rows = labelled_rows(train_texts, train_labels, out_of_fold, toxicity, scorer)
    dev_texts = [e.text for e in dev]
    dev_rows = labelled_rows(
        dev_texts,
        [e.label for e in dev],
        reliability.predict_proba(dev_texts)[:, 1],
        toxicity,
        scorer,
    )
    rows = [*train_rows, *reviewed]
    priors = {
        name: coefficient
        for name, coefficient in PRIOR_COEFFICIENTS.items()
        if sum(abs(r.values.get(name, 0.0) - LABELLED_REFERENCE[name]) > 1e-9 for r in reviewed)
        < MIN_ROWS_TO_FIT
    }
    fitted = [name for name in SIGNALS if name not in priors]
    # The reliability model reads the same words as the wording signals, so on its own data
    # their partial weights shrink towards zero; on text it misreads (no diacritics, teencode,
    # other topics) the wording still speaks. Each is pulled towards its weight alone.
    prior_means = {name: _univariate_coefficient(rows, name) for name in SHRUNK_TO_ALONE}
    penalties = dict.fromkeys(SHRUNK_TO_ALONE, ALONE_PRIOR_STRENGTH)
    intercept, coefficients = _fit(rows, fitted, priors, prior_means, penalties)
    trained_at = datetime.now(UTC).replace(microsecond=0)
    weights = RiskWeights(
        version=f"risk-logistic-{trained_at:%Y%m%d}-s{seed}"
        + (f"-r{len(reviewed)}-{trained_at:%H%M%S}" if reviewed else ""),
        intercept=intercept,
        coefficients={name: {**coefficients, **priors}[name] for name in SIGNALS},
        reference={name: LABELLED_REFERENCE[name] for name in priors},
        fitted=fitted,
        trained_at=trained_at.isoformat(),
        data={
            "directory": str(data_dir),
            "datasets": described,
            "reviewed_rows": len(reviewed),
            "reliability_model": reliability.card.version,
            "toxicity_model": toxicity.card.version,
        },
        notes=(
            "Logistic regression (L2 1.0) over the signals; the reliability probability of a "
            f"training item comes from {FOLDS}-fold cross-fitting. Prior weights (not fitted: "
            "too few reviewed items show them varying): "
            + (", ".join(f"{n} {c}" for n, c in priors.items()) or "none")
            + "."
        ),
    )
    weights.metrics = {"dev": _scores(weights, dev_rows)}
    return weights
