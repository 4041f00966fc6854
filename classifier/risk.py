"""The misinformation-risk score: a number in [0, 1] and the reasons a reviewer can check.

Each item is measured on named signals (the reliability model's probability, wording, toxicity,
the source's tier, the story's growth, a match with an item reviewers judged false); a logistic
regression fitted on labelled data (``classifier/risk_fit.py``) weighs them. Signals the
labelled data sets cannot show (they are social posts without tiers, stories or claims) keep
the prior weights written in the weights file until reviewers' decisions teach them. A
reason's ``weight`` is its share of the score: the score times its part of the positive
log-odds the signals added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from classifier.risk_cues import DEFAULT_LEXICON, CueLexicon, CueReader
from mediawatch.model import RiskReason, SourceTier
from mediawatch.stories import StoryStats

WORDING_SIGNALS = (
    "sensational",
    "call_to_share",
    "unverified_source",
    "leaked_document",
    "policy_change",
    "absolute_claim",
    "impersonation",
    "scam",
    "first_hand",
)
SIGNALS = (
    "unreliable_model",
    "model_without_diacritics",
    *WORDING_SIGNALS,
    "toxicity",
    "source_tier",
    "story_growth",
    "claim_match",
)

# The code each signal's reason carries (stored with items; the web page highlights wording).
REASON_CODES = {
    "unreliable_model": "model_unreliable",
    "model_without_diacritics": "model_unreliable_without_diacritics",
    "sensational": "sensational_wording",
    "call_to_share": "call_to_share",
    "unverified_source": "unverified_source_phrasing",
    "leaked_document": "leaked_document_framing",
    "policy_change": "claimed_policy_change",
    "first_hand": "first_hand_account",
    "absolute_claim": "absolute_claim",
    "impersonation": "impersonates_authority",
    "scam": "scam_request",
    "toxicity": "toxic_wording",
    "source_tier": "source_tier",
    "story_growth": "story_spreading",
    "claim_match": "matches_judged_claim",
}
WORDING_REASON_CODES = frozenset(REASON_CODES[name] for name in WORDING_SIGNALS)

# Below this share of the score a reason is not worth a reviewer's attention.
MIN_REASON_WEIGHT = 0.03

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
# A story this many items strong in 24 hours counts fully as spreading.
STORY_GROWTH_FULL = 32


class RiskWeights(BaseModel):
    """How the signals combine: log-odds = intercept + Σ coefficient·(value − reference).

    ``reference`` is each signal's value in the labelled data where it did not vary (a social
    post outside any story or claim): the intercept describes that case, and an item's
    reasons are what moves it away from there.
    """

    version: str
    intercept: float
    coefficients: dict[str, float]
    reference: dict[str, float] = Field(default_factory=dict)
    priors: dict[str, list[float]] = Field(
        default_factory=dict, description="Each weight's prior: [mean, strength]"
    )
    review_threshold: float | None = Field(
        default=None, description="The queue threshold chosen with these weights, if tuned"
    )
    trained_at: str = ""
    data: dict = Field(default_factory=dict)
    metrics: dict = Field(default_factory=dict)
    notes: str = ""

    def log_odds_parts(self, values: dict[str, float]) -> dict[str, float]:
        return {
            name: coefficient * (values.get(name, 0.0) - self.reference.get(name, 0.0))
            for name, coefficient in self.coefficients.items()
        }

    def probability(self, values: dict[str, float]) -> float:
        return _sigmoid(self.intercept + sum(self.log_odds_parts(values).values()))

    @classmethod
    def load(cls, path: Path) -> RiskWeights:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@dataclass(frozen=True)
class SignalRow:
    """One labelled item's signal values, for fitting: its weight in the fit and its story
    (items of one story are held out together)."""

    values: dict[str, float]
    unreliable: bool
    weight: float = 1.0
    group: str = ""


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """A claim of the register (judged false or misleading) that this item repeats."""

    claim_id: str
    statement: str
    similarity: float


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the scorer needs beyond the text: model outputs and the item's circumstances."""

    tier: SourceTier
    unreliable_probability: float
    toxicity_probability: float = 0.0
    story: StoryStats | None = None
    claim: ClaimMatch | None = None
    model_versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Measured:
    """Signal values in [0, 1], each with its reason's wording and evidence."""

    values: dict[str, float]
    labels_vi: dict[str, str]
    evidence: dict[str, list[str]]


def story_growth(story: StoryStats | None) -> float:
    """0 for an item alone; 1 when its story gathered STORY_GROWTH_FULL items in 24 hours."""
    if story is None or story.items_last_24h <= 1:
        return 0.0
    return min(1.0, math.log2(story.items_last_24h) / math.log2(STORY_GROWTH_FULL))


