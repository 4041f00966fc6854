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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import structlog
import yaml

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
# Share of words with a non-ASCII letter above which a text counts as written with diacritics:
# about two Vietnamese words in three carry a mark; a text typed without them has almost none,
# and a few accented names or a pasted headline do not make it accented.
DIACRITIC_WORD_SHARE = 0.2

log = structlog.get_logger("mediawatch.text")


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


class _LowerFormTable(dict[int, str]):
    """Lower case and blanking of non-word characters, diacritics kept."""

    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        lowered = char.lower()
        if len(lowered) != 1:
            lowered = char
        form = " " if _NON_WORD.match(lowered) else lowered
        self[codepoint] = form
        return form


_LOWER_FORM_TABLE = _LowerFormTable()

# Below this code point (Latin, Vietnamese, punctuation, common symbols) a table maps
# characters as arrays: every text passes through folding several times on its way, and
# str.translate with a Python mapping costs a dict lookup per character.
_ARRAY_TABLE_SIZE = 0x3000
# Below this length the arrays' fixed cost (some 20 µs) exceeds str.translate's (short posts).
_SHORT_TEXT = 100


class _ArrayTranslation:
    """One of the tables above applied by array indexing; the same result as str.translate."""

    def __init__(self, table: dict[int, str]) -> None:
        self._table = table
        self._array = np.array(
            [ord(table[codepoint]) for codepoint in range(_ARRAY_TABLE_SIZE)], dtype=np.uint32
        )

    def __call__(self, text: str) -> str:
        if len(text) < _SHORT_TEXT:
            return text.translate(self._table)
        try:
            codepoints = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        except UnicodeEncodeError:  # a lone surrogate
            return text.translate(self._table)
        if codepoints.max(initial=0) >= _ARRAY_TABLE_SIZE:
            return text.translate(self._table)
        return self._array[codepoints].tobytes().decode("utf-32-le")


_fold = _ArrayTranslation(_FOLD_TABLE)
_match_form = _ArrayTranslation(_MATCH_FORM_TABLE)
_lower_form = _ArrayTranslation(_LOWER_FORM_TABLE)


def fold(text: str) -> str:
    """Lower case, diacritics removed, đ→d; same length as ``text`` (NFC input)."""
    return _fold(text)


def match_form(text: str) -> str:
    """Folded text with every non-word character turned into a space, length preserved."""
    return _match_form(text)


def lower_form(text: str) -> str:
    """Like ``match_form`` but keeping diacritics: "NÓNG" reads "nóng", never "nong"."""
    return _lower_form(text)


