"""The province's places, found in text the way readers write them.

Lâm Đồng since 1 July 2025 (Lâm Đồng, Đắk Nông and Bình Thuận merged; 124 communes, wards and
one special zone) is described in ``gazetteer.yaml``. Names are matched on folded text, so
"Đà Lạt", "ĐÀ LẠT" and "da lat" meet. Folding makes many short names collide with other
provinces' places, person names and plain words ("lạc đường" folds to "lac duong", the
"Lạc Dương" of the list), so each name carries a rule saying how much context it needs:
see the YAML header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediawatch.text import PhraseMatcher, collapse, fold, match_form, normalize

log = structlog.get_logger("mediawatch.gazetteer")

PACKAGED_PATH = Path(__file__).with_name("gazetteer.yaml")


class GazetteerError(ValueError):
    """The gazetteer file cannot be used; the message names the file and the fault."""


class MatchRule(StrEnum):
    """How much context a name needs before it counts as the province's place."""

    ALWAYS = "always"
    QUALIFIED = "qualified"
    PREFIXED = "prefixed"
    ANCHORED = "anchored"


PlaceKind = Literal["province", "area", "unit", "landmark"]

# The administrative word that may stand right before a name, by the place's type.
_QUALIFIERS: dict[str, frozenset[str]] = {
    "tỉnh": frozenset({"tỉnh"}),
    "xã": frozenset({"xã"}),
    "phường": frozenset({"phường"}),
    "đặc khu": frozenset({"đặc khu", "huyện đảo", "đảo"}),
    "huyện": frozenset({"huyện", "thị trấn"}),
    "thành phố": frozenset({"thành phố", "tp"}),
    "thị xã": frozenset({"thị xã", "tx"}),
}
_TWO_WORD_QUALIFIERS = frozenset(q for qs in _QUALIFIERS.values() for q in qs if " " in q)
_TWO_WORD_QUALIFIERS_FOLDED = frozenset(fold(q) for q in _TWO_WORD_QUALIFIERS)
# After one of these words a province or former-district name is some commune elsewhere
# (Sơn La has a "xã Bình Thuận").
_COMMUNE_WORDS = frozenset({"xã", "phường"})
_COMMUNE_WORDS_FOLDED = frozenset(fold(w) for w in _COMMUNE_WORDS)
# Former communes, wards and towns are written after what they were.
_FORMER_QUALIFIERS = frozenset({"xã", "phường", "thị trấn"})

# Two spellings of one name: tone mark on either vowel of a final "oa/oe/uy" ("Hoà"/"Hòa",
# "Thuỷ"/"Thủy"), and the Highlands prefix "Đắk/Đăk/Đắc".
_TONE_MOVES = str.maketrans("àáảãạèéẻẽẹỳýỷỹỵ", "aaaaaeeeeeyyyyy")
_TONE_OF = dict(zip("àáảãạèéẻẽẹỳýỷỹỵ", "\u0300\u0301\u0309\u0303\u0323" * 3, strict=True))
_LATE_TONE = re.compile(r"([ou])([àáảãạèéẻẽẹỳýỷỹỵ])(?!\w)")
_DAK = re.compile(r"\b(?:đăk|đắc|đăc)\b")
_NON_WORD = re.compile(r"[^\w]+")
# A name does not run across sentence punctuation ("xa lạ. Đa số" is not "La Dạ").
_BREAK = re.compile(r"[.,;:!?()\[\]\n\"“”]")


@lru_cache(maxsize=65536)  # names and the words before them repeat from text to text
def written_form(text: str) -> str:
    """Lower-case words with diacritics, one spelling per name: what "as written" compares."""
    lowered = text.lower()
    lowered = _LATE_TONE.sub(_early_tone, lowered)
    lowered = _DAK.sub("đắk", lowered)
    return " ".join(_NON_WORD.sub(" ", lowered).replace("_", " ").split())


def _early_tone(found: re.Match[str]) -> str:
    vowel, toned = found.group(1), found.group(2)
    if vowel == "u" and found.start() > 0 and found.string[found.start() - 1] == "q":
        return found.group()
    base = toned.translate(_TONE_MOVES)
    return unicodedata.normalize("NFC", vowel + _TONE_OF[toned]) + base


