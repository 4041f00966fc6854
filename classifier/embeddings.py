"""Word and subword vectors of folded Vietnamese, shipped as int8 arrays and a JSON card.

Claim matching compares *matching forms* (teencode spelled out, repeats squeezed, no case,
no diacritics, đ→d: ``classifier.claim_matching.matching_form``), so the vectors are trained
on and looked up by those forms: "Sạt lở", "sat lo" and "sạt lỡ" all meet in one word.

A word of the vocabulary has its trained vector. Any other word (a typo, OCR noise, a name
the training texts never had) is the sum of its character n-gram vectors: the n-grams of
"<word>" of 3 to 5 characters, hashed exactly as gensim's FastText hashes them (FNV-1a over
UTF-8 bytes with Facebook's signed-char quirk, modulo the bucket count), so the rows shipped
are the rows gensim trained. Only buckets some vocabulary word's n-grams fall into were ever
trained; the others hold gensim's random start values, so they are not shipped and count as
zero: the file stays small and an unseen n-gram adds nothing instead of noise.

Arrays are plain ``npz`` (no pickle: nothing runs when the file is opened), int8 with one
float32 scale per row. The card carries the file's SHA-256 and shapes, so a damaged file or
one that does not belong to its card is refused with a clear error, not read as nonsense.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from classifier.linear import ModelLoadError
from classifier.registry import SHIPPED_MODELS

NAME = "embeddings"
# SIF's smoothing constant (Arora et al. 2017): a word of probability p weighs a / (a + p).
SIF_A = 1e-3
# Vectors of words outside the vocabulary kept once computed; past this the cache starts again.
MAX_CACHED_WORDS = 100_000
_ARRAYS = (
    "words",
    "counts",
    "word_q",
    "word_scale",
    "bucket_ids",
    "bucket_q",
    "bucket_scale",
    "common",
)


class EmbeddingCard(BaseModel):
    """How the vectors were made and what they measured: written beside the arrays."""

    task: str = NAME
    version: str
    trained_at: str
    seed: int
    method: str = Field(description="gensim FastText objective: skipgram or cbow")
    dims: int
    window: int
    min_count: int
    epochs: int
    min_n: int = 3
    max_n: int = 5
    buckets: int = Field(description="Modulus of the n-gram hash (gensim's `bucket`)")
    bucket_rows: int = Field(description="Trained n-gram rows shipped (the others are zero)")
    vocabulary: int
    tokens: int = Field(description="Words in the training texts (one pass)")
    sif_a: float = SIF_A
    size_bytes: int = 0
    sha256: str = ""
    training_seconds: float = 0.0
    data: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""


def _fnv1a(data: bytes) -> int:
    """gensim's ``ft_hash_bytes``: 32-bit FNV-1a, each byte taken as a *signed* char."""
    h = 2166136261
    for byte in data:
        h ^= (byte - 256 if byte > 127 else byte) & 0xFFFFFFFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def ngram_hashes(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """Bucket of each character n-gram of ``<word>``, as gensim's ``ft_ngram_hashes``.

    N-grams are cut on UTF-8 character boundaries; the lone "<" and ">" are not n-grams.
    """
    data = f"<{word}>".encode()
    size = len(data)
    hashes = []
    for start in range(size):
        if data[start] & 0xC0 == 0x80:  # inside a multi-byte character
            continue
        end, length = start, 1
        while end < size and length <= max_n:
            end += 1
            while end < size and data[end] & 0xC0 == 0x80:
                end += 1
            if length >= min_n and not (length == 1 and (start == 0 or end == size)):
                hashes.append(_fnv1a(data[start:end]) % buckets)
            length += 1
    return hashes


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and one scale per row (largest magnitude maps to 127)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    peak = np.abs(matrix).max(axis=1) if matrix.size else np.zeros(len(matrix), np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.rint(matrix / scale[:, None]).astype(np.int8), scale


def dequantise(rows: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return rows.astype(np.float32) * scale[:, None]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


class WordVectors:
    """Vectors of the words of matching forms, and SIF sentence vectors built from them."""

    def __init__(self, card: EmbeddingCard, arrays: dict[str, np.ndarray]) -> None:
        _check_shapes(card, arrays)
        self.card = card
        self._arrays = arrays
        self.dims = card.dims
        self.index = {str(word): i for i, word in enumerate(arrays["words"])}
        counts = arrays["counts"].astype(np.float64)
        # SIF weights a / (a + p(w)); a word never counted (outside the vocabulary) weighs 1.
        self._weights = (card.sif_a / (card.sif_a + counts / max(counts.sum(), 1.0))).astype(
            np.float32
        )
        self._matrix = unit_rows(dequantise(arrays["word_q"], arrays["word_scale"]))
        self._matrix.flags.writeable = False  # rows are handed out: nobody may change them
        self._bucket_ids = arrays["bucket_ids"]
        self._common = arrays["common"].astype(np.float32)
        self._oov: dict[str, np.ndarray] = {}

    @classmethod
    def build(
        cls,
        card: EmbeddingCard,
        words: list[str],
        counts: np.ndarray,
        word_vectors: np.ndarray,
        bucket_ids: np.ndarray,
        bucket_vectors: np.ndarray,
        common: np.ndarray | None = None,
    ) -> WordVectors:
        """Quantise float vectors (word rows made unit length first) into a shippable model."""
        order = np.argsort(bucket_ids, kind="stable")
        word_q, word_scale = quantise(unit_rows(np.asarray(word_vectors, np.float32)))
        bucket_q, bucket_scale = quantise(np.asarray(bucket_vectors, np.float32)[order])
        arrays = {
            "words": np.array(words, dtype=str),
            "counts": np.asarray(counts, dtype=np.int64),
            "word_q": word_q,
            "word_scale": word_scale,
            "bucket_ids": np.asarray(bucket_ids, dtype=np.int64)[order],
            "bucket_q": bucket_q,
            "bucket_scale": bucket_scale,
            "common": np.zeros(card.dims, np.float32) if common is None else common,
        }
        return cls(card, arrays)

    def with_common(self, common: np.ndarray) -> WordVectors:
        """The same vectors with the common direction sentence vectors are freed of."""
        return WordVectors(self.card, {**self._arrays, "common": common.astype(np.float32)})

    def with_card(self, card: EmbeddingCard) -> WordVectors:
        return WordVectors(card, self._arrays)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray:
        """Unit vector of one folded word (zero when none of its n-grams was trained)."""
        row = self.index.get(word)
        if row is not None:
            return self._matrix[row]
        found = self._oov.get(word)
        if found is None:
            found = self._subword_vector(word)
            found.flags.writeable = False
            if len(self._oov) >= MAX_CACHED_WORDS:
                self._oov = {}
            self._oov[word] = found
        return found

    def _subword_vector(self, word: str) -> np.ndarray:
        card = self.card
        hashes = np.array(ngram_hashes(word, card.min_n, card.max_n, card.buckets), np.int64)
        # Every hash with a shipped row, duplicates included: gensim sums them as often.
        ids = self._bucket_ids
        rows = np.minimum(np.searchsorted(ids, hashes), max(len(ids) - 1, 0))
        rows = rows[ids[rows] == hashes] if len(ids) else rows[:0]
        if not len(rows):
            return np.zeros(self.dims, np.float32)
        summed = dequantise(self._arrays["bucket_q"][rows], self._arrays["bucket_scale"][rows])
        return unit_rows(summed.sum(axis=0))

    def words(self, form: str) -> np.ndarray:
        """One unit row per word of a matching form (zero rows for words without vector)."""
        tokens = form.split()
        if not tokens:
            return np.zeros((0, self.dims), np.float32)
        return np.stack([self.vector(word) for word in tokens])

    def weight(self, word: str) -> float:
        """SIF weight a / (a + p(word)): frequent words count for little, unseen ones fully."""
        row = self.index.get(word)
        return 1.0 if row is None else float(self._weights[row])

    def sentence(self, form: str) -> np.ndarray:
        """Unit SIF vector of a matching form: weighted mean of its words' vectors, less the
        direction shared by all texts (so unrelated texts are not alike by default); zero
        for a form without words."""
        tokens = form.split()
        if not tokens:
            return np.zeros(self.dims, np.float32)
        weights = np.array([self.weight(word) for word in tokens], np.float32)
        summed = weights @ self.words(form)
        summed -= (summed @ self._common) * self._common
        return unit_rows(summed)

    def save(self, directory: Path) -> Path:
        """Write ``embeddings.npz`` and its card (size and SHA-256 of the arrays filled in)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{NAME}.npz"
        np.savez_compressed(path, **self._arrays)
        data = path.read_bytes()
        self.card = self.card.model_copy(
            update={"size_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
        (directory / f"{NAME}.json").write_text(
            self.card.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def load(cls, directory: Path) -> WordVectors:
        """The vectors of ``directory``; ModelLoadError if missing, damaged or not the card's."""
        path = directory / f"{NAME}.npz"
        try:
            card = EmbeddingCard.model_validate(
                json.loads((directory / f"{NAME}.json").read_text(encoding="utf-8"))
            )
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != card.sha256:
                raise ValueError(
                    f"{path.name} is not the file its card describes "
                    f"(SHA-256 {digest[:12]}…, card {card.sha256[:12]}…): damaged or replaced"
                )
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in _ARRAYS}
            return cls(card, arrays)
        except (OSError, ValueError, KeyError) as error:
            raise ModelLoadError(f"cannot load word vectors from {directory}: {error}") from error


def _check_shapes(card: EmbeddingCard, arrays: dict[str, np.ndarray]) -> None:
    """Refuse arrays that do not match the card (a ValueError naming what differs)."""
    vocab, dims, rows = card.vocabulary, card.dims, card.bucket_rows
    expected = {
        "words": (vocab,),
        "counts": (vocab,),
        "word_q": (vocab, dims),
        "word_scale": (vocab,),
        "bucket_ids": (rows,),
        "bucket_q": (rows, dims),
        "bucket_scale": (rows,),
        "common": (dims,),
    }
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ValueError(f"{name} has shape {arrays[name].shape}, the card says {shape}")
    ids = arrays["bucket_ids"]
    if len(ids) and (ids[0] < 0 or ids[-1] >= card.buckets or np.any(np.diff(ids) <= 0)):
        raise ValueError(f"bucket ids are not increasing and within 0..{card.buckets - 1}")


@cache
def shipped_word_vectors() -> WordVectors:
    """The vectors shipped in ``classifier/models``, loaded once per process."""
    return WordVectors.load(SHIPPED_MODELS)
