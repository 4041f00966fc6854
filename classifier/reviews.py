"""Reviewers' decisions as training labels.

``false`` and ``misleading`` mean the item was unreliable, ``accurate`` that it was reliable;
``unverified`` and ``not_relevant`` say nothing about reliability and are left out. The risk
model learns from the signal values stored with the item when it was scored, so it learns
what reviewers saw, not what today's models would say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from classifier.labelled_data import Example
from classifier.risk_fit import SignalRow
from classifier.topic_labels import TopicLabel
from mediawatch.model import CLOSED_STATES, Document, ReviewOutcome

RELIABILITY_LABELS = {
    ReviewOutcome.FALSE: "unreliable",
    ReviewOutcome.MISLEADING: "unreliable",
    ReviewOutcome.ACCURATE: "reliable",
}


@dataclass
class ReviewedLabels:
    reliability: list[Example] = field(default_factory=list)
    risk: list[SignalRow] = field(default_factory=list)
    topics: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    skipped: int = 0  # decided items whose outcome says nothing about reliability


def reviewed_labels(
    documents: Iterable[Document], topic_labels: Mapping[str, TopicLabel]
) -> ReviewedLabels:
    """Labels from the decided items and from the items whose topics were corrected."""
    labels = ReviewedLabels()
    for document in documents:
        text = f"{document.title}\n{document.text}".strip()
        corrected = topic_labels.get(document.id)
        if corrected is not None:
            labels.topics.append((text, corrected.topics))
        review = document.review
        # Escalation and the official response come after the decision and keep it.
        if review.state not in CLOSED_STATES or review.outcome is None:
            continue
        label = RELIABILITY_LABELS.get(review.outcome)
        if label is None:
            labels.skipped += 1
            continue
        labels.reliability.append(Example(f"review:{document.id}", text, label))
        signals = document.classification.signals if document.classification else {}
        if signals:
            labels.risk.append(SignalRow(dict(signals), label == "unreliable"))
    return labels
