"""How closely an item repeats a claim of the register: lexical overlap on folded text.

Both texts are read as people type them (teencode spelled out, repeats squeezed), folded
(no case, no diacritics, đ→d) and cut into word bigrams. The similarity of an item to one
text of a claim (its canonical statement, or an item already linked to it) is the share of
the *shorter* text's bigrams found in the longer one, the overlap coefficient:

- a claim statement is a sentence and a post repeating it is often a long article or a
  rumour pasted inside chatter; Jaccard or cosine would punish the item for everything
  else it says, containment of the statement's bigrams does not;
- bigrams keep word order ("đất thu hồi" and "thu hồi đất" differ) and make shared place
  and topic words alone (Lâm Đồng, đất đai) count for little;
- an item that states the claim only to refute it ("thông tin … là sai sự thật") shares the
  words too: its score is damped when it uses rebuttal wording that the claim's text does
  not, so a rebuttal is at most suggested, not linked.

Candidates come from an inverted index of bigrams, so matching one item against a few
thousand claims touches only the claims that share a bigram with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from mediawatch.config import ClaimSettings
from mediawatch.model import ClaimLink, ClaimLinkStatus
from mediawatch.text import (
    PhraseMatcher,
    collapse,
    default_teencode,
    normalize,
    squeeze_repeats,
)

# Wording that refutes what it repeats; the shipped register's rebuttals use these phrases.
REBUTTAL_PHRASES = (
    "sai sự thật",
    "không đúng sự thật",
    "thông tin sai",
    "tin giả",
    "là tin đồn",
    "bác bỏ",
    "bịa đặt",
    "xuyên tạc",
    "đính chính",
    "không có chuyện",
    "khẳng định không",
    "xử phạt",
    "xử lý người đăng",
)
REBUTTAL_DAMPING = 0.5
# A text of fewer bigrams than this says too little to be matched on (one or two words).
MIN_BIGRAMS = 3

_rebuttal = PhraseMatcher(REBUTTAL_PHRASES)


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


@dataclass(frozen=True, slots=True)
class _Variant:
    claim_id: str
    size: int
    refutes: bool


@dataclass(frozen=True, slots=True)
class ScoredText:
    """An item's text read once for matching against any number of claims."""

    form: str
    grams: frozenset[str]
    refutes: bool

    @classmethod
    def of(cls, text: str) -> ScoredText:
        form = matching_form(text)
        return cls(form, bigrams(form), refutes(form))

    @property
    def words(self) -> int:
        return word_count(self.form)


class ClaimMatcher:
    """The register's claims, each with its texts (statement first, then linked items)."""

    def __init__(self, claims: Mapping[str, Sequence[str]], settings: ClaimSettings) -> None:
        self.settings = settings
        self._variants: list[_Variant] = []
        self._postings: dict[str, list[int]] = {}
        for claim_id, texts in claims.items():
            for text in texts:
                scored = ScoredText.of(text)
                if len(scored.grams) < MIN_BIGRAMS:
                    continue
                index = len(self._variants)
                self._variants.append(_Variant(claim_id, len(scored.grams), scored.refutes))
                for gram in scored.grams:
                    self._postings.setdefault(gram, []).append(index)

    def __len__(self) -> int:
        return len({v.claim_id for v in self._variants})

    def scores(self, item: ScoredText) -> dict[str, float]:
        """Each claim sharing words with the item, with its best variant's similarity."""
        if len(item.grams) < MIN_BIGRAMS:
            return {}
        shared: Counter[int] = Counter()
        for gram in item.grams:
            shared.update(self._postings.get(gram, ()))
        best: dict[str, float] = {}
        for index, count in shared.items():
            variant = self._variants[index]
            score = count / min(variant.size, len(item.grams))
            if item.refutes and not variant.refutes:
                score *= REBUTTAL_DAMPING
            if score > best.get(variant.claim_id, 0.0):
                best[variant.claim_id] = score
        return best

    def match(self, text: str, exclude: Iterable[str] = ()) -> list[ClaimLink]:
        """The claims ``text`` repeats, best first: linked above the upper threshold (for a
        text long enough), suggested between the two."""
        item = ScoredText.of(text)
        excluded = set(exclude)
        links = []
        for claim_id, score in self.scores(item).items():
            if claim_id in excluded or score < self.settings.suggest_threshold:
                continue
            linked = (
                score >= self.settings.link_threshold
                and item.words >= self.settings.min_words_to_link
            )
            status = ClaimLinkStatus.LINKED if linked else ClaimLinkStatus.SUGGESTED
            links.append(ClaimLink(claim_id=claim_id, similarity=round(score, 4), status=status))
        return sorted(links, key=lambda link: (-link.similarity, link.claim_id))


def similarity(item_text: str, claim_text: str) -> float:
    """One item against one claim text; what the labelled matching set measures."""
    matcher = ClaimMatcher({"claim": [claim_text]}, ClaimSettings())
    return matcher.scores(ScoredText.of(item_text)).get("claim", 0.0)
