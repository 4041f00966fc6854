"""Whether an item concerns the province: provincial outlets always, national ones by place."""

from __future__ import annotations

from dataclasses import dataclass, field

from mediawatch.gazetteer import Gazetteer, packaged_gazetteer
from mediawatch.model import Document, Source, SourceScope


@dataclass(frozen=True, slots=True)
class RelevanceDecision:
    """Keep or drop, the gazetteer ids the item names (for Document.places), and why."""

    keep: bool
    places: list[str] = field(default_factory=list)
    reason: str = ""


def is_relevant(
    document: Document, source: Source, gazetteer: Gazetteer | None = None
) -> RelevanceDecision:
    """Decide on one item; places are recorded whatever the source's scope.

    Title and text are read as one text, so a place in the title anchors a short name in the
    body ("Lâm Đồng: …" then "xã Tân Hội").
    """
    gazetteer = gazetteer or packaged_gazetteer()
    matches = gazetteer.find_places(f"{document.title}\n\n{document.text}")
    places = list(dict.fromkeys(m.id for m in matches))
    if source.scope == SourceScope.PROVINCIAL:
        return RelevanceDecision(True, places, "Nguồn của tỉnh: luôn giữ")
    if places:
        named = ", ".join(dict.fromkeys(m.name for m in matches))
        return RelevanceDecision(True, places, f"Nguồn toàn quốc, nhắc đến: {named}")
    return RelevanceDecision(False, [], "Nguồn toàn quốc, không nhắc đến địa danh nào của tỉnh")