def written_with_diacritics(text: str) -> bool:
    """Whether ``text`` was typed with Vietnamese diacritics (most words that could carry a
    mark do), rather than without them as many posts are."""
    words = match_form(text).split()
    if not words:
        return False
    marked = sum(1 for word in lower_form(text).split() if not word.isascii())
    return marked / len(words) >= DIACRITIC_WORD_SHARE


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

    def __init__(
        self, groups: Mapping[str, Iterable[str]], form: Callable[[str], str] | None = None
    ) -> None:
        # ``form`` is how phrases and texts are read: folded by default; ``lower_form`` keeps
        # diacritics, so accented phrases match only accented text.
        self._form = form or match_form
        self._phrase_of: dict[str, dict[str, str]] = {}  # group → key → phrase as configured
        for group, phrases in groups.items():
            by_key = self._phrase_of.setdefault(group, {})
            for phrase in phrases:
                key = " ".join(self._form(normalize(phrase)).split())
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

        ``form`` is the matcher's form of ``text`` when the caller has it already.
        """
        form = self._form(text) if form is None else form
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


# Social-media text for the models: contacts masked, repeats squeezed, teencode spelled out.

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TLDS = r"(?:com|net|org|vn|info|biz|io|me|ly|co|tv|gov|edu|asia)"
_URL_HINT = re.compile(rf"https?://|www\.|\.{_TLDS}\b", re.IGNORECASE)
_URL = re.compile(
    rf"""
    (?<![\w@.-])(?:https?://|www\.)[^\s<>"']*[^\s<>"'.,;:!?)\]]
  | (?<![\w@.-])(?:[a-z0-9-]+\.)+{_TLDS}(?:\.[a-z]{{2}})?\b(?:/[^\s<>"']*[^\s<>"'.,;:!?)\]])?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_PHONE_HINT = re.compile(r"\d(?:[ .()-]{0,2}\d){7}")
_PHONE = re.compile(
    r"""
    (?<![\w+/-])(?<!\d[.,])                                    # not inside a longer number
    (?: \+84[ .-]?(?:\(0\)[ .-]?)?[1-9](?:[ .-]?\d){7,9}       # +84 91 234 5678
      | 0[1-9](?:[ .-]?\d){8,9}                                 # 0912 345 678, 0263 3822 111
      | \(0\d{2,3}\)[ .-]?\d(?:[ .-]?\d){6,7}                   # (0263) 3822 111
      | 1[89]00(?![ .-]?(?:1[89]|20)\d\d(?!\d))                 # not "1900-1950"
        (?:[ .-]?\d){4}(?:(?:[ .-]?\d){2})? )                   # 1900 1234, 1800 545 454
    (?!\w|[.,/-]\d)                                             # not part of a longer number
    (?!\s*(?:đồng|đ\b|vnđ|vnd|usd|triệu|tỷ|nghìn|ngàn))         # nor an amount of money
    """,
    re.IGNORECASE | re.VERBOSE,
)


def mask_contacts(text: str) -> str:
    """E-mail addresses, URLs and phone numbers replaced by one token each kind.

    Vietnamese phone numbers (0xxx xxx xxx, +84, (0263) 3822 111, 1900/1800 lines) with dots,
    spaces or dashes; dates (12.3.2025) and amounts (1.200.000 đồng) stay as they are.
    Each pattern runs only where a cheap hint finds something it could match.
    """
    if "@" in text:
        text = _EMAIL.sub("emailtoken", text)  # first: its domain would read as a URL
    if _URL_HINT.search(text):
        text = _URL.sub("urltoken", text)
    if _PHONE_HINT.search(text):
        text = _PHONE.sub("phonetoken", text)
    return text


# Both start with a plain character, not a look-behind: the engine then skips ahead fast.
_RUN = re.compile(r"(.)\1{2,}")
_LAUGHTER = re.compile(r"(h[aeioju]|k[ae])\1{2,}")  # hahaha, hihihi, kekeke: whole words
_ROMAN_NUMERAL_LETTERS = frozenset("IVXLCDM")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _squeezed_run(text: str, folded: str, start: int, end: int) -> str:
    """What a run of one character (folded), text[start:end], becomes."""
    run = text[start:end]
    if not folded[start].isalpha():
        return run[0]  # !!!!!, 😂😂😂
    if run.isupper() and set(run) <= _ROMAN_NUMERAL_LETTERS:
        return run  # Quý III
    alone = (start == 0 or not _is_word_char(folded[start - 1])) and (
        end == len(folded) or not _is_word_char(folded[end])
    )
    if alone:
        return run[:2]  # kkkk, aaaa: laughter and cries, not the teencode "k"
    # Keep the letter that carries the diacritic, wherever it stands in the run.
    return next((char for char in run if fold(char) != char.lower()), run[0])


def squeeze_repeats(text: str) -> str:
    """Runs of three or more of one letter (diacritics aside) cut to one; laughter bounded.

    Vietnamese never writes a letter three times in a row, so "quáaaaa" is "quá" while
    "xoong" keeps its double. A word made of one repeated letter keeps two ("kkkk" → "kk",
    laughter, not the teencode "k"); "hahahaha" becomes "haha"; runs of a mark ("!!!!!")
    become one; digits and capital roman numerals ("Quý III") are left alone.
    """
    folded = fold(text)
    if len(folded) != len(text):  # spans line up only in NFC text
        return text
    runs = [
        match.span()
        for match in _RUN.finditer(folded)
        if not (folded[match.start()].isspace() or folded[match.start()].isdigit())
    ]
    if runs:
        text = _replace_spans(
            text, ((start, end, _squeezed_run(text, folded, start, end)) for start, end in runs)
        )
        folded = fold(text)
    laughs = [
        match.span()
        for match in _LAUGHTER.finditer(folded)
        if not _is_word_char(folded[match.start() - 1 : match.start()] or " ")
        and not _is_word_char(folded[match.end() : match.end() + 1] or " ")
    ]
    return _replace_spans(text, ((start, end, text[start : start + 4]) for start, end in laughs))


def _replace_spans(text: str, replacements: Iterable[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end) span, in order and apart, replaced."""
    pieces: list[str] = []
    last = 0
    for start, end, replacement in replacements:
        pieces += (text[last:start], replacement)
        last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


TEENCODE_PATH = Path(__file__).with_name("teencode.yaml")
_TEENCODE_SECTIONS = ("teencode", "acronyms")
_TEENCODE_KEY = re.compile(r"[^\W\d_]+")


class TeencodeError(ValueError):
    """A teencode dictionary that cannot be used; the message names the file and the entry."""


def _read_teencode(path: Path) -> dict[str, dict[str, str]]:
    """The sections of one dictionary file, every entry checked (file and line in errors)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise TeencodeError(f"{path}: cannot read the teencode dictionary: {error}") from error
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise TeencodeError(f"{path}: expected the sections {', '.join(_TEENCODE_SECTIONS)}")
    sections: dict[str, dict[str, str]] = {}
    for name_node, body in root.value:
        where = f"{path}:{name_node.start_mark.line + 1}"
        if name_node.value not in _TEENCODE_SECTIONS:
            raise TeencodeError(
                f"{where}: unknown section {name_node.value!r} "
                f"(expected {' or '.join(_TEENCODE_SECTIONS)})"
            )
        if isinstance(body, yaml.ScalarNode) and body.tag.endswith(":null"):
            continue
        if not isinstance(body, yaml.MappingNode):
            raise TeencodeError(f"{where}: section {name_node.value!r} must map words to words")
        entries = sections.setdefault(name_node.value, {})
        for key_node, value_node in body.value:
            where = f"{path}:{key_node.start_mark.line + 1}"
            key = unicodedata.normalize("NFC", str(key_node.value)).lower()
            value = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
            if not _TEENCODE_KEY.fullmatch(key):
                raise TeencodeError(
                    f"{where}: entry {key_node.value!r}: a key is one word of letters"
                )
            if not isinstance(value, str) or not value.strip() or value_node.tag.endswith(":null"):
                raise TeencodeError(
                    f"{where}: entry {key!r}: the expansion must be a non-empty text"
                )
            if key in entries:
                raise TeencodeError(f"{where}: entry {key!r} appears twice")
            entries[key] = normalize(value).lower()
    return sections


@dataclass(frozen=True)
class Teencode:
    """Teencode and abbreviations spelled out; see ``teencode.yaml`` for the matching rules."""

    teencode: Mapping[str, str]
    acronyms: Mapping[str, str]
    _folded_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = frozenset(fold(key) for key in [*self.teencode, *self.acronyms])
        object.__setattr__(self, "_folded_keys", keys)

    @classmethod
    def load(cls, extra: Path | None = None) -> Teencode:
        """The shipped dictionary with ``extra``'s entries merged over it (staff additions)."""
        merged: dict[str, dict[str, str]] = {name: {} for name in _TEENCODE_SECTIONS}
        for path in (TEENCODE_PATH, *([extra] if extra else [])):
            try:
                sections = _read_teencode(path)
            except TeencodeError as error:
                log.error("teencode_unreadable", path=str(path), error=str(error))
                raise
            for name, entries in sections.items():
                for other in _TEENCODE_SECTIONS:  # a word lives in one section: the latest
                    for key in entries:
                        merged[other].pop(key, None)
                merged[name].update(entries)
        return cls(merged["teencode"], merged["acronyms"])

    def _expansion(self, text: str, start: int, end: int) -> str | None:
        if start >= 2 and text[start - 1] == " " and text[start - 2].isdigit():
            return None  # a unit after a number: "50 k", "3 tr"
        word = text[start:end]
        lower = word.lower()
        if lower in self.acronyms:
            return self.acronyms[lower]
        # Social spellings are lower case or capitalised ("Ko"); capitals are news acronyms,
        # and a lone capital letter an initial ("Nguyễn Văn K.").
        if lower in self.teencode and (
            word == lower or (len(word) > 1 and word[0].isupper() and word[1:] == lower[1:])
        ):
            return self.teencode[lower]
        return None

    def expand(self, text: str) -> str:
        """``text`` (NFC) with its dictionary words spelled out."""
        # A set intersection and str.find: far faster than a regular expression of the keys.
        form = match_form(text)  # folded, words between spaces, same offsets as ``text``
        spans = []
        for word in self._folded_keys.intersection(form.split()):
            start = form.find(word)
            while start != -1:
                end = start + len(word)
                if form[start - 1 : start] in ("", " ") and form[end : end + 1] in ("", " "):
                    spans.append((start, end))
                start = form.find(word, end)
        expansions = (
            (start, end, self._expansion(text, start, end)) for start, end in sorted(spans)
        )
        return _replace_spans(text, ((s, e, x) for s, e, x in expansions if x is not None))


@lru_cache(maxsize=1)
def default_teencode() -> Teencode:
    """The shipped dictionary and the one ``MEDIAWATCH_TEENCODE_FILE`` names, read once."""
    # Imported here: the crawler and the index use this module without the settings machinery.
    from mediawatch.config import Settings

    return Teencode.load(Settings().teencode_file)


def normalize_for_model(text: str, teencode: Teencode | None = None) -> str:
    """``normalize``, then contacts masked, repeats squeezed and teencode spelled out.

    What the classifier reads of noisy social text: "Ko bít j hếtttt, gọi 0912.345.678"
    becomes "không bít gì hết, gọi phonetoken". Case is kept; accented and unaccented
    input are treated alike (the dictionary holds the unaccented spellings people type).
    """
    text = squeeze_repeats(mask_contacts(normalize(text)))
    return (teencode or default_teencode()).expand(text)


SPREADSHEET_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text a spreadsheet would run as a formula (a hostile post titled "=HYPERLINK(…)", a
    login attempt under such a name) quoted with a leading apostrophe, as OWASP advises."""
    return "'" + value if value.startswith(SPREADSHEET_FORMULA_STARTS) else value
