"""How closely an item repeats a claim of the register: by its words and by their meaning.

Both texts are read as people type them (teencode spelled out, repeats squeezed) and folded
(no case, no diacritics, đ→d). A pair of texts (the item, and one text of a claim: its
statement or an item already linked to it) is described by a few measures
(``PAIR_FEATURES``), which a logistic regression fitted on labelled pairs
(``classifier/claim_fit.py``) turns into the probability that the item repeats the claim:

- ``lexical``: the share of the shorter text's word bigrams found in the longer one. A claim is
  a sentence, a post repeating it often a long rant; containment does not punish the post for
  what else it says, and bigrams keep word order;
- ``content``: the same for single words, each weighted by its rarity, so "Lâm Đồng" counts
  little and "sạt lở" much;
- ``semantic`` and ``aligned``: the meaning, through word vectors trained in the project
  (``classifier/embeddings.py``): the cosine of the two texts' weighted mean vectors, and how
  well each word of the shorter text finds a word of like meaning in the longer one
  ("chặn" for "đóng", "núi lở" for "sạt lở"), which rewordings keep and topics alone do not,
  and the weighted share of its words that find one at a firm cosine (``aligned_share``);
- ``missing_numbers``, ``missing_names``: numbers and names of the claim the item does not
  have (another date, place or person is another claim);
- ``refutes``: the item uses rebuttal wording ("không đúng sự thật", "bác bỏ") that the claim's
  text does not; a rebuttal repeats a claim's words to deny them and must never be linked;
- ``negation``: one text negates and the other does not.

Reviewers teach the matcher: an accepted suggestion becomes one more text of its claim; the
text of a rejected one is kept as a counter-example, and an item closer to a rejected text than
to the claim's own texts is not offered for that claim again.

Candidates come from an inverted index of bigrams and from the nearest claims by meaning, so
matching one item against thousands of claims scores only a few dozen pairs.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from classifier.embeddings import WordVectors, shipped_word_vectors
from mediawatch.config import ClaimSettings
from mediawatch.model import ClaimLink, ClaimLinkStatus
from mediawatch.text import (
    PhraseMatcher,
    collapse,
    default_teencode,
    normalize,
    squeeze_repeats,
)

MATCHING_MODEL = Path(__file__).with_name("models") / "claim_matching.json"

# Wording that refutes what it repeats.
REBUTTAL_PHRASES = (
    "sai sự thật",
    "không đúng sự thật",
    "không chính xác",
    "là không đúng",
    "thông tin sai",
    "sai lệch",
    "thông tin thất thiệt",
    "tin thất thiệt",
    "tin giả",
    "tin đồn thất thiệt",
    "là tin đồn",
    "chỉ là tin đồn",
    "bác bỏ",
    "bác tin",
    "phủ nhận",
    "bịa đặt",
    "xuyên tạc",
    "đính chính",
    "không có chuyện",
    "khẳng định không",
    "khẳng định thông tin",
    "khẳng định đây là",
    "hoàn toàn không",
    "không hề có",
    "chưa từng có",
    "không có căn cứ",
    "không có cơ sở",
    "không có bất kỳ",
    "không có kế hoạch",
    "chưa có kế hoạch",
    "không có chủ trương",
    "chưa có chủ trương",
    "trước thông tin",
    "liên quan đến thông tin",
    "liên quan thông tin",
    "đừng tin",
    "không nên tin",
    "không hoang mang",
    "tránh hoang mang",
    "không tiếp tay",
    "cảnh giác với thông tin",
    "xử phạt",
    "xử lý người đăng",
    "xử lý nghiêm",
)
NEGATIONS = frozenset({"khong", "chua", "chang", "cha", "deo", "ko", "k", "kg"})
# A text of fewer bigrams than this says too little to be matched on (one or two words).
MIN_BIGRAMS = 3
# Candidates per item: the claims sharing most bigrams, and the nearest by meaning.
LEXICAL_CANDIDATES = 20
SEMANTIC_CANDIDATES = 10

# A word of the shorter text has its like in the longer one at this cosine ("chặn" and "cấm").
ALIGNED_AT = 0.75
PAIR_FEATURES = (
    "lexical",
    "content",
    "semantic",
    "best_sentence",
    "aligned",
    "aligned_share",
    "missing_numbers",
    "missing_names",
    "refutes",
    "negation",
)

_rebuttal = PhraseMatcher(REBUTTAL_PHRASES)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_NUMBER = re.compile(
    r"(\d+(?:[.,]\d{3})*(?:,\d+)?)\s*(k|nghìn|ngàn|ngan|nghin|tr|triệu|trieu|củ|cu)?(?!\w)",
    re.IGNORECASE,
)
_THOUSANDS = {"k": 1_000, "nghìn": 1_000, "ngàn": 1_000, "ngan": 1_000, "nghin": 1_000}
_MILLIONS = dict.fromkeys(("tr", "triệu", "trieu", "củ", "cu"), 1_000_000)
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ][\wÀ-ỹ]+")


def matching_form(text: str) -> str:
    """Folded words of ``text`` as people mean them: teencode spelled out, repeats squeezed."""
    return collapse(default_teencode().expand(squeeze_repeats(normalize(text))))


def bigrams(form: str) -> frozenset[str]:
    words = form.split()
    return frozenset(f"{a} {b}" for a, b in pairwise(words))


def word_count(form: str) -> int:
    return form.count(" ") + 1 if form else 0


def refutes(form: str) -> bool:
    """Whether a matching form uses rebuttal wording."""
    return bool(_rebuttal.find(form, form))


def _pieces(text: str) -> list[str]:
    """The sentences of a text: a post states a claim in one of them, amid greetings and
    advice that blur the whole text's vector."""
    return [piece for piece in _SENTENCE_END.split(normalize(text)) if len(piece.split()) >= 3]


