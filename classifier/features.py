"""Text features that hold up with and without diacritics.

Word uni- and bigrams are taken twice, from the accented text and from its folded form, and
character n-grams from the folded form, all hashed into one space: accented input gains from
its accents, unaccented input still meets the folded half of what the model learned. Hashing
keeps the model file free of a vocabulary and the features deterministic.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from mediawatch.text import collapse, normalize


class FeaturizerConfig(BaseModel):
    """Saved beside each model: the features it was trained on, to rebuild them exactly."""

    n_features: int = 2**18
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 4)
    max_chars: int = 4000


class TextFeaturizer:
    def __init__(self, config: FeaturizerConfig | None = None) -> None:
        self.config = config or FeaturizerConfig()
        common = {"n_features": self.config.n_features, "alternate_sign": False, "norm": None}
        self._words = HashingVectorizer(
            ngram_range=self.config.word_ngrams, token_pattern=r"(?u)\b\w+\b", **common
        )
        self._chars = HashingVectorizer(
            analyzer="char_wb", ngram_range=self.config.char_ngrams, **common
        )

    def transform(self, texts: list[str]) -> csr_matrix:
        cleaned = [normalize(text[: self.config.max_chars]).lower() for text in texts]
        folded = [collapse(text) for text in cleaned]
        counts = (
            self._words.transform(cleaned)
            + self._words.transform(folded)
            + self._chars.transform(folded)
        )
        counts = csr_matrix(counts, dtype=np.float32)
        np.log1p(counts.data, out=counts.data)
        return l2_normalize(counts)
