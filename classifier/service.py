"""Load the models once, then classify many items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from classifier.linear import LinearTextModel
from classifier.risk import RiskScorer
from classifier.taxonomy import Taxonomy
from classifier.timing import StageTimer, no_timer
from mediawatch.model import Classification, Sentiment, SourceTier

SHIPPED_MODELS = Path(__file__).with_name("models")


class Classifier:
    def __init__(
        self,
        taxonomy: Taxonomy,
        sentiment: LinearTextModel,
        reliability: LinearTextModel,
        risk: RiskScorer,
    ) -> None:
        self.taxonomy = taxonomy
        self.sentiment = sentiment
        self.reliability = reliability
        self.risk = risk

    @classmethod
    def load(cls, models_dir: Path | None = None) -> Classifier:
        directory = models_dir or SHIPPED_MODELS
        return cls(
            taxonomy=Taxonomy.load(),
            sentiment=LinearTextModel.load(directory, "sentiment"),
            reliability=LinearTextModel.load(directory, "reliability"),
            risk=RiskScorer.load(),
        )

    def _probabilities(self, texts: list[str], timer: StageTimer) -> dict[str, np.ndarray]:
        """Each model's probabilities; features made once for the models sharing a featurizer."""
        features: dict[str, csr_matrix] = {}
        probabilities = {}
        for task, model in (("sentiment", self.sentiment), ("reliability", self.reliability)):
            config = model.card.featurizer.model_dump_json()
            if config not in features:
                features[config] = model.featurizer.transform(texts, timer)
            with timer(f"predict {task}"):
                probabilities[task] = model.predict_proba_features(features[config])
        return probabilities

    def classify_batch(
        self, items: list[tuple[str, str, SourceTier]], timer: StageTimer = no_timer
    ) -> list[Classification]:
        """Classify (title, text, tier) triples; one model call per batch, not per item.

        ``timer`` is told each stage as it runs (classifier/timing.py); by default nobody is.
        """
        if not items:
            return []
        texts = [f"{title}\n{text}" for title, text, _tier in items]
        probabilities = self._probabilities(texts, timer)
        sentiments, unreliable = probabilities["sentiment"], probabilities["reliability"][:, 1]
        results = []
        for (title, text, tier), sentiment_row, p_unreliable in zip(
            items, sentiments, unreliable, strict=True
        ):
            with timer("topics"):
                topics = self.taxonomy.match(title, text)
            with timer("risk"):
                risk, reasons = self.risk.score(
                    title, text, tier, float(p_unreliable), self.reliability.card.version
                )
            with timer("results"):
                scores = dict(zip(self.sentiment.classes, map(float, sentiment_row), strict=True))
                results.append(
                    Classification(
                        topics=topics,
                        sentiment=Sentiment(max(scores, key=scores.__getitem__)),
                        sentiment_scores={k: round(v, 4) for k, v in scores.items()},
                        unreliable_probability=round(float(p_unreliable), 4),
                        risk=risk,
                        reasons=reasons,
                        model_versions={
                            "sentiment": self.sentiment.card.version,
                            "reliability": self.reliability.card.version,
                        },
                    )
                )
        return results
