"""The risk score: fitted weights, reasons with evidence, and the signals beyond the text."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from classifier.linear import LinearTextModel
from classifier.retrain import _lexicon_scorer
from classifier.risk import (
    REASON_CODES,
    SIGNALS,
    ClaimMatch,
    RiskContext,
    RiskScorer,
    RiskWeights,
)
from classifier.risk_fit import (
    LABELLED_REFERENCE,
    MIN_ROWS_TO_FIT,
    PRIOR_COEFFICIENTS,
    SignalRow,
    fit_risk_weights,
)
from classifier.service import RISK_WEIGHTS_FILE, SHIPPED_MODELS, ItemToClassify
from classifier.train import TASKS
from mediawatch.model import ReviewDecision, ReviewOutcome, SourceTier, utc_now
from tests.factories import make_document, small_labelled_data

RUMOUR = (
    "Nghe nói sắp thu hồi toàn bộ đất ở Lạc Dương để làm sân golf",
    "Nguồn tin nội bộ cho biết người dân sẽ không được bồi thường đồng nào. Ae chia sẻ gấp "
    "trước khi bị xóa, mọi người cùng biết để phản đối việc thu hồi đất trái phép này ngay.",
)


def scorer() -> RiskScorer:
    return RiskScorer(_lexicon_scorer().lexicon, RiskWeights.load(SHIPPED_MODELS / "risk.json"))


def test_shipped_weights_were_fitted_and_name_their_priors():
    weights = RiskWeights.load(SHIPPED_MODELS / RISK_WEIGHTS_FILE)
    assert set(weights.coefficients) == set(SIGNALS)
    assert {"unreliable_model", "sensational", "call_to_share", "toxicity"} <= set(weights.fitted)
    for name, prior in PRIOR_COEFFICIENTS.items():
        assert name not in weights.fitted
        assert weights.coefficients[name] == prior
    dev = weights.metrics["dev"]
    assert dev["risk"]["roc_auc"] > 0.8
    assert (SHIPPED_MODELS / "risk.card.md").read_text(encoding="utf-8").count("| prior |") == 3


def test_the_score_is_the_fitted_logistic_of_the_signals():
    risk_scorer = scorer()
    context = RiskContext(SourceTier.SOCIAL, unreliable_probability=0.4, toxicity_probability=0.1)
    risk, reasons, signals = risk_scorer.score(*RUMOUR, context)
    weights = risk_scorer.weights
    log_odds = weights.intercept + sum(
        coefficient * (signals[name] - weights.reference.get(name, 0.0))
        for name, coefficient in weights.coefficients.items()
    )
    assert risk == pytest.approx(1 / (1 + math.exp(-log_odds)), abs=1e-3)
    # Shares of the score: together at most the score, largest first, each with evidence.
    assert sum(r.weight for r in reasons) <= risk + 1e-3
    assert [r.weight for r in reasons] == sorted((r.weight for r in reasons), reverse=True)
    wording = {r.code: r for r in reasons}
    assert wording["unverified_source_phrasing"].evidence == ["Nghe nói", "Nguồn tin nội bộ"]
    assert "Ae chia sẻ" in wording["call_to_share"].evidence
    assert all(r.label_vi and r.evidence for r in reasons)


def test_official_sources_lower_and_unknown_sources_raise_the_same_text():
    risk_scorer = scorer()
    scores = {
        tier: risk_scorer.score(*RUMOUR, RiskContext(tier, unreliable_probability=0.3))[0]
        for tier in SourceTier
    }
    assert scores[SourceTier.OFFICIAL] < scores[SourceTier.PRESS] < scores[SourceTier.SOCIAL]
    assert scores[SourceTier.SOCIAL] < scores[SourceTier.UNKNOWN]


def test_a_spreading_story_and_a_judged_claim_are_reasons_with_evidence(pipeline, store):
    risk_scorer = scorer()
    alone = risk_scorer.score(
        "Tin", "Một nội dung bình thường.", RiskContext(SourceTier.PRESS, 0.1)
    )
    from mediawatch.stories import StoryStats

    now = utc_now()
    story = StoryStats("story-1", now - timedelta(hours=5), now, 20, 9, 20, 1, 3.5)
    claim = ClaimMatch("web:judged", "Thu hồi toàn bộ đất ở Lạc Dương", 0.83)
    context = RiskContext(SourceTier.PRESS, 0.1, story=story, claim=claim)
    risk, reasons, signals = risk_scorer.score("Tin", "Một nội dung bình thường.", context)
    assert risk > alone[0] + 0.5
    by_code = {r.code: r for r in reasons}
    assert by_code["matches_judged_claim"].evidence[0] == "Thu hồi toàn bộ đất ở Lạc Dương"
    assert "0.83" in by_code["matches_judged_claim"].evidence[1]
    assert "20 tin trong 24 giờ qua" in by_code["story_spreading"].evidence[0]
    assert signals["claim_match"] == 0.83
    assert 0.8 < signals["story_growth"] < 1


def test_an_item_repeating_one_judged_false_is_flagged_with_that_item(pipeline, store):
    title, text = RUMOUR
    pipeline.judged_claims.refresh_s = 0  # read decisions before every batch
    judged = make_document("https://fb.example/post/1", title, text, tier=SourceTier.SOCIAL)
    pipeline.ingest([judged])
    store.record_review(judged.id, ReviewDecision(outcome=ReviewOutcome.FALSE), "reviewer-1")
    # The same rumour reposted without diacritics and with a sentence dropped.
    from mediawatch.text import fold

    copy = make_document(
        "https://forum.example/t/2",
        fold(title),
        fold(text.rsplit(".", 2)[0]),
        tier=SourceTier.SOCIAL,
    )
    unrelated = make_document(
        "https://press.example/a/3",
        "Lâm Đồng khai mạc lễ hội hoa",
        "Lễ hội hoa Đà Lạt năm nay có nhiều hoạt động văn hóa, nghệ thuật đặc sắc cho du khách "
        "trong nước và quốc tế tham quan, trải nghiệm trong suốt một tuần tại trung tâm thành phố.",
    )
    pipeline.ingest([copy, unrelated])
    stored_copy, stored_unrelated = store.get(copy.id), store.get(unrelated.id)
    reasons = {r.code: r for r in stored_copy.classification.reasons}
    assert reasons["matches_judged_claim"].evidence[0] == title
    assert judged.id in reasons["matches_judged_claim"].evidence[1]
    assert stored_copy.classification.signals["claim_match"] >= 0.4
    assert stored_unrelated.classification.signals["claim_match"] == 0.0


def test_story_growth_reaches_later_items_of_a_spreading_story(classifier, pipeline, store):
    title, text = RUMOUR
    copies = [
        make_document(f"https://fb.example/p/{i}", title, f"{text} Chia sẻ lần {i}.")
        for i in range(6)
    ]
    pipeline.ingest(copies[:1])
    pipeline.ingest(copies[1:])
    first, last = store.get(copies[0].id), store.get(copies[-1].id)
    assert first.classification.signals["story_growth"] == 0.0
    assert last.classification.signals["story_growth"] > 0.3
    assert "story_spreading" in {r.code for r in last.classification.reasons}


def test_reviewed_items_teach_the_priors_once_enough_vary(tmp_path: Path):
    data = small_labelled_data(tmp_path / "data", ("reintel", "vfnd"), 300)
    reliability = LinearTextModel.load(SHIPPED_MODELS, "reliability")
    toxicity = LinearTextModel.load(SHIPPED_MODELS, "toxicity")
    base = {name: 0.0 for name in SIGNALS} | {"source_tier": LABELLED_REFERENCE["source_tier"]}
    # Reviewers found official items reliable and unknown sources' items false.
    reviewed = [
        SignalRow(base | {"source_tier": 0.0, "unreliable_model": 0.3}, False)
        for _ in range(MIN_ROWS_TO_FIT)
    ] + [
        SignalRow(base | {"source_tier": 0.8, "unreliable_model": 0.3}, True)
        for _ in range(MIN_ROWS_TO_FIT)
    ]
    spec = TASKS["reliability"]
    without = fit_risk_weights(spec, data, reliability, toxicity, _lexicon_scorer())
    learned = fit_risk_weights(spec, data, reliability, toxicity, _lexicon_scorer(), 13, reviewed)
    assert "source_tier" not in without.fitted
    assert "source_tier" in learned.fitted and "story_growth" not in learned.fitted
    assert learned.coefficients["source_tier"] > PRIOR_COEFFICIENTS["source_tier"]
    assert learned.data["reviewed_rows"] == 2 * MIN_ROWS_TO_FIT
    assert learned.version.startswith("risk-logistic-") and "-r60-" in learned.version


def test_classification_carries_section_toxicity_and_signals(classifier):
    (article,) = classifier.classify_batch(
        [
            ItemToClassify(
                "Đội tuyển bóng đá Việt Nam thắng 3-0",
                "Huấn luyện viên hài lòng với các cầu thủ sau trận đấu trên sân Mỹ Đình, "
                "tiền đạo ghi hai bàn trong hiệp hai.",
                SourceTier.PRESS,
            )
        ]
    )
    assert article.section == "sports"
    assert 0 < article.section_probability <= 1
    assert 0 <= article.toxicity_probability < 0.5
    assert set(article.signals) == set(SIGNALS)
    assert set(article.model_versions) == {*TASKS, "risk"}
    assert set(REASON_CODES) == set(SIGNALS)
