"""Vietnamese text normalisation and diacritic folding.

Shared by the crawler, the classifier and the index so that "dat dai", "ĐẤT ĐAI" and
"đất đai" meet in one form. Folding is character-for-character (the folded string has the
same length as its input), so a span found in folded text is the same span in the original:
that is what lets search highlight the accented words a person actually reads.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_NON_WORD = re.compile(r"[^\w]|_")


def normalize(text: str) -> str:
    """Clean text as people read it: entities decoded, NFC, invisible characters gone."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


class _FoldTable(dict[int, str]):
    """A str.translate table that learns each character's folded form on first sight."""

    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        if char in "đĐ":
            folded = "d"
        else:
            lowered = char.lower()
            if len(lowered) != 1:
                lowered = char
            base = unicodedata.normalize("NFD", lowered)[0]
            folded = base if base.isascii() or not unicodedata.combining(base) else lowered
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower case, diacritics removed, đ→d; same length as ``text`` (NFC input)."""
    return text.translate(_FOLD_TABLE)


def match_form(text: str) -> str:
    """Folded text with every non-word character turned into a space, length preserved."""
    return _NON_WORD.sub(" ", fold(text))


def collapse(text: str) -> str:
    """Folded words joined by single spaces: the form used for hashing and phrase keys."""
    return " ".join(match_form(text).split())


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """One occurrence of a phrase: the phrase as configured and where it stands in the text."""

    phrase: str
    start: int
    end: int


class PhraseMatcher:
    """Finds whole-word occurrences of phrases, ignoring case, diacritics and punctuation."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_key: dict[str, str] = {}
        for phrase in phrases:
            key = collapse(normalize(phrase))
            if key:
                self._by_key.setdefault(key, phrase)
        self.phrases = tuple(self._by_key.values())
        if self._by_key:
            keys = sorted(self._by_key, key=len, reverse=True)
            alternatives = "|".join(r"\s+".join(map(re.escape, k.split())) for k in keys)
            self._pattern: re.Pattern[str] | None = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        else:
            self._pattern = None

    def find(self, text: str, form: str | None = None) -> list[PhraseHit]:
        """Hits in ``text`` (NFC), with spans valid in ``text`` itself.

        ``form`` is ``match_form(text)`` when the caller has it already: many matchers
        reading one text should fold it once.
        """
        if self._pattern is None:
            return []
        hits = []
        for found in self._pattern.finditer(match_form(text) if form is None else form):
            key = " ".join(found.group().split())
            hits.append(PhraseHit(self._by_key[key], found.start(), found.end()))
        return hits


_VI_FUNCTION_WORDS = frozenset(
    "va cua la cac nhung duoc trong cho khong nguoi mot co da se voi tai nay den tu "
    "thi ma con cung nhu ve theo dang rat lam ra len khi nen vi hay oi nhe ko dc".split()
)


def vietnamese_word_share(text: str) -> float:
    """Share of very common Vietnamese function words, which survive diacritic loss."""
    words = collapse(text).split()
    if not words:
        return 0.0
    return sum(word in _VI_FUNCTION_WORDS for word in words) / len(words)


@lru_cache(maxsize=1)
def _language_identifier():  # noqa: ANN202 - py3langid ships no type hints
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(
        ["vi", "en", "fr", "zh", "ja", "ko", "km", "lo", "th", "ru", "de", "es", "id"]
    )
    return identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code; unaccented Vietnamese is recognised by its function words."""
    sample = text[:5000]
    if not sample.strip():
        return "und"
    if vietnamese_word_share(sample) >= 0.12:
        return "vi"
    language, _confidence = _language_identifier().classify(sample)
    return str(language)
