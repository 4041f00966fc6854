"""Fit how the risk signals combine, on labelled reliability data and reviewers' decisions.

The reliability data sets give the text signals (model probability, wording, toxicity) with a
label; the model's probability on a training item comes from a model that did not see that
item (5-fold), or the combination would learn to trust an over-fitted number. The fit is a
logistic regression with a Gaussian prior on every weight (maximum a posteriori):

- tier, story growth and a match with a judged claim never vary in those data sets (social
  posts, no stories, no claims): their prior is a stated weight, which is what they keep
  until reviewed items show them varying, and which those items then move gradually;
- wording and toxicity are pulled towards their weight when each is the only signal: the
  reliability model reads the same words, so on its own data their partial weights shrink to
  nothing, yet on text it misreads (no diacritics, teencode, other topics) they still speak;
- the reliability probability has a weak prior at zero.

Every signal is centred on its value in the labelled data, so the intercept describes a
social post outside any story or claim and a reason appears only where an item differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from classifier.backends import TextModel
from classifier.features import TextFeaturizer, reweighted
from classifier.linear import LinearTextModel
from classifier.risk import (
    SIGNALS,
    TIER_STRENGTH,
    WORDING_SIGNALS,
    RiskContext,
    RiskScorer,
    RiskWeights,
    SignalRow,
)
from classifier.risk_tuning import tune
from classifier.train import (
    TaskSpec,
    expected_calibration_error,
    load_task_data,
    training_estimator,
)
from mediawatch.model import SourceTier
from mediawatch.text import fold

# Prior log-odds weights of the signals the labelled data cannot show. An item the matcher
# links to a claim judged false (probability 0.6 or more that it repeats it) is close to
# certain to be false again, whatever its source: 10 · 0.6 adds 6, more than the press tier
# takes away; official sources lower the odds; a story that gathered 32 items in a day adds 1.5.
PRIOR_COEFFICIENTS = {"source_tier": 2.0, "story_growth": 1.5, "claim_match": 10.0}
# Scams and impersonation are not in the reliability data (its posts are news and rumours;
# the scams it holds are warnings about them, labelled reliable): their prior is stated too,
# a request for an OTP or a threat of arrest in the name of the police making a post about
# as suspect as a near copy of a judged claim; the written tuning items move them.
STATED_WORDING_PRIORS = {"scam": 4.0, "impersonation": 3.0}
# How firmly those priors hold: about as much as a few dozen reviewed items that vary.
STATED_PRIOR_STRENGTH = 5.0
# The signals' values in the labelled data where they do not vary (social posts outside any
# story or claim); the others are centred on zero.
LABELLED_REFERENCE = {name: 0.0 for name in SIGNALS} | {
    "source_tier": TIER_STRENGTH[SourceTier.SOCIAL]
}
# Model probabilities are centred on their mean over the training rows: a reason "the model
# finds it unreliable (16%)" must not appear for an item the model finds less suspect than
# the average post.
CENTRED_ON_MEAN = ("unreliable_model", "model_without_diacritics", "toxicity")
SHRUNK_TO_ALONE = (
    *(name for name in WORDING_SIGNALS if name not in STATED_WORDING_PRIORS),
    "toxicity",
)
ALONE_PRIOR_STRENGTH = 20.0
WEAK_PRIOR_STRENGTH = 1.0
FOLDS = 5


def _out_of_fold_probabilities(
    spec: TaskSpec, model: LinearTextModel, texts: list[str], labels: list[str], seed: int
) -> np.ndarray:
    """The positive class's probability of each text from a model fitted like ``model`` (its
    features, idf weights and solver) on the other folds."""
    features = TextFeaturizer(model.card.featurizer).transform(texts)
    if model.idf is not None:  # unsupervised, learned on the same training texts
        features = reweighted(features, model.idf)
    # Hashed columns no text uses keep a zero weight; leaving them out gives the same fit,
    # and the solver's cost grows with the columns.
    features = features[:, np.unique(features.indices)]
    positive = np.zeros(len(texts))
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    for train_rows, held_rows in folds.split(texts, labels):
        estimator = training_estimator(spec, seed)
        estimator.fit(features[train_rows], [labels[i] for i in train_rows])
        column = list(estimator.classes_).index(spec.classes[1])
        positive[held_rows] = estimator.predict_proba(features[held_rows])[:, column]
    return positive


def labelled_rows(
    texts: Sequence[str],
    labels: Sequence[str],
    unreliable_probabilities: Sequence[float],
    toxicity: TextModel,
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


@dataclass(frozen=True)
class Prior:
    mean: float
    strength: float


def reference_values(rows: Sequence[SignalRow]) -> dict[str, float]:
    """Where each signal is centred: model probabilities on their mean, the rest as labelled
    data shows them when they do not vary."""
    reference = dict(LABELLED_REFERENCE)
    for name in CENTRED_ON_MEAN:
        reference[name] = round(float(np.mean([row.values[name] for row in rows])), 4)
    return reference


def _fit(
    rows: Sequence[SignalRow], priors: dict[str, Prior], reference: dict[str, float]
) -> tuple[float, dict[str, float]]:
    """Intercept and each signal's weight: the maximum a posteriori logistic regression."""
    names = list(priors)
    x = np.array([[row.values.get(n, 0.0) - reference[n] for n in names] for row in rows])
    y = np.array([row.unreliable for row in rows], dtype=float)
    row_weights = np.array([row.weight for row in rows])
    means = np.array([priors[name].mean for name in names])
    strengths = np.array([priors[name].strength for name in names])

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        logits = params[0] + x @ params[1:]
        # log(1 + e^z) − y·z, computed without overflow.
        nll = np.sum(row_weights * (np.logaddexp(0.0, logits) - y * logits))
        residual = row_weights * (1.0 / (1.0 + np.exp(-logits)) - y)
        away = params[1:] - means
        gradient = np.concatenate([[residual.sum()], x.T @ residual + strengths * away])
        return nll + 0.5 * float(strengths @ (away * away)), gradient

    start = np.concatenate([[0.0], means])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), dict(zip(names, map(float, result.x[1:]), strict=True))