def _names(text: str) -> frozenset[str]:
    """Capitalised words not opening a sentence (places, people, bodies), folded; an
    abbreviation counts by the words it stands for ("UBND": "uy", "ban", …)."""
    return frozenset(
        word
        for match in _NAME.finditer(normalize(text))
        for word in matching_form(match.group()).split()
    )


def numbers(text: str) -> frozenset[int]:
    """The amounts a text states, as values ("200.000 đồng", "200k" and "200 nghìn" alike);
    years are left out: a post says "tháng 6" of a claim's "tháng 6/2026"."""
    found = set()
    for digits, unit in _NUMBER.findall(normalize(text)):
        # Dots group thousands; a comma starts the decimals ("0,4"), which are dropped.
        value = int(digits.replace(".", "").split(",")[0])
        unit = unit.lower()
        value *= _THOUSANDS.get(unit, 1) * _MILLIONS.get(unit, 1)
        if not (1900 <= value <= 2100 and not unit):
            found.add(value)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class ScoredText:
    """A text read once for matching against any number of others."""

    form: str
    grams: frozenset[str]
    words: tuple[str, ...]
    unique_words: frozenset[str]
    numbers: frozenset[int]
    names: frozenset[str]
    refutes: bool
    negates: bool
    word_vectors: np.ndarray  # one unit row per distinct word
    word_weights: np.ndarray
    vector: np.ndarray  # the weighted mean, unit length
    pieces: np.ndarray  # the same for each sentence, one unit row each

    @classmethod
    def of(cls, text: str, vectors: WordVectors) -> ScoredText:
        form = matching_form(text)
        words = tuple(form.split())
        distinct = list(dict.fromkeys(words))
        matrix = (
            np.stack([vectors.vector(word) for word in distinct])
            if distinct
            else np.zeros((0, vectors.dims), dtype=np.float32)
        )
        weights = np.array([vectors.weight(word) for word in distinct], dtype=np.float32)
        return cls(
            form=form,
            grams=bigrams(form),
            words=words,
            unique_words=frozenset(distinct),
            numbers=numbers(text),
            names=_names(text),
            refutes=refutes(form),
            negates=any(word in NEGATIONS for word in words),
            word_vectors=matrix,
            word_weights=weights,
            vector=vectors.sentence(form),
            pieces=np.stack(
                [vectors.sentence(matching_form(piece)) for piece in _pieces(text)]
                or [np.zeros(vectors.dims, dtype=np.float32)]
            ),
        )