class RiskScorer:
    def __init__(self, lexicon: CueLexicon, weights: RiskWeights) -> None:
        if set(lexicon.families) != set(WORDING_SIGNALS):
            raise ValueError(
                f"the risk lexicon's families {sorted(lexicon.families)} must be "
                f"{sorted(WORDING_SIGNALS)}"
            )
        self.lexicon = lexicon
        self.weights = weights
        self.cues = CueReader(lexicon)

    @classmethod
    def load(cls, weights_path: Path, lexicon_path: Path = DEFAULT_LEXICON) -> RiskScorer:
        return cls(CueLexicon.load(lexicon_path), RiskWeights.load(weights_path))

    @classmethod
    def measuring_only(cls, lexicon_path: Path = DEFAULT_LEXICON) -> RiskScorer:
        """A scorer for measuring signals, before there are weights to score them with."""
        unfitted = RiskWeights(version="unfitted", intercept=0.0, coefficients={})
        return cls(CueLexicon.load(lexicon_path), unfitted)

    def measure(self, title: str, text: str, context: RiskContext) -> Measured:
        cues = self.cues.read(title, text)
        wording = {group: cues.found.get(group, []) for group in WORDING_SIGNALS}
        families = self.lexicon.families
        values = {
            "unreliable_model": context.unreliable_probability,
            # The model read mostly accented text: typed without diacritics, everyday posts
            # look unreliable to it, and the fit learns how far to trust it there.
            "model_without_diacritics": 0.0 if cues.accented else context.unreliable_probability,
            **{group: self.cues.strength(cues, group) for group in WORDING_SIGNALS},
            "toxicity": context.toxicity_probability,
            "source_tier": TIER_STRENGTH[context.tier],
            "story_growth": story_growth(context.story),
            "claim_match": context.claim.similarity if context.claim else 0.0,
        }
        versions = context.model_versions
        labels = {
            **{
                group: f"{families[group].label_vi} ({len(wording[group])} dấu hiệu)"
                for group in WORDING_SIGNALS
            },
            "unreliable_model": "Mô hình độ tin cậy đánh giá nội dung có khả năng không đáng tin "
            f"({context.unreliable_probability:.0%})",
            "model_without_diacritics": "Mô hình độ tin cậy, trên văn bản không dấu "
            f"({context.unreliable_probability:.0%})",
            "toxicity": f"Ngôn từ xúc phạm, thù địch (mô hình: {context.toxicity_probability:.0%})",
            "source_tier": f"Loại nguồn: {TIER_LABEL_VI[context.tier]}",
            "story_growth": "Câu chuyện đang lan nhanh",
            "claim_match": "Lặp lại nội dung đã được kết luận là sai hoặc gây hiểu lầm",
        }
        evidence = {
            "unreliable_model": [
                f"xác suất {context.unreliable_probability:.2f} · mô hình "
                f"{versions.get('reliability', '?')}"
            ],
            "model_without_diacritics": [
                f"xác suất {context.unreliable_probability:.2f} · văn bản không dấu · mô hình "
                f"{versions.get('reliability', '?')}"
            ],
            **{group: quotes for group, quotes in wording.items()},
            "toxicity": [
                f"xác suất {context.toxicity_probability:.2f} · mô hình "
                f"{versions.get('toxicity', '?')}"
            ],
            "source_tier": [f"hạng nguồn: {context.tier.value}"],
            "story_growth": [],
            "claim_match": [],
        }
        if context.story is not None:
            story = context.story
            evidence["story_growth"] = [
                f"{story.items_last_24h} tin trong 24 giờ qua (24 giờ trước đó: "
                f"{story.items_previous_24h}), {story.sources} nguồn",
                f"chuỗi tin {story.story_id}",
            ]
        if context.claim is not None:
            claim = context.claim
            evidence["claim_match"] = [
                claim.statement,
                f"độ trùng khớp {claim.similarity:.2f} · khẳng định đã kết luận {claim.claim_id}",
            ]
        return Measured(values, labels, evidence)

    def score(
        self, title: str, text: str, context: RiskContext
    ) -> tuple[float, list[RiskReason], dict[str, float]]:
        """The risk, its reasons (largest share first) and the signal values it rests on."""
        measured = self.measure(title, text, context)
        risk = self.weights.probability(measured.values)
        parts = self.weights.log_odds_parts(measured.values)
        parts = {name: part for name, part in parts.items() if part > 0}
        pushed = sum(parts.values())
        reasons = []
        for name, part in parts.items():
            weight = risk * part / pushed
            if weight >= MIN_REASON_WEIGHT and measured.evidence.get(name):
                reasons.append(
                    RiskReason(
                        code=REASON_CODES[name],
                        label_vi=measured.labels_vi[name],
                        weight=round(weight, 4),
                        evidence=measured.evidence[name],
                    )
                )
        reasons.sort(key=lambda reason: reason.weight, reverse=True)
        values = {name: round(value, 4) for name, value in measured.values.items()}
        return round(risk, 4), reasons, values
