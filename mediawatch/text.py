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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Any character the three patterns above would change, other than a lone plain space.
_UNUSUAL = re.compile(
    r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    r"\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_NON_WORD = re.compile(r"[^\w]|_")


def normalize(text: str) -> str:
    """Clean text as people read it: entities decoded, NFC, invisible characters gone."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Most texts have none of these characters: one scan finds out (replacing every plain
    # space by itself was most of the time).
    unusual = _UNUSUAL.search(text) is not None
    if unusual:
        text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    if unusual or "  " in text:
        text = _SPACES.sub(" ", text)  # no run of spaces crosses a line end
    text = "\n".join(line.strip() for line in text.split("\n"))
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


class _MatchFormTable(dict[int, str]):
    """Folding and blanking of non-word characters in one str.translate table."""

    def __missing__(self, codepoint: int) -> str:
        folded = _FOLD_TABLE[codepoint]
        form = " " if _NON_WORD.match(folded) else folded
        self[codepoint] = form
        return form


_MATCH_FORM_TABLE = _MatchFormTable()

# Below this code point (Latin, Vietnamese, punctuation, common symbols) a table maps
# characters as arrays: every text passes through folding several times on its way, and
# str.translate with a Python mapping costs a dict lookup per character.
_ARRAY_TABLE_SIZE = 0x3000


class _ArrayTranslation:
    """One of the tables above applied by array indexing; the same result as str.translate."""

    def __init__(self, table: dict[int, str]) -> None:
        self._table = table
        self._array = np.array(
            [ord(table[codepoint]) for codepoint in range(_ARRAY_TABLE_SIZE)], dtype=np.uint32
        )

    def __call__(self, text: str) -> str:
        try:
            codepoints = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        except UnicodeEncodeError:  # a lone surrogate
            return text.translate(self._table)
        if codepoints.max(initial=0) >= _ARRAY_TABLE_SIZE:
            return text.translate(self._table)
        return self._array[codepoints].tobytes().decode("utf-32-le")


_fold = _ArrayTranslation(_FOLD_TABLE)
_match_form = _ArrayTranslation(_MATCH_FORM_TABLE)


def fold(text: str) -> str:
    """Lower case, diacritics removed, đ→d; same length as ``text`` (NFC input)."""
    return _fold(text)


def match_form(text: str) -> str:
    """Folded text with every non-word character turned into a space, length preserved."""
    return _match_form(text)


def collapse(text: str) -> str:
    """Folded words joined by single spaces: the form used for hashing and phrase keys."""
    return " ".join(match_form(text).split())


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """One occurrence of a phrase: the phrase as configured and where it stands in the text."""

    phrase: str
    start: int
    end: int


def _word_spans(form: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the words of a match form (words of \\w between spaces)."""
    is_word = np.frombuffer(form.encode("utf-32-le"), dtype=np.uint32) != ord(" ")
    edges = np.diff(is_word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


_Trie = dict[str, tuple[str | None, "_Trie"]]


class GroupedPhraseMatcher:
    """Several phrase lists read in one pass over the text.

    Each group's hits are those a PhraseMatcher of that group's phrases alone would find:
    whole words, ignoring case, diacritics and punctuation; read left to right, the longest
    of the group's phrases starting at a word wins and reading goes on after it, so one
    group's hits never overlap (another group's may).
    """

    def __init__(self, groups: Mapping[str, Iterable[str]]) -> None:
        self._phrase_of: dict[str, dict[str, str]] = {}  # group → key → phrase as configured
        for group, phrases in groups.items():
            by_key = self._phrase_of.setdefault(group, {})
            for phrase in phrases:
                key = collapse(normalize(phrase))
                if key:
                    by_key.setdefault(key, phrase)
        self._groups_of: dict[str, list[str]] = {}
        for group, by_key in self._phrase_of.items():
            for key in by_key:
                self._groups_of.setdefault(key, []).append(group)
        # A trie of the keys' words: word → (the key ending there or None, the next words).
        self._trie: _Trie = {}
        for key in self._groups_of:
            *leading, last = key.split()
            node = self._trie
            for word in leading:
                node = node.setdefault(word, (None, {}))[1]
            node[last] = (key, node.get(last, (None, {}))[1])

    def phrases(self, group: str) -> tuple[str, ...]:
        return tuple(self._phrase_of.get(group, {}).values())

    def find(self, text: str, form: str | None = None) -> dict[str, list[PhraseHit]]:
        """Hits by group, for the groups that have any, with spans valid in ``text`` (NFC).

        ``form`` is ``match_form(text)`` when the caller has it already.
        """
        form = match_form(text) if form is None else form
        words = form.split()
        trie, groups_of = self._trie, self._groups_of
        candidates = []  # (first word, word count, key, groups), by position then length
        count = len(words)
        # Most first words of keys only begin longer keys: a word counts when it is a key by
        # itself or the next word follows it in the trie.
        starts = [
            i
            for i, (word, after) in enumerate(pairwise([*words, ""]))
            if (step := trie.get(word)) is not None and (step[0] is not None or after in step[1])
        ]
        for i in starts:
            key, node = trie[words[i]]
            found = [] if key is None else [(i, 1, key, groups_of[key])]  # fewest words first
            j = i + 1
            while j < count and (step := node.get(words[j])) is not None:
                key, node = step
                j += 1
                if key is not None:
                    found.append((i, j - i, key, groups_of[key]))
            candidates += reversed(found)
        if not candidates:
            return {}
        starts, ends = _word_spans(form)
        hits: dict[str, list[PhraseHit]] = {}
        next_free: dict[str, int] = {}
        for i, count, key, groups in candidates:
            for group in groups:
                if i >= next_free.get(group, 0):
                    next_free[group] = i + count
                    phrase = self._phrase_of[group][key]
                    hits.setdefault(group, []).append(
                        PhraseHit(phrase, int(starts[i]), int(ends[i + count - 1]))
                    )
        return hits


class PhraseMatcher:
    """Finds whole-word occurrences of phrases, ignoring case, diacritics and punctuation."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._grouped = GroupedPhraseMatcher({"": phrases})
        self.phrases = self._grouped.phrases("")

    def find(self, text: str, form: str | None = None) -> list[PhraseHit]:
        """Hits in ``text`` (NFC), with spans valid in ``text`` itself.

        ``form`` is ``match_form(text)`` when the caller has it already: many matchers
        reading one text should fold it once.
        """
        return self._grouped.find(text, form).get("", [])


_VI_FUNCTION_WORDS = frozenset(
    "va cua la cac nhung duoc trong cho khong nguoi mot co da se voi tai nay den tu "
    "thi ma con cung nhu ve theo dang rat lam ra len khi nen vi hay oi nhe ko dc".split()
)


def vietnamese_word_share(text: str) -> float:
    """Share of very common Vietnamese function words, which survive diacritic loss."""
    words = match_form(text).split()
    if not words:
        return 0.0
    return sum(map(_VI_FUNCTION_WORDS.__contains__, words)) / len(words)


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
