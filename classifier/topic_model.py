"""A policy-topic model learned from reviewers' topic corrections.

The taxonomy's phrases stay the first reader of topics; once reviewers have corrected enough
items, a multi-label linear model (one logistic regression per topic, on the same features as
the other models) adds the topics it is confident of, so wording the phrase lists miss is
still found. Only topics with enough corrected examples are learned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from classifier.features import FeaturizerConfig, TextFeaturizer
from classifier.linear import LinearTextModel, ModelCard

TASK = "topics"
# A topic is learned once this many corrected items have it (and as many do not).
MIN_POSITIVES = 20
FOLDS = 3
THRESHOLD = 0.5


def learnable_topics(examples: Sequence[tuple[str, tuple[str, ...]]]) -> list[str]:
    counts = Counter(topic for _text, topics in examples for topic in topics)
    return sorted(
        t for t, n in counts.items() if n >= MIN_POSITIVES and len(examples) - n >= MIN_POSITIVES
    )


def _fit(features: csr_matrix, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    coef, intercept = [], []
    for column in range(y.shape[1]):
        estimator = LogisticRegression(C=4.0, max_iter=2000, random_state=seed)
        estimator.fit(features, y[:, column])
        coef.append(estimator.coef_[0])
        intercept.append(estimator.intercept_[0])
    return np.array(coef), np.array(intercept)


def train_topic_model(
    examples: Sequence[tuple[str, tuple[str, ...]]], seed: int = 13
) -> LinearTextModel | None:
    """The model of the learnable topics, with cross-validated scores; None if none are."""
    topics = learnable_topics(examples)
    if not topics:
        return None
    config = FeaturizerConfig()
    features = TextFeaturizer(config).transform([text for text, _topics in examples])
    y = np.array([[topic in labels for topic in topics] for _text, labels in examples], dtype=int)
    predicted = np.zeros_like(y)
    for train_rows, held_rows in KFold(FOLDS, shuffle=True, random_state=seed).split(y):
        coef, intercept = _fit(features[train_rows], y[train_rows], seed)
        scores = features[held_rows] @ coef.T + intercept
        predicted[held_rows] = np.asarray(scores) > 0  # probability above one half
    coef, intercept = _fit(features, y, seed)
    trained_at = datetime.now(UTC).replace(microsecond=0)
    card = ModelCard(
        task=TASK,
        version=f"{TASK}-linear-{trained_at:%Y%m%d-%H%M%S}-s{seed}-r{len(examples)}",
        classes=topics,
        featurizer=config,
        trained_at=trained_at.isoformat(),
        seed=seed,
        multi_label=True,
        data={
            "reviewed_items": len(examples),
            "positives": dict(zip(topics, map(int, y.sum(axis=0)), strict=True)),
        },
        metrics={
            "dev": {
                "n": len(examples),
                "dev_origin": f"{FOLDS}-fold cross-validation over the corrected items",
                "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4),
                "micro_f1": round(float(f1_score(y, predicted, average="micro")), 4),
            }
        },
        notes="One logistic regression per topic (C=4) on the hashed n-gram features; "
        f"topics with at least {MIN_POSITIVES} corrected examples each way.",
    )
    return LinearTextModel(card, coef, intercept)
