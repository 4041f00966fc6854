"""Tuning the risk combination on labelled items of the province: tiered, styled, written.

The reliability data sets are social posts without tiers, scams or impersonation; a
development set of labelled Lâm Đồng items (``tests/data/heldout/lamdong.dev.jsonl``, written
blind from a guideline) shows them all. Those items join the fit with a weight, and the
review threshold is chosen for the queue's target (recall ≥ 0.9 with at most 10 % false
flags), both by cross-validation grouped by story so no near copy is scored by a fit that saw
it. The test side of that set is never read here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from classifier.backends import TextModel
from classifier.risk import RiskContext, RiskScorer, RiskWeights, SignalRow
from classifier.risk_evaluation import RiskItem

# The queue's target: of the items that should reach a reviewer, this share does...
TARGET_RECALL = 0.9
# ...while at most this share of those that should not is flagged.
MAX_FALSE_FLAG_RATE = 0.1
# Weights of a tuning item against one item of the reliability data, tried by cross-validation.
TUNING_WEIGHTS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
FOLDS = 5


def tiered_rows(
    items: Sequence[RiskItem], reliability: TextModel, toxicity: TextModel, scorer: RiskScorer
) -> list[SignalRow]:
    """Each item's signals, read as the classifier reads an item (title, then text)."""
    texts = [f"{item.title}\n{item.text}" for item in items]
    unreliable = reliability.predict_proba(texts)[:, reliability.classes.index("unreliable")]
    toxic = toxicity.predict_proba(texts)[:, toxicity.classes.index("toxic")]
    rows = []
    for item, p_unreliable, p_toxic in zip(items, unreliable, toxic, strict=True):
        context = RiskContext(item.tier, float(p_unreliable), float(p_toxic))
        values = scorer.measure(item.title, item.text, context).values
        group = item.story or item.id or str(item.line)
        rows.append(SignalRow(values, item.flag, group=group))
    return rows


def threshold_for_recall(scores: np.ndarray, flags: np.ndarray, recall: float) -> float:
    """The highest threshold at which at least ``recall`` of flagged items score above."""
    positive = np.sort(scores[flags])[::-1]
    needed = max(1, int(np.ceil(recall * len(positive))))
    return float(positive[needed - 1])


def operating_point(scores: np.ndarray, flags: np.ndarray, threshold: float) -> dict:
    flagged = scores >= threshold
    return {
        "threshold": round(threshold, 4),
        "recall": round(float(flagged[flags].mean()), 4),
        "false_flag_rate": round(float(flagged[~flags].mean()), 4),
        "roc_auc": round(float(roc_auc_score(flags, scores)), 4),
    }


@dataclass(frozen=True)
class Tuned:
    weight: float
    threshold: float
    cross_validated: dict


def tune(
    rows: Sequence[SignalRow], fit: Callable[[Sequence[SignalRow], float], RiskWeights], seed: int
) -> Tuned:
    """The tuning items' weight and the review threshold, from out-of-fold risks.

    ``fit(tuning_rows, weight)`` fits on the reliability data plus ``tuning_rows`` at
    ``weight``. The weight kept is the one whose out-of-fold recall at ≤ 10 % false flags is
    highest (ties: ROC-AUC); the threshold gives the target recall out of fold.
    """
    flags = np.array([row.unreliable for row in rows])
    groups = [row.group for row in rows]
    folds = list(GroupKFold(n_splits=FOLDS).split(rows, flags, groups))
    results = {}
    for weight in TUNING_WEIGHTS:
        scores = np.zeros(len(rows))
        for train_rows, held_rows in folds:
            weights = fit([rows[i] for i in train_rows], weight)
            for i in held_rows:
                scores[i] = weights.probability(rows[i].values)
        negatives = np.sort(scores[~flags])[::-1]
        allowed = int(MAX_FALSE_FLAG_RATE * len(negatives))
        strictest = negatives[allowed] if allowed < len(negatives) else -1.0
        recall_at_limit = float((scores[flags] > strictest).mean())
        results[weight] = (recall_at_limit, roc_auc_score(flags, scores), scores)
    best = max(TUNING_WEIGHTS, key=lambda w: (results[w][0], results[w][1]))
    scores = results[best][2]
    threshold = threshold_for_recall(scores, flags, TARGET_RECALL)
    summary = {
        "folds": FOLDS,
        "seed": seed,
        "items": len(rows),
        "flagged": int(flags.sum()),
        "weights_tried": {
            str(w): {
                "recall_at_false_flag_rate_0.1": round(results[w][0], 4),
                "roc_auc": round(float(results[w][1]), 4),
            }
            for w in TUNING_WEIGHTS
        },
        "weight": best,
        "at_threshold": operating_point(scores, flags, threshold),
    }
    return Tuned(best, round(threshold, 4), summary)
