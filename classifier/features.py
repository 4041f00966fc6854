"""Text features that hold up with and without diacritics.

Word uni- and bigrams are taken twice, from the accented text and from its folded form, and
character n-grams from the folded form, all hashed into one space: accented input gains from
its accents, unaccented input still meets the folded half of what the model learned. Hashing
keeps the model file free of a vocabulary and the features deterministic.
"""

from __future__ import annotations

import threading
from itertools import chain

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils import murmurhash3_32

from classifier.timing import StageTimer, no_timer
from mediawatch.text import collapse, lower_form, normalize, normalize_for_model


class FeaturizerConfig(BaseModel):
    """Saved beside each model: the features it was trained on, to rebuild them exactly."""

    n_features: int = 2**18
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 4)
    max_chars: int = 4000
    # Contacts masked, repeats squeezed, teencode spelled out (normalize_for_model). Off by
    # default: older cards lack it, and on dev it moved macro-F1 by no more than noise
    # (python -m bench.segmentation).
    social_normalisation: bool = False
    # Character n-grams of the accented text too (folded ones are always taken): marks carry
    # meaning the folded form loses ("mất" lost / "mật" secret). Off in older cards.
    accented_chars: bool = False


WORD_PATTERN = r"(?u)\b\w+\b"
# Words whose character n-grams are kept hashed; past this the memory starts again.
MAX_CACHED_WORDS = 200_000


class _WordCharCounts:
    """Character n-gram counts of texts, built from each distinct word's counts, hashed once.

    ``char_wb`` n-grams never cross a space, so a text's counts are the sum of its words'
    counts: the same matrix HashingVectorizer gives, without cutting and hashing the n-grams
    of words it has seen before (the words of a language repeat; its n-grams are most of the
    featurizer's time).
    """

    def __init__(self, vectorizer: HashingVectorizer) -> None:
        self._vectorizer = vectorizer
        self._lock = threading.Lock()  # the API's threads may classify at once
        self._clear()

    def _clear(self) -> None:
        self._row_of: dict[str, int] = {}
        self._rows = csr_matrix((0, self._vectorizer.n_features), dtype=np.float64)

    def transform(self, texts: list[str]) -> csr_matrix:
        """``texts`` are words joined by single spaces (``collapse``)."""
        with self._lock:
            texts_words = [text.split() for text in texts]
            new = list({w: None for words in texts_words for w in words if w not in self._row_of})
            if len(self._row_of) + len(new) > MAX_CACHED_WORDS:
                self._clear()
                new = list({w: None for words in texts_words for w in words})
            if new:
                first = len(self._row_of)
                self._row_of.update({word: first + i for i, word in enumerate(new)})
                self._rows = sp.vstack([self._rows, self._vectorizer.transform(new)], format="csr")
            row_of, rows = self._row_of, self._rows
        word_ids = [row_of[w] for words in texts_words for w in words]
        indptr = np.cumsum([0, *map(len, texts_words)])
        word_counts = csr_matrix(
            (np.ones(len(word_ids)), word_ids, indptr), shape=(len(texts), rows.shape[0])
        )
        counts = csr_matrix(word_counts @ rows)
        counts.sum_duplicates()  # canonical (sorted) like HashingVectorizer's own output
        return counts


class _WordNgramColumns:
    """Word n-gram counts of texts: the matrix HashingVectorizer gives, hashed directly.

    Same tokenizer, same n-grams, same hash (MurmurHash3 of the UTF-8 n-gram, ``|h| mod
    n_features``), without FeatureHasher's generator per text: hashing an n-gram costs about
    what looking it up in a remembered-columns dict did, so nothing is remembered.
    """

    def __init__(self, vectorizer: HashingVectorizer) -> None:
        if vectorizer.alternate_sign:
            raise ValueError("word n-grams are counted without alternating signs")
        self._n_features = vectorizer.n_features
        self._preprocess = vectorizer.build_preprocessor()
        self._tokenize = vectorizer.build_tokenizer()
        self._words_are_split = vectorizer.token_pattern == WORD_PATTERN
        self._ngram_range = vectorizer.ngram_range

    def _tokens(self, text: str) -> list[str]:
        text = self._preprocess(text)
        # Folded text (ASCII letters and digits between spaces) needs no regular expression.
        if self._words_are_split and text.isascii() and text.replace(" ", "").isalnum():
            return text.split()
        return self._tokenize(text)

    def _ngrams(self, text: str) -> list[str]:
        tokens = self._tokens(text)
        low, high = self._ngram_range
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            # The shifted copies are shorter: zip stops at the last whole n-gram.
            grams += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
        return grams

    def transform(self, rows: list[tuple[str, ...]]) -> csr_matrix:
        """One row per tuple of texts: the sum of its texts' n-gram counts."""
        texts_grams = [[self._ngrams(text) for text in texts] for texts in rows]
        lengths = [sum(map(len, grams)) for grams in texts_grams]
        all_grams = chain.from_iterable(chain.from_iterable(texts_grams))
        hashes = np.fromiter(map(murmurhash3_32, all_grams), dtype=np.int64, count=sum(lengths))
        # int64: |-2**31| is 2**31, as FeatureHasher defines it.
        columns = np.abs(hashes) % self._n_features
        indptr = np.cumsum([0, *lengths])
        counts = csr_matrix(
            (np.ones(len(columns)), columns, indptr), shape=(len(rows), self._n_features)
        )
        counts.sum_duplicates()  # canonical (sorted) like HashingVectorizer's own output
        return counts


def inverse_document_frequency(features: csr_matrix) -> np.ndarray:
    """Smoothed idf of each column, as TfidfVectorizer has it: ln((1 + n) / (1 + df)) + 1."""
    document_frequency = np.bincount(features.indices, minlength=features.shape[1])
    return (np.log((1 + features.shape[0]) / (1 + document_frequency)) + 1).astype(np.float32)


def reweighted(features: csr_matrix, weights: np.ndarray) -> csr_matrix:
    """Rows of ``TextFeaturizer.transform`` with each column scaled, L2-normalised again.

    Scaling the normalised rows gives the same rows as scaling the counts before normalising,
    so models with and without idf can share one ``transform``.
    """
    scaled = features.copy()
    scaled.data *= weights[scaled.indices]
    return l2_normalize(scaled)


class TextFeaturizer:
    def __init__(self, config: FeaturizerConfig | None = None) -> None:
        self.config = config or FeaturizerConfig()
        common = {"n_features": self.config.n_features, "alternate_sign": False, "norm": None}
        self._words = _WordNgramColumns(
            HashingVectorizer(
                ngram_range=self.config.word_ngrams, token_pattern=WORD_PATTERN, **common
            )
        )
        self._chars = _WordCharCounts(
            HashingVectorizer(analyzer="char_wb", ngram_range=self.config.char_ngrams, **common)
        )

    def transform(self, texts: list[str], timer: StageTimer = no_timer) -> csr_matrix:
        clean = normalize_for_model if self.config.social_normalisation else normalize
        with timer("normalise"):
            cleaned = [clean(text[: self.config.max_chars]).lower() for text in texts]
            folded = [collapse(text) for text in cleaned]
        with timer("features"):
            counts = self._words.transform(
                list(zip(cleaned, folded, strict=True))
            ) + self._chars.transform(folded)
            if self.config.accented_chars:
                counts += self._chars.transform([" ".join(lower_form(t).split()) for t in cleaned])
            counts = csr_matrix(counts, dtype=np.float32)
            np.log1p(counts.data, out=counts.data)
            return l2_normalize(counts)
