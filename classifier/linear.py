"""A linear text model stored as plain arrays and JSON, not pickle.

Plain arrays load fast, cannot run code when opened, and do not break when scikit-learn is
upgraded: training uses scikit-learn, prediction is one sparse matrix product.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from scipy.sparse import csr_matrix

from classifier.features import FeaturizerConfig, TextFeaturizer, reweighted


class ModelCard(BaseModel):
    """How a model was made and how well it did: written beside the weights."""

    task: str
    version: str
    classes: list[str]
    featurizer: FeaturizerConfig
    trained_at: str
    seed: int
    data: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""
    multi_label: bool = Field(
        default=False, description="Each class is a yes/no of its own (topics), not one of many"
    )


class LinearTextModel:
    def __init__(
        self,
        card: ModelCard,
        coef: np.ndarray,
        intercept: np.ndarray,
        idf: np.ndarray | None = None,
    ) -> None:
        if coef.shape != (len(intercept), card.featurizer.n_features):
            raise ValueError(f"{card.task}: weights do not match the card's feature space")
        self.card = card
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.featurizer = TextFeaturizer(card.featurizer)
        if idf is not None and idf.shape != (card.featurizer.n_features,):
            raise ValueError(f"{card.task}: idf weights do not match the card's feature space")
        # Inverse document frequencies on train, applied to the featurizer's rows (None: none).
        self.idf = None if idf is None else idf.astype(np.float32)

    @property
    def classes(self) -> list[str]:
        return self.card.classes

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in ``classes`` order (rows sum to one
        unless the model is multi-label)."""
        return self.predict_proba_features(self.featurizer.transform(texts))

    def predict_proba_features(self, features: csr_matrix) -> np.ndarray:
        """The same from features already made by an identical featurizer."""
        if self.idf is not None:
            features = reweighted(features, self.idf)
        scores = features @ self.coef.T + self.intercept
        scores = np.asarray(scores, dtype=np.float64)
        if self.card.multi_label:
            return 1.0 / (1.0 + np.exp(-scores))
        if len(self.classes) == 2 and scores.shape[1] == 1:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        idf = {} if self.idf is None else {"idf": self.idf}
        np.savez_compressed(
            directory / f"{self.card.task}.npz", coef=self.coef, intercept=self.intercept, **idf
        )
        (directory / f"{self.card.task}.json").write_text(
            self.card.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path, task: str) -> LinearTextModel:
        card_path = directory / f"{task}.json"
        try:
            card = ModelCard.model_validate(json.loads(card_path.read_text(encoding="utf-8")))
            with np.load(directory / f"{task}.npz", allow_pickle=False) as weights:
                idf = weights["idf"] if "idf" in weights.files else None
                return cls(card, weights["coef"], weights["intercept"], idf)
        except (OSError, ValueError, KeyError) as error:
            raise ModelLoadError(f"cannot load model '{task}' from {directory}: {error}") from error


class ModelLoadError(RuntimeError):
    """A model file that is missing or does not match its card."""
