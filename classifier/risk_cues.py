"""The wording cues of rumours and scams, read the way such posts are written.

The lexicon (``risk_lexicon.yaml``) groups phrases into families, each with its reason in
Vietnamese. An item is first judged written with diacritics or without them
(``written_with_diacritics``): accented text is matched as written, so "NÓNG" is found and
"nông sản" never is; text typed without diacritics is matched folded, leaving out the phrases
whose folded form is an ordinary word. Beyond phrases, some cues are shapes no phrase list
holds: shortened and look-alike links and phone numbers (scams), "!!!" and capitals (alarm),
"100%" (sweeping claims).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field

from mediawatch.text import (
    GroupedPhraseMatcher,
    PhraseHit,
    lower_form,
    match_form,
    written_with_diacritics,
)

DEFAULT_LEXICON = Path(__file__).with_name("risk_lexicon.yaml")

_ALTERNATIVES = re.compile(r"\{([^{}]*)\}")
_EXCLAMATIONS = re.compile(r"[!?]{3,}")
_HUNDRED_PERCENT = re.compile(r"\b100\s?%")
_URL = re.compile(r"(?:https?://)?(?:[\w-]+\.)+[a-z]{2,10}(?:/[^\s<>\"')]*)?", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w.])(?:\+84|0)(?:[\s.\-]?\d){8,10}(?![\w])")
# Link shorteners hide where a link goes; scams use them to pass a fake site off as real.
SHORTENERS = frozenset(
    "bit.ly tinyurl.com cutt.ly t.ly shorturl.at rb.gy is.gd goo.gl s.id tiny.cc ow.ly "
    "t.co bitly.vn bom.so shorten.asia v.gd rebrand.ly urlz.fr".split()
)
# Names scams borrow for look-alike sites; the real ones end in .gov.vn or .vn.
BORROWED_NAMES = (
    "gov",
    "chinhphu",
    "congan",
    "bocongan",
    "dichvucong",
    "vneid",
    "evn",
    "dienluc",
    "bhxh",
    "baohiemxahoi",
    "thue",
    "vietcombank",
    "vietinbank",
    "agribank",
    "bidv",
    "techcombank",
    "mbbank",
    "sacombank",
    "lamdong",
)
SCAM_FAMILIES = ("scam", "impersonation")


class CueFamily(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label_vi: str
    full_strength: int = Field(ge=1)
    phrases: list[str]
    accented_only: list[str] = Field(default_factory=list)


class CueLexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    families: dict[str, CueFamily]

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICON) -> CueLexicon:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def spelled_out(phrase: str) -> list[str]:
    """Every phrase a pattern with "{a|b}" alternatives stands for."""
    parts = _ALTERNATIVES.split(phrase)
    # split() alternates literal text and the inside of a brace group.
    choices = [[part] if index % 2 == 0 else part.split("|") for index, part in enumerate(parts)]
    return [" ".join("".join(combo).split()) for combo in itertools.product(*choices)]


def _spelled(phrases: list[str]) -> list[str]:
    return [spelled for phrase in phrases for spelled in spelled_out(phrase)]


@dataclass(frozen=True, slots=True)
class Cues:
    """What one item's wording shows: per family, the words as written, each once."""

    accented: bool
    found: dict[str, list[str]]

    def count(self, family: str) -> int:
        return len(self.found.get(family, []))


def _quotes(hits: list[PhraseHit], text: str) -> list[str]:
    seen: dict[str, str] = {}
    for hit in hits:
        seen.setdefault(text[hit.start : hit.end].lower(), text[hit.start : hit.end])
    return list(seen.values())


def _shouting(title: str, text: str) -> list[str]:
    """Runs of !!! anywhere, and a title mostly in capitals."""
    evidence = [match.group() for match in _EXCLAMATIONS.finditer(f"{title}\n{text}")][:3]
    letters = [c for c in title if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        evidence.append(title[:80])
    return evidence


def suspicious_links(text: str) -> list[str]:
    """Shortened links, and sites borrowing an agency's or bank's name outside .vn."""
    found = []
    for match in _URL.finditer(text):
        url = match.group()
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
        host = host.removeprefix("www.")
        if (host in SHORTENERS and "/" in url.split(host, 1)[1]) or (
            not host.endswith(".vn") and any(name in host for name in BORROWED_NAMES)
        ):
            found.append(url)
    return found


class CueReader:
    """Finds each family's cues in an item; built once, used for every item."""

    def __init__(self, lexicon: CueLexicon) -> None:
        self.lexicon = lexicon
        families = lexicon.families
        self._accented = GroupedPhraseMatcher(
            {
                name: _spelled(family.phrases + family.accented_only)
                for name, family in families.items()
            },
            lower_form,
        )
        self._folded = GroupedPhraseMatcher(
            {name: _spelled(family.phrases) for name, family in families.items()}, match_form
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICON) -> CueReader:
        return cls(CueLexicon.load(path))

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(self.lexicon.families)

    def read(self, title: str, text: str) -> Cues:
        full_text = f"{title}\n{text}"
        accented = written_with_diacritics(full_text)
        matcher = self._accented if accented else self._folded
        hits = matcher.find(full_text)
        found = {family: _quotes(hits.get(family, []), full_text) for family in self.families}
        found.setdefault("sensational", []).extend(_shouting(title, text))
        found.setdefault("absolute_claim", []).extend(_HUNDRED_PERCENT.findall(full_text))
        links = suspicious_links(full_text)
        found.setdefault("scam", []).extend(links)
        if any(found.get(family) for family in SCAM_FAMILIES):
            # A number to call counts only beside a request or a threat: notices give hotlines.
            found["scam"].extend(_PHONE.findall(full_text)[:1])
        return Cues(
            accented,
            {family: list(dict.fromkeys(quotes)) for family, quotes in found.items() if quotes},
        )

    def strength(self, cues: Cues, family: str) -> float:
        """0 without cues of the family, 1 at its ``full_strength`` distinct cues."""
        full = self.lexicon.families[family].full_strength
        return min(1.0, cues.count(family) / full)
