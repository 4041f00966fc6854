"""Matching items against the claims register: behaviour pinned on a small set of pairs.

``tests/data/claim_matching.yaml`` was written next to the matching code, so its figures
describe the code's habits; these tests only keep obvious behaviour from regressing. The
figures that describe the world come from the held-out sets (``python -m bench.heldout``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from classifier.claim_matching import ClaimMatcher, similarity
from mediawatch.config import ClaimSettings
from mediawatch.model import ClaimLinkStatus

MATCHING_SET = Path(__file__).parent / "data" / "claim_matching.yaml"
SETTINGS = ClaimSettings()
Scored = list[tuple[float, bool, str]]  # similarity, repeats the claim, kind of pair


def _pairs() -> list[tuple[str, str, bool, str]]:
    """(item text, claim statement, repeats it, kind) for every labelled pair."""
    claims = yaml.safe_load(MATCHING_SET.read_text(encoding="utf-8"))["claims"]
    return [
        (example["text"], claim["statement"], label, example["kind"])
        for claim in claims
        for key, label in (("match", True), ("no_match", False))
        for example in claim[key]
    ]


@pytest.fixture(scope="module")
def scored() -> Scored:
    return [(similarity(text, claim), label, kind) for text, claim, label, kind in _pairs()]


def _precision_recall(scored: Scored, threshold: float) -> tuple[float, float]:
    chosen = [label for score, label, _kind in scored if score >= threshold]
    positives = sum(label for _score, label, _kind in scored)
    return sum(chosen) / len(chosen), sum(chosen) / positives


def test_the_matching_set_is_big_and_varied_enough():
    pairs = _pairs()
    assert 80 <= len(pairs) <= 150
    kinds = {kind for *_rest, kind in pairs}
    assert {"copy", "paraphrase", "nodiacritics", "teencode", "ocr"} <= kinds
    assert {"related", "rebuttal"} <= kinds


def test_precision_at_the_link_threshold(scored):
    precision, recall = _precision_recall(scored, SETTINGS.link_threshold)
    assert precision >= 0.95
    assert recall >= 0.6


def test_precision_and_recall_at_the_suggest_threshold(scored):
    precision, recall = _precision_recall(scored, SETTINGS.suggest_threshold)
    # Rebuttals of the claim and related claims may be suggested, never linked.
    assert precision >= 0.7
    assert recall >= 0.95


def test_rebuttals_are_never_linked(scored):
    rebuttals = [score for score, _label, kind in scored if kind == "rebuttal"]
    assert rebuttals and max(rebuttals) < SETTINGS.link_threshold


def test_texts_of_one_claim_are_not_linked_to_another():
    """A neighbouring claim (same place and topic) may be offered, never linked."""
    claims = yaml.safe_load(MATCHING_SET.read_text(encoding="utf-8"))["claims"]
    matcher = ClaimMatcher({str(i): [c["statement"]] for i, c in enumerate(claims)}, SETTINGS)
    for i, claim in enumerate(claims):
        for example in claim["match"]:
            links = matcher.match(example["text"])
            linked = [link.claim_id for link in links if link.status is ClaimLinkStatus.LINKED]
            assert set(linked) <= {str(i)}, example["text"]


def test_a_short_text_above_the_link_threshold_is_only_suggested():
    statement = "Hồ Tuyền Lâm sắp bị lấp để xây khu đô thị cao tầng."
    matcher = ClaimMatcher({"c1": [statement]}, SETTINGS)
    (short,) = matcher.match("Hồ Tuyền Lâm sắp bị lấp!")  # 6 words
    assert short.similarity >= SETTINGS.link_threshold
    assert short.status is ClaimLinkStatus.SUGGESTED
    (long,) = matcher.match(f"Nghe nói {statement} Buồn quá.")
    assert long.status is ClaimLinkStatus.LINKED


def test_linked_items_match_as_variants_of_their_claim():
    """A repost of an item linked to the claim matches it closer than the statement does."""
    statement = "Giá điện ở Lâm Đồng tăng gấp đôi từ tháng này."
    linked_item = (
        "Hóa đơn tiền điện của các hộ ở Đà Lạt tháng này tăng vọt vì ngành điện thiếu nguồn, "
        "nhiều nhà phải trả gấp đôi mà không được báo trước."
    )
    repost = f"Chia sẻ: {linked_item} Ai cũng bị vậy hả?"
    alone = similarity(repost, statement)
    matcher = ClaimMatcher({"c1": [statement, linked_item]}, SETTINGS)
    (link,) = matcher.match(repost)
    assert link.claim_id == "c1" and link.status is ClaimLinkStatus.LINKED
    assert link.similarity > alone
    assert matcher.match(repost, exclude=["c1"]) == []


def test_a_reworded_repeat_is_offered_and_its_rebuttal_never_linked():
    """The issue's example: other words, no shared word pair with the claim."""
    matcher = ClaimMatcher({"c1": ["Đèo Bảo Lộc sẽ bị đóng cửa vĩnh viễn vì sạt lở."]}, SETTINGS)
    (offered,) = matcher.match(
        "Nghe đâu đèo Bảo Lộc sắp bị chặn hẳn, không cho xe qua nữa vì núi lở"
    )
    assert offered.claim_id == "c1"
    rebuttal = (
        "Sở Xây dựng khẳng định thông tin đèo Bảo Lộc sẽ bị đóng cửa vĩnh viễn vì sạt lở là "
        "không đúng sự thật; đèo vẫn thông xe bình thường."
    )
    assert all(link.status is not ClaimLinkStatus.LINKED for link in matcher.match(rebuttal))
