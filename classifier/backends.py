"""Which backend a task's model uses, read from what its directory holds.

A task's model is either linear (``<task>.npz`` + ``<task>.json``, the default shipped with the
code) or a fine-tuned transformer (a ``<task>.transformer/`` directory, see
``classifier/transformer.py``). Callers ask for a task and get something that predicts; torch
is imported only when a transformer model is actually there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from classifier.linear import LinearTextModel, ModelLoadError

TRANSFORMER_SUFFIX = ".transformer"


class Card(Protocol):
    task: str
    version: str


class TextModel(Protocol):
    """What every backend offers: class names, a card, probabilities per text."""

    @property
    def card(self) -> Card: ...

    @property
    def classes(self) -> list[str]: ...

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


def transformer_dir(directory: Path, task: str) -> Path:
    return directory / f"{task}{TRANSFORMER_SUFFIX}"


def load_task_model(directory: Path, task: str) -> TextModel:
    """The task's model in ``directory``: the transformer one where there is one, else linear.

    A transformer model is only there because an operator trained it into this directory, so
    it wins over the shipped linear files; removing ``<task>.transformer/`` switches back.
    """
    if transformer_dir(directory, task).is_dir():
        try:
            from classifier.transformer import TransformerTextModel
        except ImportError as error:  # the extra is not installed
            raise ModelLoadError(f"{transformer_dir(directory, task)}: {error}") from error
        model: TextModel = TransformerTextModel.load(directory, task)
    elif (directory / f"{task}.npz").is_file():
        model = LinearTextModel.load(directory, task)
    else:
        raise ModelLoadError(
            f"no model '{task}' in {directory}: expected {task}.npz with {task}.json (linear) "
            f"or a {task}{TRANSFORMER_SUFFIX}/ directory (transformers)"
        )
    return model
