"""The misinformation-risk score: a number in [0, 1] and the reasons a reviewer can check.

Signals are combined as a noisy-OR (risk = 1 - Π(1 - weight·strength)): each signal alone can
raise the risk up to its weight, several together raise it further, and none can push it past
one. A reason's ``weight`` is its own term weight·strength, so the reasons are ranked by how
much each one moved the score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel

from mediawatch.model import RiskReason, SourceTier
from mediawatch.text import GroupedPhraseMatcher, PhraseHit

DEFAULT_LEXICON = Path(__file__).with_name("risk_lexicon.yaml")

# Below this a reason is too weak to be worth a reviewer's attention.
MIN_REASON_WEIGHT = 0.05

_EXCLAMATIONS = re.compile(r"[!?]{3,}")


@dataclass(frozen=True)
class RiskWeights:
    model: float = 0.6
    sensational: float = 0.45
    unverified_source: float = 0.5
    tier: float = 0.35


TIER_STRENGTH = {
    SourceTier.OFFICIAL: 0.0,
    SourceTier.PRESS: 0.1,
    SourceTier.SOCIAL: 0.6,
    SourceTier.UNKNOWN: 0.8,
}
TIER_LABEL_VI = {
    SourceTier.OFFICIAL: "nguồn chính thống",
    SourceTier.PRESS: "báo chí",
    SourceTier.SOCIAL: "mạng xã hội / diễn đàn",
    SourceTier.UNKNOWN: "nguồn chưa rõ độ tin cậy",
}


class LexiconGroup(BaseModel):
    label_vi: str
    phrases: list[str]


class LexiconFile(BaseModel):
    version: int
    sensational: LexiconGroup
    unverified_source: LexiconGroup


def _shouting(title: str) -> list[str]:
    """Evidence of typographic alarm: runs of !!! and titles mostly in capitals."""
    evidence = [match.group() for match in _EXCLAMATIONS.finditer(title)]
    letters = [c for c in title if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        evidence.append(title[:80])
    return evidence


class RiskScorer:
    def __init__(self, lexicon: LexiconFile, weights: RiskWeights | None = None) -> None:
        self.lexicon = lexicon
        self.weights = weights or RiskWeights()
        self._matcher = GroupedPhraseMatcher(
            {
                "sensational": lexicon.sensational.phrases,
                "unverified": lexicon.unverified_source.phrases,
            }
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICON) -> RiskScorer:
        return cls(LexiconFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))

    @staticmethod
    def _quotes(hits: list[PhraseHit], text: str) -> list[str]:
        """The matched words as written in the item, each once, in order of appearance."""
        seen: dict[str, str] = {}
        for hit in hits:
            seen.setdefault(hit.phrase, text[hit.start : hit.end])
        return list(seen.values())

    def score(
        self,
        title: str,
        text: str,
        tier: SourceTier,
        unreliable_probability: float,
        model_version: str,
    ) -> tuple[float, list[RiskReason]]:
        full_text = f"{title}\n{text}"
        hits = self._matcher.find(full_text)
        sensational = self._quotes(hits.get("sensational", []), full_text) + _shouting(title)
        unverified = self._quotes(hits.get("unverified", []), full_text)
        w = self.weights
        candidates = [
            RiskReason(
                code="model_unreliable",
                label_vi=(
                    "Mô hình độ tin cậy đánh giá nội dung có khả năng không đáng tin "
                    f"({unreliable_probability:.0%})"
                ),
                weight=w.model * unreliable_probability,
                evidence=[f"xác suất {unreliable_probability:.2f} · mô hình {model_version}"],
            ),
            RiskReason(
                code="sensational_wording",
                label_vi=f"{self.lexicon.sensational.label_vi} ({len(sensational)} dấu hiệu)",
                weight=w.sensational * min(1.0, len(sensational) / 3),
                evidence=sensational,
            ),
            RiskReason(
                code="unverified_source_phrasing",
                label_vi=f"{self.lexicon.unverified_source.label_vi} ({len(unverified)} dấu hiệu)",
                weight=w.unverified_source * min(1.0, len(unverified) / 2),
                evidence=unverified,
            ),
            RiskReason(
                code="source_tier",
                label_vi=f"Loại nguồn: {TIER_LABEL_VI[tier]}",
                weight=w.tier * TIER_STRENGTH[tier],
                evidence=[f"hạng nguồn: {tier.value}"],
            ),
        ]
        remaining = 1.0
        for reason in candidates:
            remaining *= 1.0 - reason.weight
        reasons = sorted(
            (r for r in candidates if r.weight >= MIN_REASON_WEIGHT),
            key=lambda r: r.weight,
            reverse=True,
        )
        for reason in reasons:
            reason.weight = round(reason.weight, 4)
        return round(1.0 - remaining, 4), reasons
