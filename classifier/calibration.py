"""Temperature scaling: decision values of a linear model turned into honest probabilities."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature T whose ``softmax(scores / T)`` has the least log loss on ``truth``.

    ``scores`` are a linear model's decision values, one column per class, or one column (the
    positive class's logit) for two classes; ``truth`` holds column indices (0/1 for one column).
    Dividing weights and intercept by T gives the calibrated model in the same file format.
    """
    logits = np.column_stack([np.zeros(len(scores)), scores]) if scores.shape[1] == 1 else scores
    rows = np.arange(len(truth))

    def log_loss(log_temperature: float) -> float:
        return -float(log_softmax(logits / np.exp(log_temperature), axis=1)[rows, truth].mean())

    best = minimize_scalar(log_loss, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(best.x))
