"""Load the models once, then classify many items."""

from __future__ import annotations

from pathlib import Path

from classifier.linear import LinearTextModel
from classifier.risk import RiskScorer
from classifier.taxonomy import Taxonomy
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

    def classify_batch(self, items: list[tuple[str, str, SourceTier]]) -> list[Classification]:
        """Classify (title, text, tier) triples; one model call per batch, not per item."""
        if not items:
            return []
        texts = [f"{title}\n{text}" for title, text, _tier in items]
        if self.sentiment.card.featurizer == self.reliability.card.featurizer:
            features = self.sentiment.featurizer.transform(texts)  # shared: made once
            sentiments = self.sentiment.predict_proba_features(features)
            unreliable = self.reliability.predict_proba_features(features)[:, 1]
        else:
            sentiments = self.sentiment.predict_proba(texts)
            unreliable = self.reliability.predict_proba(texts)[:, 1]
        results = []
        for (title, text, tier), sentiment_row, p_unreliable in zip(
            items, sentiments, unreliable, strict=True
        ):
            scores = dict(zip(self.sentiment.classes, map(float, sentiment_row), strict=True))
            risk, reasons = self.risk.score(
                title, text, tier, float(p_unreliable), self.reliability.card.version
            )
            results.append(
                Classification(
                    topics=self.taxonomy.match(title, text),
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