def signal_priors(rows: Sequence[SignalRow], reference: dict[str, float]) -> dict[str, Prior]:
    """Each signal's prior (see the module's docstring); the wording's from ``rows``."""
    weak = Prior(0.0, WEAK_PRIOR_STRENGTH)
    priors = dict.fromkeys(SIGNALS, weak)
    for name in SHRUNK_TO_ALONE:
        _intercept, alone = _fit(rows, {name: weak}, reference)
        priors[name] = Prior(round(alone[name], 4), ALONE_PRIOR_STRENGTH)
    for name, coefficient in (PRIOR_COEFFICIENTS | STATED_WORDING_PRIORS).items():
        priors[name] = Prior(coefficient, STATED_PRIOR_STRENGTH)
    return priors


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
    toxicity: TextModel,
    scorer: RiskScorer,
    seed: int = 13,
    reviewed: Sequence[SignalRow] = (),
    tuning: Sequence[SignalRow] = (),
) -> RiskWeights:
    """Weights fitted on the reliability data (and ``reviewed`` rows), scored on its dev.

    ``tuning`` rows (labelled items of the province, classifier/risk_tuning.py) join the fit
    at the weight cross-validation picks, and set the review threshold.

    ``reliability`` must have been trained with the same ``seed``: the seed carves the dev
    items, and a model that trained on them would make the dev figures flatter it.
    """
    if reliability.card.seed != seed:
        raise ValueError(
            f"the reliability model {reliability.card.version} was trained with seed "
            f"{reliability.card.seed}; fit the risk weights with the same seed ({seed} given)"
        )
    train, dev, described = load_task_data(spec, data_dir, seed)
    train_texts, train_labels = [e.text for e in train], [e.label for e in train]
    out_of_fold = _out_of_fold_probabilities(spec, reliability, train_texts, train_labels, seed)
    train_rows = labelled_rows(train_texts, train_labels, out_of_fold, toxicity, scorer)
    dev_labels = [e.label for e in dev]

    def dev_rows_of(texts: list[str]) -> list[SignalRow]:
        probabilities = reliability.predict_proba(texts)[:, 1]
        return labelled_rows(texts, dev_labels, probabilities, toxicity, scorer)

    dev_rows = dev_rows_of([e.text for e in dev])
    folded_dev_rows = dev_rows_of([fold(e.text) for e in dev])
    reference = reference_values(train_rows)

    def fitted(tuning_rows: Sequence[SignalRow], weight: float) -> RiskWeights:
        rows = [*train_rows, *(replace(row, weight=weight) for row in tuning_rows), *reviewed]
        priors = signal_priors(rows, reference)
        intercept, coefficients = _fit(rows, priors, reference)
        return RiskWeights(
            version="fitting",
            intercept=intercept,
            coefficients=coefficients,
            reference=reference,
            priors={name: [prior.mean, prior.strength] for name, prior in priors.items()},
        )

    tuned = tune(tuning, fitted, seed) if tuning else None
    final = fitted(tuning, tuned.weight if tuned else 1.0)
    trained_at = datetime.now(UTC).replace(microsecond=0)
    weights = RiskWeights(
        version=f"risk-logistic-{trained_at:%Y%m%d}-s{seed}"
        + (f"-r{len(reviewed)}-{trained_at:%H%M%S}" if reviewed else ""),
        intercept=final.intercept,
        coefficients=final.coefficients,
        reference=reference,
        priors=final.priors,
        review_threshold=tuned.threshold if tuned else None,
        trained_at=trained_at.isoformat(),
        data={
            "directory": str(data_dir),
            "datasets": described,
            "reviewed_rows": len(reviewed),
            "tuning_rows": len(tuning),
            "reliability_model": reliability.card.version,
            "toxicity_model": toxicity.card.version,
        },
        notes=(
            "Logistic regression with a Gaussian prior on each weight (maximum a posteriori); "
            f"the reliability probability of a training item comes from {FOLDS}-fold "
            "cross-fitting. Priors: stated weights for tier, story growth and claim match "
            f"(strength {STATED_PRIOR_STRENGTH}), each wording signal's and toxicity's weight "
            f"alone (strength {ALONE_PRIOR_STRENGTH}), zero for the reliability probability "
            f"(strength {WEAK_PRIOR_STRENGTH})."
        ),
    )
    weights.metrics = {
        "dev": _scores(weights, dev_rows),
        "dev_without_diacritics": _scores(weights, folded_dev_rows),
    }
    if tuned is not None:
        weights.metrics["tuning_cross_validated"] = tuned.cross_validated
    return weights
