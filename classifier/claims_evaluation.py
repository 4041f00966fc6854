"""How well the claims register catches repeats of its claims: ``evaluate --task claims``.

A claims file (``{id, statement}`` lines) stands for the register; each data line is a text
with the claim it repeats (``claim_id``) or ``null`` when it repeats none (a rebuttal, a
neighbouring story, anything else). Every text is matched against every claim through the
product's matcher (``ClaimMatcher.match`` with the configured thresholds), so a text that
repeats one claim and is linked to another counts as a false link as well as a miss.

- link precision: right (text, claim) links among all links; link recall: repeats whose own
  claim is linked;
- the same for *surfaced* (linked or suggested): what reaches a reviewer at all.

The same run scores a fixed lexical rule, the previous release's plain one (``baseline``), so
a change to the matcher is measured against it on the same lines. The metric function takes
plain expectations and matches, so the held-out bench computes another release's figures
with the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import structlog

from classifier.claim_matching import ClaimMatcher, bigrams, matching_form
from classifier.evaluate import Line, read_lines, share
from mediawatch.config import Settings
from mediawatch.model import ClaimLinkStatus

log = structlog.get_logger("mediawatch.classifier")

EXCERPT = 160
# The baseline rule: overlap coefficient of folded word bigrams (shared / the smaller set).
BASELINE_LINK = 0.7
BASELINE_SUGGEST = 0.45
BASELINE_MIN_WORDS_TO_LINK = 8
NEGATIVE_COUNTS = ("n", "linked", "surfaced")


@dataclass(frozen=True, slots=True)
class ClaimItem:
    line: int
    id: str | None
    text: str
    claim_id: str | None
    writing: str | None = None
    style: str | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A claim a text was matched to: linked, or only suggested."""

    claim_id: str
    linked: bool
    similarity: float


def read_claims(path: Path) -> dict[str, str]:
    """The claims file as ``{id: statement}``; a duplicate id is refused, not overwritten."""
    claims: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line in read_lines(path):
        claim_id = line.item_id()
        if claim_id is None:
            raise line.error("thiếu trường 'id'", "missing field 'id'")
        if claim_id in claims:
            raise line.error(
                f"mã khẳng định '{claim_id}' trùng với dòng {first_line[claim_id]}",
                "duplicate claim id",
            )
        claims[claim_id] = str(line.string("statement"))
        first_line[claim_id] = line.number
    return claims


def _claim_item(line: Line, claims: Mapping[str, str], claims_path: Path) -> ClaimItem:
    if "claim_id" not in line.row:
        raise line.error(
            "thiếu trường 'claim_id' (null khi không lặp lại khẳng định nào)",
            "missing field 'claim_id'",
        )
    claim_id = line.row["claim_id"]
    if claim_id is not None:
        if isinstance(claim_id, bool) or not isinstance(claim_id, str | int):
            raise line.error(
                "trường 'claim_id' phải là mã khẳng định hoặc null",
                "'claim_id' must be a claim id or null",
            )
        claim_id = str(claim_id)
        if claim_id not in claims:
            raise line.error(
                f"mã khẳng định '{claim_id}' không có trong {claims_path}",
                "claim_id not in the claims file",
            )
    return ClaimItem(
        line=line.number,
        id=line.item_id(),
        text=str(line.string("text")),
        claim_id=claim_id,
        writing=line.string("writing", required=False),
        style=line.string("style", required=False),
    )


def read_claim_items(path: Path, claims: Mapping[str, str], claims_path: Path) -> list[ClaimItem]:
    return [_claim_item(line, claims, claims_path) for line in read_lines(path)]


def read_register(claims_path: Path, data_path: Path) -> tuple[dict[str, str], list[ClaimItem]]:
    """The claims as the register holds them and the labelled texts against them.

    The register keeps one claim per statement (its dedupe key): two ids with the same
    statement in words are one claim, the first id, and texts labelled with the other are
    counted against it, as a register fed both would link them."""
    claims = read_claims(claims_path)
    items = read_claim_items(data_path, claims, claims_path)
    first: dict[str, str] = {}
    alias = {
        claim_id: first.setdefault(matching_form(statement), claim_id)
        for claim_id, statement in claims.items()
    }
    kept = {claim_id: claims[claim_id] for claim_id in dict.fromkeys(alias.values())}
    items = [
        replace(item, claim_id=alias[item.claim_id]) if item.claim_id else item for item in items
    ]
    return kept, items


def _rates(items: Sequence[ClaimItem], found: Sequence[Sequence[Found]], linked_only: bool) -> dict:
    pairs = [
        (item, match)
        for item, matches in zip(items, found, strict=True)
        for match in matches
        if match.linked or not linked_only
    ]
    right = sum(match.claim_id == item.claim_id for item, match in pairs)
    repeats = [(item, matches) for item, matches in zip(items, found, strict=True) if item.claim_id]
    caught = sum(
        any(m.claim_id == item.claim_id and (m.linked or not linked_only) for m in matches)
        for item, matches in repeats
    )
    return {
        "precision": share(right, len(pairs)),
        "recall": share(caught, len(repeats)),
        "matches": len(pairs),
        "right": right,
    }


