"""Highlights in the text people read, found through its folded form.

Folding keeps every character's position, so a match in "dat dai" marks "đất đai" in the
original. Output is HTML-escaped except for the <mark> tags added here.
"""

from __future__ import annotations

import re
from html import escape

from mediawatch.text import PhraseMatcher, collapse, normalize

SNIPPET_CHARS = 240
_QUOTED = re.compile(r'"([^"]+)"')


def query_terms(text: str | None) -> list[str]:
    """Words and quoted phrases of a search query, folded."""
    if not text:
        return []
    text = normalize(text)  # input methods set to "Unicode tổ hợp" send decomposed letters
    phrases = [collapse(p) for p in _QUOTED.findall(text)]
    words = collapse(_QUOTED.sub(" ", text)).split()
    return [p for p in phrases if p] + words


def mark(text: str, phrases: list[str]) -> str:
    """The whole text, HTML-escaped, with every occurrence of ``phrases`` marked."""
    hits = PhraseMatcher(phrases).find(text) if phrases else []
    return _render(text, [(h.start, h.end) for h in hits], 0, len(text))


def snippet(text: str, phrases: list[str], width: int = SNIPPET_CHARS) -> str:
    """An excerpt around the first match (or the opening words), matches marked."""
    hits = PhraseMatcher(phrases).find(text) if phrases else []
    spans = [(h.start, h.end) for h in hits]
    anchor = spans[0][0] if spans else 0
    start = max(0, anchor - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < anchor else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    body = _render(text, spans, start, end)
    return ("… " if start else "") + body + (" …" if end < len(text) else "")


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join overlapping spans and spans separated only by spaces: one mark per phrase."""
    merged: list[tuple[int, int]] = []
    for span_start, span_end in sorted(spans):
        if merged and not text[merged[-1][1] : span_start].strip():
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    pieces = []
    cursor = start
    for span_start, span_end in _merge(text, spans):
        if span_end <= cursor or span_start >= end:
            continue
        span_start = max(span_start, cursor)
        pieces.append(escape(text[cursor:span_start]))
        pieces.append(f"<mark>{escape(text[span_start : min(span_end, end)])}</mark>")
        cursor = min(span_end, end)
    pieces.append(escape(text[cursor:end]))
    return "".join(pieces).replace("\n", " ")
