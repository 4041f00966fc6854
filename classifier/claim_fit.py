"""Fit how the claim matcher combines its pair measures, and choose its two thresholds.

Training pairs are what the matcher meets in use: each labelled text against the candidates
the matcher draws from its register (plus its own claim when the candidates miss it), labelled
by whether the text repeats that claim. Development sets only: the ViFactCheck pairs' dev side
(formal news, hard negatives that contradict the claim in its own words) and the written
Lâm Đồng dev set (posts, teencode, rebuttals). The regularisation is chosen by cross-validation
grouped by story; the thresholds are chosen on the out-of-fold probabilities of the sets named
for it, the register's working material (posts repeating rumours): linking at the lowest
threshold whose link precision reaches 0.95, suggesting at the highest whose surfaced recall
(linked or suggested) reaches 0.9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold

from classifier.claim_matching import PAIR_FEATURES, ClaimMatcher, MatchingModel, pair_features
from classifier.claims_evaluation import (
    ClaimItem,
    Found,
    match_rates,
    read_register,
)
from classifier.embeddings import WordVectors
from mediawatch.config import ClaimSettings

LINK_PRECISION = 0.95
SURFACED_RECALL = 0.9
REGULARISATION = (0.1, 1.0, 10.0)
FOLDS = 5
THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 0.996, 0.01)]


@dataclass(frozen=True)
class LabelledSet:
    """A register (``{id: statement}``) and labelled texts matched against it."""

    name: str
    claims: dict[str, str]
    items: list[ClaimItem]
    chooses_thresholds: bool


def read_labelled_set(
    name: str, claims_path: Path, data_path: Path, chooses_thresholds: bool
) -> LabelledSet:
    claims, items = read_register(claims_path, data_path)
    return LabelledSet(name, claims, items, chooses_thresholds)


@dataclass
class _Text:
    """One labelled text: its pairs' rows in the feature matrix, and whether it may be linked
    at all (long enough, no rebuttal wording)."""

    item: ClaimItem
    labelled_set: str
    rows: list[tuple[int, str]] = field(default_factory=list)
    can_link: bool = True


def _read_pairs(
    sets: Sequence[LabelledSet], vectors: WordVectors, settings: ClaimSettings
) -> tuple[np.ndarray, np.ndarray, list[str], list[_Text]]:
    features, labels, groups, texts = [], [], [], []
    for labelled in sets:
        registry = {claim_id: [statement] for claim_id, statement in labelled.claims.items()}
        matcher = ClaimMatcher(registry, settings, vectors=vectors)
        statement_of = {variant.claim_id: i for i, variant in enumerate(matcher.variants)}
        for item in labelled.items:
            scored = matcher.read(item.text)
            indices = set(matcher.candidates(scored))
            if item.claim_id in statement_of:
                indices.add(statement_of[item.claim_id])
            text = _Text(
                item,
                labelled.name,
                can_link=len(scored.words) >= settings.min_words_to_link and not scored.refutes,
            )
            for index in sorted(indices):
                variant = matcher.variants[index]
                text.rows.append((len(features), variant.claim_id))
                features.append(pair_features(scored, variant.text))
                labels.append(variant.claim_id == item.claim_id)
                groups.append(f"{labelled.name}:{item.claim_id or item.id or item.line}")
            texts.append(text)
    return np.vstack(features), np.array(labels), groups, texts


def _found(text: _Text, probabilities: np.ndarray, link: float, suggest: float) -> list[Found]:
    best: dict[str, float] = {}
    for row, claim_id in text.rows:
        best[claim_id] = max(best.get(claim_id, 0.0), float(probabilities[row]))
    return [
        Found(claim_id, text.can_link and p >= link, round(p, 4))
        for claim_id, p in best.items()
        if p >= suggest
    ]


def rates_at(
    texts: Sequence[_Text], probabilities: np.ndarray, link: float, suggest: float
) -> dict:
    return match_rates(
        [text.item for text in texts],
        [_found(text, probabilities, link, suggest) for text in texts],
    )


def choose_thresholds(texts: Sequence[_Text], probabilities: np.ndarray) -> tuple[float, float]:
    """The lowest link threshold with precision ≥ 0.95 and the highest suggest threshold
    (not above it) with surfaced recall ≥ 0.9, on ``probabilities`` of ``texts``' pairs;
    where no threshold reaches that recall, the one with the best F1 of surfaced matches."""
    link = next(
        (
            t
            for t in THRESHOLDS
            if (rates_at(texts, probabilities, t, t)["link"]["precision"] or 0) >= LINK_PRECISION
        ),
        THRESHOLDS[-1],
    )
    surfaced = {
        t: rates_at(texts, probabilities, link, t)["surfaced"] for t in THRESHOLDS if t <= link
    }
    reaching = [t for t, rates in surfaced.items() if (rates["recall"] or 0) >= SURFACED_RECALL]
    if reaching:
        return link, max(reaching)
    # Out of reach: the suggestions a reviewer gains most from, by F1 of surfaced matches.
    return link, max(surfaced, key=lambda t: _f1(surfaced[t]))


def _f1(rates: dict) -> float:
    precision, recall = rates["precision"] or 0.0, rates["recall"] or 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _out_of_fold(
    x: np.ndarray, y: np.ndarray, folds: list, regularisation: float, seed: int
) -> np.ndarray:
    probabilities = np.zeros(len(y))
    for train_rows, held_rows in folds:
        model = LogisticRegression(C=regularisation, max_iter=2000, random_state=seed)
        model.fit(x[train_rows], y[train_rows])
        probabilities[held_rows] = model.predict_proba(x[held_rows])[:, 1]
    return probabilities


def fit_matching_model(
    sets: Sequence[LabelledSet], vectors: WordVectors, seed: int = 13
) -> MatchingModel:
    settings = ClaimSettings()
    x, y, groups, texts = _read_pairs(sets, vectors, settings)
    folds = list(GroupKFold(n_splits=FOLDS).split(x, y, groups))
    out_of_fold = {c: _out_of_fold(x, y, folds, c, seed) for c in REGULARISATION}
    scores = {c: average_precision_score(y, p) for c, p in out_of_fold.items()}
    regularisation = max(REGULARISATION, key=scores.__getitem__)
    probabilities = out_of_fold[regularisation]
    chooser_names = {s.name for s in sets if s.chooses_thresholds}
    choosers = [
        t for t in texts if any(s.name == t.labelled_set and s.chooses_thresholds for s in sets)
    ]
    link, suggest = choose_thresholds(choosers, probabilities)
    final = LogisticRegression(C=regularisation, max_iter=2000, random_state=seed).fit(x, y)
    trained_at = datetime.now(UTC).replace(microsecond=0)
    return MatchingModel(
        version=f"claim-matching-{trained_at:%Y%m%d}-s{seed}",
        intercept=float(final.intercept_[0]),
        coefficients=dict(zip(PAIR_FEATURES, map(float, final.coef_[0]), strict=True)),
        link_threshold=link,
        suggest_threshold=suggest,
        trained_at=trained_at.isoformat(),
        data={
            "sets": {s.name: {"claims": len(s.claims), "texts": len(s.items)} for s in sets},
            "pairs": len(y),
            "repeating_pairs": int(y.sum()),
            "word_vectors": vectors.card.version,
        },
        metrics={
            "regularisation_average_precision": {str(c): round(s, 4) for c, s in scores.items()},
            "regularisation": regularisation,
            "out_of_fold_at_thresholds": {
                s.name: rates_at(
                    [t for t in texts if t.labelled_set == s.name], probabilities, link, suggest
                )
                for s in sets
            },
        },
        notes=(
            "Logistic regression over the pair measures; C chosen by "
            f"{FOLDS}-fold cross-validation grouped by story (average precision); thresholds "
            f"chosen on out-of-fold probabilities of {', '.join(sorted(chooser_names))}: "
            f"link precision ≥ {LINK_PRECISION}, surfaced recall ≥ {SURFACED_RECALL}."
        ),
    )