def _weighted_share(base: ScoredText, other: ScoredText) -> float:
    """Share of ``base``'s word weight whose words ``other`` has."""
    total = float(base.word_weights.sum())
    if not total:
        return 0.0
    index = {word: i for i, word in enumerate(dict.fromkeys(base.words))}
    shared = sorted(index[word] for word in base.unique_words & other.unique_words)
    return float(base.word_weights[shared].sum()) / total


def _aligned(base: ScoredText, other: ScoredText) -> float:
    """Weighted mean over ``base``'s words of the best cosine with a word of ``other``."""
    total = float(base.word_weights.sum())
    if not total or not len(other.word_vectors):
        return 0.0
    best = (base.word_vectors @ other.word_vectors.T).max(axis=1).clip(0.0, 1.0)
    return float(base.word_weights @ best) / total


def _aligned_share(base: ScoredText, other: ScoredText) -> float:
    """Weighted share of ``base``'s words that ``other`` has in like meaning (cosine at least
    ``ALIGNED_AT``): a firmer reading of ``_aligned``, which near misses inflate."""
    total = float(base.word_weights.sum())
    if not total or not len(other.word_vectors):
        return 0.0
    best = (base.word_vectors @ other.word_vectors.T).max(axis=1)
    return float(base.word_weights @ (best >= ALIGNED_AT)) / total


def pair_features(item: ScoredText, variant: ScoredText) -> np.ndarray:
    """The measures of ``PAIR_FEATURES`` for an item against one text of a claim."""
    shorter, longer = (item, variant) if len(item.grams) < len(variant.grams) else (variant, item)
    lexical = len(item.grams & variant.grams) / max(1, len(shorter.grams))
    numbers, names = variant.numbers, variant.names
    return np.array(
        [
            lexical,
            _weighted_share(shorter, longer),
            float(item.vector @ variant.vector),
            max(
                float((item.pieces @ variant.vector).max()),
                float((variant.pieces @ item.vector).max()),
            ),
            _aligned(shorter, longer),
            _aligned_share(shorter, longer),
            len(numbers - item.numbers) / len(numbers) if numbers else 0.0,
            len(names - item.unique_words) / len(names) if names else 0.0,
            float(item.refutes and not variant.refutes),
            float(item.negates != variant.negates),
        ],
        dtype=np.float64,
    )


class MatchingModel(BaseModel):
    """The fitted combination of the pair measures, and the thresholds chosen with it."""

    version: str
    intercept: float
    coefficients: dict[str, float]
    link_threshold: float = Field(ge=0, le=1)
    suggest_threshold: float = Field(ge=0, le=1)
    trained_at: str = ""
    data: dict = Field(default_factory=dict)
    metrics: dict = Field(default_factory=dict)
    notes: str = ""

    def probability(self, features: np.ndarray) -> np.ndarray:
        weights = np.array([self.coefficients[name] for name in PAIR_FEATURES])
        logits = self.intercept + np.atleast_2d(features) @ weights
        return 1.0 / (1.0 + np.exp(-logits))

    @classmethod
    def load(cls, path: Path = MATCHING_MODEL) -> MatchingModel:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


_shipped_model: MatchingModel | None = None


def shipped_model() -> MatchingModel:
    global _shipped_model
    if _shipped_model is None:
        _shipped_model = MatchingModel.load()
    return _shipped_model


@dataclass(frozen=True, slots=True)
class _Variant:
    claim_id: str
    text: ScoredText
    rejected: bool