def match_rates(items: Sequence[ClaimItem], found: Sequence[Sequence[Found]]) -> dict:
    """Link and surfaced (linked or suggested) precision and recall of ``found``, each item's
    matches; ``None`` where there is nothing to count."""
    negatives = [
        (item, matches) for item, matches in zip(items, found, strict=True) if not item.claim_id
    ]
    return {
        "n": len(items),
        "repeats": len(items) - len(negatives),
        "link": _rates(items, found, linked_only=True),
        "surfaced": _rates(items, found, linked_only=False),
        "negatives_linked": sum(any(m.linked for m in ms) for _item, ms in negatives),
        "negatives_surfaced": sum(bool(ms) for _item, ms in negatives),
    }


def _excerpt(item: ClaimItem) -> dict:
    return {"id": item.id, "line": item.line, "text": item.text[:EXCERPT]}


def _breakdown(items: Sequence[ClaimItem], found: Sequence[Sequence[Found]], field: str) -> dict:
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        key = getattr(item, field)
        if key:
            groups.setdefault(key, []).append(index)
    return {
        key: match_rates([items[i] for i in rows], [found[i] for i in rows])
        for key, rows in sorted(groups.items())
    }


def claims_report(
    items: Sequence[ClaimItem],
    found: Sequence[Sequence[Found]],
    baseline: Sequence[Sequence[Found]],
) -> dict:
    """The evaluation's figures, lists and breakdowns from each item's matches."""
    false_links = [
        {
            **_excerpt(item),
            "expected": item.claim_id,
            "linked": m.claim_id,
            "similarity": m.similarity,
        }
        for item, matches in zip(items, found, strict=True)
        for m in matches
        if m.linked and m.claim_id != item.claim_id
    ]
    missed = []
    for item, matches in zip(items, found, strict=True):
        own = next((m for m in matches if m.claim_id == item.claim_id), None)
        if item.claim_id and not (own and own.linked):
            missed.append(
                {
                    **_excerpt(item),
                    "claim_id": item.claim_id,
                    "status": "suggested" if own else None,
                    "similarity": own.similarity if own else None,
                }
            )
    negatives: dict[str, dict[str, int]] = {}
    for item, matches in zip(items, found, strict=True):
        if not item.claim_id:
            counts = negatives.setdefault(item.style or "other", dict.fromkeys(NEGATIVE_COUNTS, 0))
            counts["n"] += 1
            counts["linked"] += any(m.linked for m in matches)
            counts["surfaced"] += bool(matches)
    breakdowns = {
        field: _breakdown(items, found, field)
        for field in ("writing", "style")
        if any(getattr(item, field) for item in items)
    }
    return {
        "task": "claims",
        **match_rates(items, found),
        "false_links": false_links,
        "missed_repeats": missed,
        "negatives_by_style": dict(sorted(negatives.items())),
        "breakdowns": breakdowns,
        "baseline": {
            "scored_by": "trùng cặp từ (overlap coefficient of folded word bigrams), "
            f"liên kết ≥ {BASELINE_LINK} và ≥ {BASELINE_MIN_WORDS_TO_LINK} từ, "
            f"gợi ý ≥ {BASELINE_SUGGEST}",
            **match_rates(items, baseline),
        },
    }


class LexicalBaseline:
    """The previous release's plain rule: the overlap coefficient of folded word bigrams
    between a text and each claim's statement, without the matcher's later refinements."""

    def __init__(self, claims: Mapping[str, str]) -> None:
        self._claims = {claim_id: bigrams(matching_form(text)) for claim_id, text in claims.items()}

    def match(self, text: str) -> list[Found]:
        form = matching_form(text)
        grams = bigrams(form)
        long_enough = len(form.split()) >= BASELINE_MIN_WORDS_TO_LINK
        found = []
        for claim_id, claim_grams in self._claims.items():
            if not grams or not claim_grams:
                continue
            score = len(grams & claim_grams) / min(len(grams), len(claim_grams))
            if score >= BASELINE_SUGGEST:
                linked = score >= BASELINE_LINK and long_enough
                found.append(Found(claim_id, linked, round(score, 4)))
        return sorted(found, key=lambda f: (-f.similarity, f.claim_id))


def evaluate_claims_file(claims_path: Path, data_path: Path, settings: Settings) -> dict:
    """The claims evaluation of the labelled texts at ``data_path`` against the claims file."""
    claims, items = read_register(claims_path, data_path)
    matcher = ClaimMatcher(
        claims={claim_id: [statement] for claim_id, statement in claims.items()},
        settings=settings.claims,
    )
    found = [
        [
            Found(link.claim_id, link.status == ClaimLinkStatus.LINKED, link.similarity)
            for link in matcher.match(item.text)
        ]
        for item in items
    ]
    baseline = LexicalBaseline(claims)
    report = {
        "data": str(data_path),
        "claims": str(claims_path),
        "claims_count": len(claims),
        **claims_report(items, found, [baseline.match(item.text) for item in items]),
    }
    log.info(
        "claims_evaluated",
        data=str(data_path),
        claims=str(claims_path),
        n=report["n"],
        link=report["link"],
    )
    return report
