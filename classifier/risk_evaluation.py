"""How well the review queue catches an office's own labelled items: ``evaluate --task risk``.

Each line is an item as the service would see it (``text``, ``title``, ``source_tier``) with a
person's judgement ``flag`` (true: it should reach reviewers). The items go through the
product's own path (``Classifier.from_settings``, ``classify_batch``) and the queue takes those
whose risk reaches ``review_threshold``; the figures are what an office lives with: the share of
its flagged items the queue catches (recall), the share of the others it sends to reviewers
anyway (false-flag rate), the ranking (ROC-AUC), and the items missed, to read.

The same run scores the reliability model's probability alone at the same threshold
(``baseline``), so what the rest of the risk score adds is measured on the same items. The
metric functions take plain labels and scores, so the held-out bench computes its figures for
another release's scores with the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from sklearn.metrics import roc_auc_score

from classifier.evaluate import Line, read_lines, share
from classifier.service import Classifier, ItemToClassify
from mediawatch.config import Settings
from mediawatch.model import SourceTier

log = structlog.get_logger("mediawatch.classifier")

# Items classified at once: one model call per batch, bounded memory on long articles.
BATCH = 256
# Characters of an item's text shown with a missed or wrongly flagged item.
EXCERPT = 160


@dataclass(frozen=True, slots=True)
class RiskItem:
    line: int
    id: str | None
    title: str
    text: str
    tier: SourceTier
    flag: bool
    cues: tuple[str, ...] = ()
    writing: str | None = None
    style: str | None = None
    # Items of one story (repeats of one claim) are held out together when tuning.
    story: str | None = None


def _risk_item(line: Line) -> RiskItem:
    tier_name = line.string("source_tier")
    tiers = ", ".join(tier.value for tier in SourceTier)
    if tier_name not in {tier.value for tier in SourceTier}:
        raise line.error(
            f"'source_tier' không biết '{tier_name}', phải là một trong: {tiers}",
            "unknown tier",
        )
    flag = line.row.get("flag")
    if not isinstance(flag, bool):
        raise line.error("trường 'flag' phải là true hoặc false", "missing or non-boolean 'flag'")
    cues = line.row.get("cues") or []
    if not isinstance(cues, list) or not all(isinstance(cue, str) for cue in cues):
        raise line.error("trường 'cues' phải là danh sách chuỗi", "'cues' must list strings")
    return RiskItem(
        line=line.number,
        id=line.item_id(),
        title=line.string("title", required=False) or "",
        text=str(line.string("text")),
        tier=SourceTier(tier_name),
        flag=flag,
        cues=tuple(cues),
        writing=line.string("writing", required=False),
        style=line.string("style", required=False),
        story=str(line.row.get("claim_id") or line.row.get("story") or "") or None,
    )


def read_risk_items(path: Path) -> list[RiskItem]:
    """Every line of the file as an item, or an error naming the first bad line."""
    return [_risk_item(line) for line in read_lines(path)]


def queue_rates(flags: Sequence[bool], scores: Sequence[float], threshold: float) -> dict:
    """Recall and false-flag rate of "score ≥ threshold", and the ranking's ROC-AUC.

    A figure with nothing to count (no flagged items, no others, one class) is ``None``.
    """
    queued = [score >= threshold for score in scores]
    positives = sum(flags)
    caught = sum(q and f for q, f in zip(queued, flags, strict=True))
    false_flags = sum(q and not f for q, f in zip(queued, flags, strict=True))
    return {
        "n": len(flags),
        "positives": positives,
        "queued": sum(queued),
        "recall": share(caught, positives),
        "false_flag_rate": share(false_flags, len(flags) - positives),
        "roc_auc": (
            round(float(roc_auc_score(flags, scores)), 4) if 0 < positives < len(flags) else None
        ),
    }


def _listed(items: Iterable[tuple[RiskItem, float]]) -> list[dict]:
    return [
        {"id": item.id, "line": item.line, "risk": round(score, 4), "text": item.text[:EXCERPT]}
        for item, score in items
    ]


def _breakdown(
    items: Sequence[RiskItem],
    scores: Sequence[float],
    threshold: float,
    keys: Callable[[RiskItem], Iterable[str]],
) -> dict[str, dict]:
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        for key in keys(item):
            groups.setdefault(key, []).append(index)
    return {
        key: queue_rates([items[i].flag for i in rows], [scores[i] for i in rows], threshold)
        for key, rows in sorted(groups.items())
    }


def risk_report(
    items: Sequence[RiskItem],
    risks: Sequence[float],
    unreliable: Sequence[float],
    threshold: float,
) -> dict:
    """The evaluation's figures from each item's risk and reliability-model probability."""
    flags = [item.flag for item in items]
    scored = list(zip(items, risks, strict=True))
    breakdowns = {"source_tier": _breakdown(items, risks, threshold, lambda i: [i.tier.value])}
    optional: dict[str, Callable[[RiskItem], Iterable[str]]] = {
        "writing": lambda i: [i.writing] if i.writing else [],
        "style": lambda i: [i.style] if i.style else [],
        "cue": lambda i: sorted(set(i.cues)),
    }
    for name, keys in optional.items():
        if any(keys(item) for item in items):
            breakdowns[name] = _breakdown(items, risks, threshold, keys)
    return {
        "task": "risk",
        "threshold": threshold,
        **queue_rates(flags, risks, threshold),
        "missed": _listed((i, s) for i, s in scored if i.flag and s < threshold),
        "false_flags": _listed((i, s) for i, s in scored if not i.flag and s >= threshold),
        "breakdowns": breakdowns,
        "baseline": {
            "scored_by": "unreliable_probability (mô hình độ tin cậy một mình, "
            "reliability model alone)",
            **queue_rates(flags, unreliable, threshold),
        },
    }


def classify_items(classifier: Classifier, items: Sequence[RiskItem]) -> tuple[list, list]:
    """Each item's risk and reliability-model probability, a batch at a time."""
    risks: list[float] = []
    unreliable: list[float] = []
    for start in range(0, len(items), BATCH):
        batch = [ItemToClassify(i.title, i.text, i.tier) for i in items[start : start + BATCH]]
        for result in classifier.classify_batch(batch):
            risks.append(result.risk)
            unreliable.append(result.unreliable_probability)
    return risks, unreliable


def evaluate_risk_file(path: Path, settings: Settings) -> dict:
    """The risk evaluation of the labelled file at ``path`` with the models ``settings`` use."""
    items = read_risk_items(path)
    classifier = Classifier.from_settings(settings)
    risks, unreliable = classify_items(classifier, items)
    report = {
        "data": str(path),
        "model_versions": classifier.model_versions,
        **risk_report(items, risks, unreliable, settings.review_threshold),
    }
    log.info(
        "risk_evaluated",
        data=str(path),
        n=report["n"],
        recall=report["recall"],
        false_flag_rate=report["false_flag_rate"],
    )
    return report