class _Alias(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    match: MatchRule | None = None


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    type: str = "tỉnh"
    match: MatchRule | None = None
    aliases: list[str | _Alias] = Field(default_factory=list)
    former: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    unit: str | None = None
    former_province: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: _Entry
    areas: list[_Entry]
    units: list[_Entry]
    landmarks: list[_Entry] = Field(default_factory=list)


_UNIT_TYPES = frozenset({"xã", "phường", "đặc khu"})
_AREA_TYPES = frozenset({"huyện", "thành phố", "thị xã"})
_DEFAULT_RULE: dict[PlaceKind, MatchRule] = {
    "province": MatchRule.ALWAYS,
    "area": MatchRule.ALWAYS,
    "unit": MatchRule.QUALIFIED,
    "landmark": MatchRule.ALWAYS,
}


@dataclass(frozen=True, slots=True)
class Place:
    """One entry of the gazetteer: the province, a former district, a unit or a landmark."""

    id: str
    name: str
    kind: PlaceKind
    type: str
    areas: tuple[str, ...] = ()
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """A place named in a text: which one, the words as written, and where they stand."""

    id: str
    name: str
    surface: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One reading of a folded name: which place, under which rule, after which words."""

    place: Place
    rule: MatchRule
    qualifiers: frozenset[str]

    def fits(self, qualifier: str, accented: bool) -> bool:
        """Whether ``qualifier`` is this reading's administrative word (folded if not accented)."""
        if accented:
            return qualifier in self.qualifiers
        return qualifier in _folded(self.qualifiers)


@dataclass
class Gazetteer:
    """Finds the province's places in text; load it with :meth:`load`."""

    places: dict[str, Place]
    _candidates: dict[str, list[_Candidate]] = field(repr=False)
    _written: dict[str, set[str]] = field(repr=False)
    _matcher: PhraseMatcher = field(repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read a gazetteer file (the packaged one by default); a faulty file raises."""
        path = path or PACKAGED_PATH
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            spec = _File.model_validate(raw)
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            log.error("gazetteer_unreadable", path=str(path), error=str(exc))
            raise GazetteerError(f"{path}: {exc}") from exc
        try:
            return cls._build(spec)
        except GazetteerError as exc:
            log.error("gazetteer_invalid", path=str(path), error=str(exc))
            raise GazetteerError(f"{path}: {exc}") from exc

    @classmethod
    def _build(cls, spec: _File) -> Gazetteer:
        places: dict[str, Place] = {}
        candidates: dict[str, list[_Candidate]] = {}
        written: dict[str, set[str]] = {}
        sections: list[tuple[PlaceKind, list[_Entry]]] = [
            ("province", [spec.province]),
            ("area", spec.areas),
            ("unit", spec.units),
            ("landmark", spec.landmarks),
        ]
        for kind, entries in sections:
            for entry in entries:
                if entry.id in places:
                    raise GazetteerError(f"duplicate id {entry.id!r}")
                _check_type(kind, entry)
                place = Place(
                    entry.id, entry.name, kind, entry.type, tuple(entry.areas), entry.unit
                )
                places[entry.id] = place
                rule = entry.match or _DEFAULT_RULE[kind]
                own = _QUALIFIERS.get(entry.type, frozenset())
                surfaces = [(entry.name, rule, own)]
                for alias in entry.aliases:
                    if isinstance(alias, str):
                        surfaces.append((alias, rule, own))
                    else:
                        surfaces.append((alias.name, alias.match or rule, own))
                surfaces += [(n, MatchRule.ANCHORED, _FORMER_QUALIFIERS) for n in entry.former]
                for surface, surface_rule, qualifiers in surfaces:
                    key = collapse(normalize(surface))
                    reading = _Candidate(place, surface_rule, qualifiers)
                    candidates.setdefault(key, []).append(reading)
                    written.setdefault(key, set()).add(written_form(surface))
        for place in places.values():
            for ref in (*place.areas, *([place.unit] if place.unit else [])):
                if ref not in places:
                    raise GazetteerError(f"{place.id!r} refers to unknown place {ref!r}")
        matcher = PhraseMatcher(candidates)
        return cls(places, candidates, written, matcher)

    def find_places(self, text: str) -> list[PlaceMatch]:
        """The province's places named in ``text`` (NFC), in reading order.

        Spans index ``text`` itself. A name needing context (see the YAML header) counts only
        with its administrative word before it or a distinctive place elsewhere in the text.
        """
        form = match_form(text)
        accepted: list[PlaceMatch] = []
        pending: list[tuple[Place, int, int]] = []
        for hit in self._matcher.find(text, form):
            surface = text[hit.start : hit.end]
            if _BREAK.search(surface):
                continue
            # Written with diacritics, a name must be written as the place is: "dọn đường" is
            # not "Đơn Dương" though both fold to "don duong".
            accented = not surface.isascii()
            if accented and written_form(surface) not in self._written[hit.phrase]:
                continue
            qualifier = _qualifier_before(text, hit.start, accented)
            place, sure = _resolve(self._candidates[hit.phrase], qualifier, accented)
            if place is None:
                continue
            if sure:
                accepted.append(PlaceMatch(place.id, place.name, surface, hit.start, hit.end))
            else:
                pending.append((place, hit.start, hit.end))
        if accepted and pending:
            accepted += [
                PlaceMatch(place.id, place.name, text[start:end], start, end)
                for place, start, end in pending
            ]
            accepted.sort(key=lambda m: m.start)
        return accepted

    def place_ids(self, text: str) -> list[str]:
        """Ids of the places named in ``text``, each once, in order of first mention."""
        return list(dict.fromkeys(m.id for m in self.find_places(text)))

    def units_in(self, area_id: str) -> list[Place]:
        """The present-day units lying (wholly or partly) in a former district."""
        return [p for p in self.places.values() if area_id in p.areas]

    def count(self, kind: PlaceKind, type_: str | None = None) -> int:
        """How many places of a kind (and type) the file holds: its completeness, checked."""
        return sum(1 for p in self.places.values() if p.kind == kind and type_ in (None, p.type))


def _check_type(kind: PlaceKind, entry: _Entry) -> None:
    allowed = {"unit": _UNIT_TYPES, "area": _AREA_TYPES}.get(kind)
    if allowed is not None and entry.type not in allowed:
        raise GazetteerError(f"{entry.id!r}: type {entry.type!r} is not one of {sorted(allowed)}")


@lru_cache(maxsize=64)
def _folded(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


def _qualifier_before(text: str, start: int, accented: bool) -> str:
    """The administrative word(s) right before ``start``: written form, or folded if not accented.

    Only spaces (and the dot of "TP.") may stand between it and the name.
    """
    return _qualifier(text[max(0, start - 24) : start], accented)


@lru_cache(maxsize=65536)  # the words before a name repeat from text to text
def _qualifier(before: str, accented: bool) -> str:
    tail = before.rstrip(" \t.")
    if not tail or not tail[-1].isalnum():
        return ""
    words = [w for w in _NON_WORD.split(tail.lower()) if w]
    words = [written_form(w) if accented else fold(w) for w in words[-2:]]
    two = " ".join(words)
    two_word = _TWO_WORD_QUALIFIERS if accented else _TWO_WORD_QUALIFIERS_FOLDED
    if len(words) == 2 and two in two_word:
        return two
    return words[-1] if words else ""


def _resolve(
    candidates: list[_Candidate], qualifier: str, accented: bool
) -> tuple[Place | None, bool]:
    """Which place a name means here, and whether it stands on its own (else needs an anchor).

    A reading that stands on its own wins over one needing an anchor: "phường Phan Thiết" is
    the ward, "Phan Thiết" the former city. A province or district name right after "xã" or
    "phường" is some commune elsewhere and counts for nothing.
    """
    after_commune_word = qualifier in (_COMMUNE_WORDS if accented else _COMMUNE_WORDS_FOLDED)
    pending: Place | None = None
    for candidate in candidates:
        qualified = candidate.fits(qualifier, accented)
        rule = candidate.rule
        if rule == MatchRule.ALWAYS:
            if candidate.place.kind in ("province", "area") and after_commune_word:
                continue
            return candidate.place, True
        if qualified and rule in (MatchRule.QUALIFIED, MatchRule.PREFIXED):
            return candidate.place, True
        if pending is None and (
            rule == MatchRule.QUALIFIED or (qualified and rule == MatchRule.ANCHORED)
        ):
            pending = candidate.place
    return pending, False


@lru_cache(maxsize=1)
def packaged_gazetteer() -> Gazetteer:
    """The packaged gazetteer, read once per process."""
    return Gazetteer.load()