class ClaimMatcher:
    """The register's claims, each with its texts (statement first, then linked items) and the
    texts reviewers rejected for it."""

    def __init__(
        self,
        claims: Mapping[str, Sequence[str]],
        settings: ClaimSettings,
        rejected: Mapping[str, Sequence[str]] | None = None,
        vectors: WordVectors | None = None,
        model: MatchingModel | None = None,
    ) -> None:
        self.settings = settings
        self.vectors = vectors or shipped_word_vectors()
        self._model = model
        self.variants: list[_Variant] = []
        self._postings: dict[str, list[int]] = {}
        sources = [(claim_id, texts, False) for claim_id, texts in claims.items()]
        sources += [(claim_id, texts, True) for claim_id, texts in (rejected or {}).items()]
        for claim_id, texts, is_rejected in sources:
            for text in texts:
                scored = ScoredText.of(text, self.vectors)
                if len(scored.grams) < MIN_BIGRAMS:
                    continue
                index = len(self.variants)
                self.variants.append(_Variant(claim_id, scored, is_rejected))
                for gram in scored.grams:
                    self._postings.setdefault(gram, []).append(index)
        self._claims = {v.claim_id for v in self.variants if not v.rejected}
        self._matrix = (
            np.vstack([v.text.vector for v in self.variants])
            if self.variants
            else np.zeros((0, self.vectors.dims), dtype=np.float32)
        )

    def __len__(self) -> int:
        return len(self._claims)

    @property
    def model(self) -> MatchingModel:
        """The fitted combination: the shipped one unless given (read when first needed, so a
        matcher can draw candidates for fitting before any model exists)."""
        if self._model is None:
            self._model = shipped_model()
        return self._model

    def read(self, text: str) -> ScoredText:
        return ScoredText.of(text, self.vectors)

    def candidates(self, item: ScoredText) -> list[int]:
        """Variants worth scoring: most shared bigrams, and nearest by meaning."""
        shared: Counter[int] = Counter()
        for gram in item.grams:
            shared.update(self._postings.get(gram, ()))
        # Ties broken by position, not by the order sets happen to iterate in.
        most = heapq.nsmallest(LEXICAL_CANDIDATES, shared.items(), key=lambda kv: (-kv[1], kv[0]))
        chosen = {index for index, _count in most}
        if len(self._matrix):
            cosines = self._matrix @ item.vector
            nearest = min(SEMANTIC_CANDIDATES, len(cosines))
            chosen.update(np.argpartition(-cosines, nearest - 1)[:nearest].tolist())
        return sorted(chosen)

    def scores(self, item: ScoredText) -> dict[str, float]:
        """Each candidate claim with the probability that the item repeats it: its best text's,
        or 0 when a text reviewers rejected for that claim is closer still."""
        if len(item.grams) < MIN_BIGRAMS:
            return {}
        indices = self.candidates(item)
        if not indices:
            return {}
        features = np.vstack([pair_features(item, self.variants[i].text) for i in indices])
        probabilities = self.model.probability(features)
        best: dict[str, float] = {}
        closest_rejected: dict[str, float] = {}
        for index, probability in zip(indices, probabilities, strict=True):
            variant = self.variants[index]
            kept = closest_rejected if variant.rejected else best
            kept[variant.claim_id] = max(kept.get(variant.claim_id, 0.0), float(probability))
        return {
            claim_id: 0.0 if closest_rejected.get(claim_id, -1.0) >= score else score
            for claim_id, score in best.items()
        }

    def match(self, text: str, exclude: Iterable[str] = ()) -> list[ClaimLink]:
        """The claims ``text`` repeats, best first: linked above the upper threshold (for a
        text long enough), suggested between the two."""
        item = self.read(text)
        excluded = set(exclude)
        links = []
        for claim_id, score in self.scores(item).items():
            if claim_id in excluded or score < self.settings.suggest_threshold:
                continue
            linked = (
                score >= self.settings.link_threshold
                and len(item.words) >= self.settings.min_words_to_link
                and not item.refutes
            )
            status = ClaimLinkStatus.LINKED if linked else ClaimLinkStatus.SUGGESTED
            links.append(ClaimLink(claim_id=claim_id, similarity=round(score, 4), status=status))
        return sorted(links, key=lambda link: (-link.similarity, link.claim_id))


def similarity(item_text: str, claim_text: str) -> float:
    """One item against one claim text; what a labelled pair measures."""
    matcher = ClaimMatcher({"claim": [claim_text]}, ClaimSettings())
    return matcher.scores(matcher.read(item_text)).get("claim", 0.0)
