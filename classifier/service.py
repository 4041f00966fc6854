"""Load the models once, then classify many items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog
from scipy.sparse import csr_matrix

from classifier.backends import TextModel, load_task_model
from classifier.linear import LinearTextModel, ModelLoadError
from classifier.news_tone import headline_and_lead
from classifier.registry import SHIPPED_MODELS, ModelRegistry, RegistryError
from classifier.risk import ClaimMatch, RiskContext, RiskScorer
from classifier.taxonomy import Taxonomy
from classifier.timing import StageTimer, no_timer
from classifier.topic_model import TASK as TOPIC_TASK
from classifier.topic_model import THRESHOLD as TOPIC_THRESHOLD
from mediawatch.config import Settings
from mediawatch.model import Classification, Sentiment, SourceTier, TopicMatch
from mediawatch.stories import StoryStats

log = structlog.get_logger("mediawatch.classifier")

TEXT_TASKS = ("sentiment", "reliability", "section", "toxicity", "tone")
# The tone model reads a news item's headline and lead, not the whole text: it is asked apart.
NEWS_TONE = "tone"
# Press and official items are news: their tone, not a reviewer's sentiment, is what they carry.
NEWS_TIERS = frozenset({SourceTier.OFFICIAL, SourceTier.PRESS})
RISK_WEIGHTS_FILE = "risk.json"

__all__ = ["SHIPPED_MODELS", "Classifier", "ItemToClassify"]


@dataclass(frozen=True, slots=True)
class ItemToClassify:
    title: str
    text: str
    tier: SourceTier
    story: StoryStats | None = None
    claim: ClaimMatch | None = None


class Classifier:
    def __init__(
        self,
        taxonomy: Taxonomy,
        models: dict[str, TextModel],
        risk: RiskScorer,
        topic_model: LinearTextModel | None = None,
    ) -> None:
        missing = set(TEXT_TASKS) - set(models)
        if missing:
            raise ValueError(f"models missing for: {', '.join(sorted(missing))}")
        self.taxonomy = taxonomy
        self.models = models
        self.risk = risk
        self.model_versions = {task: model.card.version for task, model in models.items()}
        self.model_versions["risk"] = risk.weights.version
        self.topic_model = topic_model
        if topic_model is not None:
            self.model_versions[TOPIC_TASK] = topic_model.card.version

    @classmethod
    def load(cls, models_dir: Path | None = None) -> Classifier:
        """Every task's model from one directory (the shipped models by default)."""
        directory = models_dir or SHIPPED_MODELS
        return cls._load({task: directory for task in (*TEXT_TASKS, "risk")})

    @classmethod
    def from_settings(cls, settings: Settings) -> Classifier:
        """``models_dir`` when set, else each task's version in use in the registry."""
        if settings.models_dir is not None:
            return cls.load(settings.models_dir)
        registry = ModelRegistry(settings.models_registry)
        tasks = (*TEXT_TASKS, "risk", TOPIC_TASK)
        try:
            directories = {task: registry.directory_for(task) for task in tasks}
        except RegistryError as error:
            log.error("model_registry_unreadable", root=str(registry.root), error=str(error))
            raise ModelLoadError(f"the model registry cannot be read: {error}") from error
        return cls._load(directories)

    @classmethod
    def _load(cls, directories: dict[str, Path]) -> Classifier:
        topics_dir = directories.get(TOPIC_TASK)
        has_topic_model = topics_dir is not None and (topics_dir / f"{TOPIC_TASK}.json").exists()
        return cls(
            taxonomy=Taxonomy.load(),
            models={task: load_task_model(directories[task], task) for task in TEXT_TASKS},
            risk=RiskScorer.load(directories["risk"] / RISK_WEIGHTS_FILE),
            topic_model=LinearTextModel.load(topics_dir, TOPIC_TASK) if has_topic_model else None,
        )

    def _topics(self, item: ItemToClassify, learned: np.ndarray | None) -> list[TopicMatch]:
        """The taxonomy's topics, and those the learned topic model is confident of."""
        topics = self.taxonomy.match(item.title, item.text)
        if learned is None or self.topic_model is None:
            return topics
        found = {topic.id for topic in topics}
        version = self.topic_model.card.version
        for topic_id, probability in zip(self.topic_model.classes, learned, strict=True):
            if probability >= TOPIC_THRESHOLD and topic_id not in found:
                label = self.taxonomy.labels_vi.get(topic_id, topic_id)
                evidence = [f"mô hình chủ đề {version}: {probability:.2f}"]
                topics.append(TopicMatch(id=topic_id, label_vi=label, evidence=evidence))
        return topics

    def probabilities(
        self, texts: list[str], timer: StageTimer = no_timer
    ) -> dict[str, np.ndarray]:
        """Each task's class probabilities; models sharing a feature space share one pass."""
        features_by_config: dict[str, csr_matrix] = {}
        result = {}
        models = {task: model for task, model in self.models.items() if task != NEWS_TONE}
        if self.topic_model is not None:
            models[TOPIC_TASK] = self.topic_model
        for task, model in models.items():
            if not isinstance(model, LinearTextModel):  # a transformer reads the text itself
                with timer(f"predict {task}"):
                    result[task] = model.predict_proba(texts)
                continue
            key = model.card.featurizer.model_dump_json()
            if key not in features_by_config:
                features_by_config[key] = model.featurizer.transform(texts, timer)
            with timer(f"predict {task}"):
                result[task] = model.predict_proba_features(features_by_config[key])
        return result

    def _news_tone(
        self, items: Sequence[ItemToClassify], timer: StageTimer
    ) -> dict[int, np.ndarray]:
        """Tone probabilities of the press and official items, by their row in ``items``."""
        rows = [row for row, item in enumerate(items) if item.tier in NEWS_TIERS]
        if not rows:
            return {}
        with timer(f"predict {NEWS_TONE}"):
            leads = [headline_and_lead(items[row].title, items[row].text) for row in rows]
            return dict(zip(rows, self.models[NEWS_TONE].predict_proba(leads), strict=True))

    def classify_batch(
        self, items: Sequence[ItemToClassify], timer: StageTimer = no_timer
    ) -> list[Classification]:
        """One model call per batch, not per item.

        ``timer`` is told each stage as it runs (classifier/timing.py); by default nobody is.
        """
        if not items:
            return []
        texts = [f"{item.title}\n{item.text}" for item in items]
        probabilities = self.probabilities(texts, timer)
        learned = probabilities.get(TOPIC_TASK)
        tone_of = self._news_tone(items, timer)
        section = self.models["section"]
        unreliable = self.models["reliability"].classes.index("unreliable")
        toxic = self.models["toxicity"].classes.index("toxic")
        results = []
        for row, item in enumerate(items):
            with timer("topics"):
                topics = self._topics(item, None if learned is None else learned[row])
            context = RiskContext(
                tier=item.tier,
                unreliable_probability=float(probabilities["reliability"][row, unreliable]),
                toxicity_probability=float(probabilities["toxicity"][row, toxic]),
                story=item.story,
                claim=item.claim,
                model_versions=self.model_versions,
            )
            with timer("risk"):
                risk, reasons, signals = self.risk.score(item.title, item.text, context)
            with timer("results"):
                mood_model, mood = (
                    (self.models[NEWS_TONE], tone_of[row])
                    if row in tone_of
                    else (self.models["sentiment"], probabilities["sentiment"][row])
                )
                sentiment_scores = dict(zip(mood_model.classes, map(float, mood), strict=True))
                section_row = probabilities["section"][row]
                results.append(
                    Classification(
                        topics=topics,
                        sentiment=Sentiment(
                            max(sentiment_scores, key=sentiment_scores.__getitem__)
                        ),
                        sentiment_scores={k: round(v, 4) for k, v in sentiment_scores.items()},
                        section=section.classes[int(section_row.argmax())],
                        section_probability=round(float(section_row.max()), 4),
                        unreliable_probability=round(context.unreliable_probability, 4),
                        toxicity_probability=round(context.toxicity_probability, 4),
                        risk=risk,
                        reasons=reasons,
                        signals=signals,
                        model_versions=self.model_versions,
                    )
                )
        return results
