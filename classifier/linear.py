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
    experts: list[str] = Field(
        default_factory=list,
        description="Data sets with a model of their own, mixed by a gate that tells which data "
        "set a text is like (empty: one model)",
    )


class LinearTextModel:
    """One linear model, or one per data set (``card.experts``) mixed by a linear gate.

    Experts: a data set's labels mean what its annotators meant (student feedback is not a
    product review), so each learns its own; the gate weighs them by how much a text is like
    each data set, and the mixture stays one sparse product and a softmax.
    """

    def __init__(
        self,
        card: ModelCard,
        coef: np.ndarray,
        intercept: np.ndarray,
        idf: np.ndarray | None = None,
        gate: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        if coef.shape != (len(intercept), card.featurizer.n_features):
            raise ValueError(f"{card.task}: weights do not match the card's feature space")
        experts = max(len(card.experts), 1)
        if len(intercept) % experts or (gate is None) != (len(card.experts) < 2):
            raise ValueError(f"{card.task}: weights do not match the card's experts")
        if gate is not None and gate[0].shape != (experts, card.featurizer.n_features):
            raise ValueError(f"{card.task}: the gate does not match the card's experts")
        self._rows_per_expert = len(intercept) // experts
        self.gate = (
            None if gate is None else (gate[0].astype(np.float32), gate[1].astype(np.float32))
        )
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
        scores = np.asarray(features @ self.coef.T + self.intercept, dtype=np.float64)
        if self.gate is None:
            return self._probabilities(scores)
        gate_scores = np.asarray(features @ self.gate[0].T + self.gate[1], dtype=np.float64)
        share = _softmax(gate_scores)
        rows = self._rows_per_expert
        return sum(
            share[:, [expert]] * self._probabilities(scores[:, expert * rows : (expert + 1) * rows])
            for expert in range(share.shape[1])
        )

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        """One model's class probabilities from its decision values."""
        if self.card.multi_label:
            return 1.0 / (1.0 + np.exp(-scores))
        if len(self.classes) == 2 and scores.shape[1] == 1:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        return _softmax(scores)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        extra = {} if self.idf is None else {"idf": self.idf}
        if self.gate is not None:
            extra.update(gate_coef=self.gate[0], gate_intercept=self.gate[1])
        np.savez_compressed(
            directory / f"{self.card.task}.npz", coef=self.coef, intercept=self.intercept, **extra
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
                gate = (
                    (weights["gate_coef"], weights["gate_intercept"])
                    if "gate_coef" in weights.files
                    else None
                )
                return cls(card, weights["coef"], weights["intercept"], idf, gate)
        except (OSError, ValueError, KeyError) as error:
            raise ModelLoadError(f"cannot load model '{task}' from {directory}: {error}") from error


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class ModelLoadError(RuntimeError):
    """A model file that is missing or does not match its card."""
