"""The risk score: fitted weights, reasons with evidence, and the signals beyond the text."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from classifier.linear import LinearTextModel
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
    PRIOR_COEFFICIENTS,
    STATED_PRIOR_STRENGTH,
    SignalRow,
    fit_risk_weights,
)
from classifier.service import RISK_WEIGHTS_FILE, SHIPPED_MODELS, ItemToClassify
from classifier.train import TASKS
from mediawatch.model import SourceTier, utc_now
from tests.factories import make_document, small_labelled_data

RUMOUR = (
    "Nghe nói sắp thu hồi toàn bộ đất ở Lạc Dương để làm sân golf",
    "Nguồn tin nội bộ cho biết người dân sẽ không được bồi thường đồng nào. Ae chia sẻ gấp "
    "trước khi bị xóa, mọi người cùng biết để phản đối việc thu hồi đất trái phép này ngay.",
)


def scorer() -> RiskScorer:
    return RiskScorer(
        RiskScorer.measuring_only().lexicon, RiskWeights.load(SHIPPED_MODELS / "risk.json")
    )


def test_shipped_weights_were_fitted_and_keep_stated_priors_the_data_cannot_show():
    weights = RiskWeights.load(SHIPPED_MODELS / RISK_WEIGHTS_FILE)
    assert set(weights.coefficients) == set(SIGNALS) == set(weights.priors)
    for name in ("story_growth", "claim_match"):
        # Constant in the labelled data and the written items: the stated weight holds.
        assert weights.coefficients[name] == pytest.approx(PRIOR_COEFFICIENTS[name], abs=1e-3)
        assert weights.priors[name] == [PRIOR_COEFFICIENTS[name], STATED_PRIOR_STRENGTH]
    # The written items have tiers: they moved the tier's weight up from its prior.
    assert weights.coefficients["source_tier"] > PRIOR_COEFFICIENTS["source_tier"]
    assert weights.data["tuning_rows"] >= 250
    assert weights.coefficients["unreliable_model"] > 3
    assert "dev_without_diacritics" in weights.metrics
    card = (SHIPPED_MODELS / "risk.card.md").read_text(encoding="utf-8")
    assert "| claim_match | 10.000 | 10.000 | 5.0 | 0.0 |" in card


def test_the_score_and_each_reasons_share_follow_the_weights():
    """A small hand-made weighting, checked against numbers worked out by hand."""
    weights = RiskWeights(
        version="hand",
        intercept=-2.0,
        coefficients={"unreliable_model": 2.0, "unverified_source": 1.0, "source_tier": 1.0},
        reference={"source_tier": 0.6},
    )
    hand = RiskScorer(RiskScorer.measuring_only().lexicon, weights)
    context = RiskContext(SourceTier.UNKNOWN, unreliable_probability=0.5)
    risk, reasons, signals = hand.score(*RUMOUR, context)
    # log-odds −2 + 2·0.5 + 1·1 (two unverified phrases) + 1·(0.8 − 0.6) = 0.2
    assert signals["unverified_source"] == 1.0 and signals["source_tier"] == 0.8
    assert risk == pytest.approx(1 / (1 + math.exp(-0.2)), abs=1e-4)
    shares = {r.code: r.weight for r in reasons}
    pushed = 1.0 + 1.0 + 0.2
    assert shares == pytest.approx(
        {
            "model_unreliable": risk * 1.0 / pushed,
            "unverified_source_phrasing": risk * 1.0 / pushed,
            "source_tier": risk * 0.2 / pushed,
        },
        abs=1e-3,
    )
    assert list(shares) == [
        "model_unreliable",
        "unverified_source_phrasing",
        "source_tier",
    ] or list(shares) == ["unverified_source_phrasing", "model_unreliable", "source_tier"]
    by_code = {r.code: r for r in reasons}
    assert by_code["unverified_source_phrasing"].evidence == ["Nghe nói", "Nguồn tin nội bộ"]
    assert by_code["source_tier"].label_vi == "Loại nguồn: nguồn chưa rõ độ tin cậy"
    # A social post sits at the reference: its tier moves nothing and is no reason.
    _risk, social_reasons, _signals = hand.score(*RUMOUR, RiskContext(SourceTier.SOCIAL, 0.5))
    assert "source_tier" not in {r.code for r in social_reasons}


def test_official_sources_lower_and_unknown_sources_raise_the_same_text():
    risk_scorer = scorer()
    post = ("", "Giá cà phê nhân xô ở Di Linh sáng nay 118.000 đồng/kg, giảm nhẹ so với hôm qua.")
    scores = {
        tier: risk_scorer.score(*post, RiskContext(tier, unreliable_probability=0.3))[0]
        for tier in SourceTier
    }
    assert scores[SourceTier.OFFICIAL] < scores[SourceTier.PRESS] < scores[SourceTier.SOCIAL]
    assert scores[SourceTier.SOCIAL] < scores[SourceTier.UNKNOWN]


def test_a_spreading_story_and_a_judged_claim_are_reasons_with_evidence():
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


def test_an_item_repeating_a_claim_of_the_register_is_flagged_with_that_claim(pipeline, store):
    from index.claims import ClaimDraft, Verdict
    from mediawatch.config import ClaimSettings
    from mediawatch.text import fold

    title, text = RUMOUR
    unrelated = make_document(
        "https://press.example/a/3",
        "Lâm Đồng khai mạc lễ hội hoa",
        "Lễ hội hoa Đà Lạt năm nay có nhiều hoạt động văn hóa, nghệ thuật đặc sắc cho du khách "
        "trong nước và quốc tế tham quan, trải nghiệm trong suốt một tuần tại trung tâm thành phố.",
    )
    pipeline.ingest([unrelated])  # the matcher has read the empty register
    claim, _ = pipeline.claims.register.create(
        ClaimDraft(statement=title, verdict=Verdict.FALSE), by="reviewer-1"
    )
    # The rumour reposted without diacritics: the register's change is seen by the next batch.
    copy = make_document(
        "https://forum.example/t/2", fold(title), fold(text), tier=SourceTier.SOCIAL
    )
    pipeline.ingest([copy, unrelated.model_copy(update={"url": "https://press.example/a/4"})])
    stored_copy = store.get(copy.id)
    reasons = {r.code: r for r in stored_copy.classification.reasons}
    assert reasons["matches_judged_claim"].evidence[0] == title
    assert claim.id in reasons["matches_judged_claim"].evidence[1]
    assert stored_copy.classification.signals["claim_match"] >= ClaimSettings().link_threshold
    assert [(m.claim_id, m.status.value) for m in stored_copy.claim_matches] == [
        (claim.id, "linked")
    ]
    assert [i.item_id for i in pipeline.claims.register.get(claim.id).items] == [copy.id]
    stored_unrelated = store.get(unrelated.id)
    assert stored_unrelated.classification.signals["claim_match"] == 0.0
    assert stored_unrelated.claim_matches == []


def test_story_growth_reaches_later_items_of_a_spreading_story(pipeline, store):
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


def test_reviewed_items_move_the_stated_priors_gradually(tmp_path: Path):
    data = small_labelled_data(tmp_path / "data", ("reintel", "vfnd"), 300)
    reliability = LinearTextModel.load(SHIPPED_MODELS, "reliability")
    toxicity = LinearTextModel.load(SHIPPED_MODELS, "toxicity")
    base = dict.fromkeys(SIGNALS, 0.0) | {"source_tier": LABELLED_REFERENCE["source_tier"]}

    def reviewed(count: int) -> list[SignalRow]:
        """Reviewers found official items reliable and unknown sources' items false."""
        return [
            SignalRow(base | {"source_tier": tier, "unreliable_model": 0.3}, tier > 0.5)
            for tier in (0.0, 0.8)
            for _ in range(count)
        ]

    spec, scorer = TASKS["reliability"], RiskScorer.measuring_only()
    tier = [
        fit_risk_weights(spec, data, reliability, toxicity, scorer, 13, reviewed(n))
        for n in (0, 5, 60)
    ]
    weights = [w.coefficients["source_tier"] for w in tier]
    assert weights[0] == pytest.approx(PRIOR_COEFFICIENTS["source_tier"], abs=1e-3)
    assert weights[0] < weights[1] < weights[2]  # more evidence, further from the prior
    assert tier[2].coefficients["story_growth"] == pytest.approx(1.5, abs=1e-3)
    assert tier[2].data["reviewed_rows"] == 120
    assert "-r120-" in tier[2].version
    with pytest.raises(
        ValueError, match="trained with seed 13; fit the risk weights with the same"
    ):
        fit_risk_weights(spec, data, reliability, toxicity, scorer, seed=7)


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


def test_a_model_reason_appears_only_when_it_raises_the_risk_above_the_average_post():
    """A reliability probability of 16 % on an item is below the average post's: it lowers
    the risk, and "the model finds it unreliable (16%)" is no reason to look at it."""
    risk_scorer = scorer()
    reference = risk_scorer.weights.reference
    assert 0.05 < reference["unreliable_model"] < 0.5 and 0 < reference["toxicity"] < 0.5
    text = ("Thông báo", "Lịch cắt điện ngày mai tại phường 1, Đà Lạt, từ 7 giờ đến 11 giờ.")
    low = RiskContext(SourceTier.SOCIAL, reference["unreliable_model"] * 0.8, 0.01)
    high = RiskContext(SourceTier.SOCIAL, 0.9, reference["toxicity"] * 0.5)
    low_codes = {r.code for r in risk_scorer.score(*text, low)[1]}
    high_codes = {r.code for r in risk_scorer.score(*text, high)[1]}
    assert "model_unreliable" not in low_codes and "toxic_wording" not in low_codes
    assert "model_unreliable" in high_codes and "toxic_wording" not in high_codes


def test_the_default_review_threshold_is_the_one_chosen_with_the_shipped_weights():
    from mediawatch.config import Settings

    weights = RiskWeights.load(SHIPPED_MODELS / RISK_WEIGHTS_FILE)
    assert weights.review_threshold is not None
    assert Settings().review_threshold == pytest.approx(weights.review_threshold, abs=0.005)
    tuned = weights.metrics["tuning_cross_validated"]
    # Chosen out of fold on the written dev set for the queue's target recall.
    assert tuned["at_threshold"]["recall"] >= 0.9
    assert tuned["items"] >= 150


def test_the_threshold_for_a_recall_is_the_highest_that_keeps_it():
    from classifier.risk_tuning import operating_point, threshold_for_recall

    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    flags = np.array([True, True, False, True, True, False, True, False, False, True])
    # Six flagged items; recall 0.8 needs five of them: the fifth best flagged scores 0.3.
    assert threshold_for_recall(scores, flags, 0.8) == 0.3
    point = operating_point(scores, flags, 0.3)
    assert point["recall"] == pytest.approx(5 / 6, abs=1e-4)
    assert point["false_flag_rate"] == 0.5


def test_written_items_with_tiers_tune_the_weights_and_choose_the_threshold(tmp_path: Path):
    """Tiered items teach the tier weight the reliability data cannot, and the threshold is
    the one that keeps recall 0.9 out of fold."""
    from classifier.risk_tuning import TUNING_WEIGHTS

    data = small_labelled_data(tmp_path / "data", ("reintel", "vfnd"), 300)
    reliability = LinearTextModel.load(SHIPPED_MODELS, "reliability")
    toxicity = LinearTextModel.load(SHIPPED_MODELS, "toxicity")
    base = dict.fromkeys(SIGNALS, 0.0) | {"unreliable_model": 0.2}
    # Unknown sites' items are rumours, official ones are not; hearsay marks half the rumours.
    tuning = [
        SignalRow(
            base | {"source_tier": tier, "unverified_source": float(tier > 0.5 and i % 2 == 0)},
            tier > 0.5,
            group=f"story-{i}",
        )
        for i in range(40)
        for tier in (0.0, 0.8)
    ]
    spec, scorer = TASKS["reliability"], RiskScorer.measuring_only()
    weights = fit_risk_weights(spec, data, reliability, toxicity, scorer, 13, tuning=tuning)
    tuned = weights.metrics["tuning_cross_validated"]
    assert tuned["weight"] in TUNING_WEIGHTS and weights.data["tuning_rows"] == 80
    assert weights.coefficients["source_tier"] > PRIOR_COEFFICIENTS["source_tier"]
    assert weights.review_threshold == tuned["at_threshold"]["threshold"]
    assert tuned["at_threshold"]["recall"] >= 0.9


def test_a_named_tuning_file_that_is_missing_stops_training(tmp_path: Path):
    from typer.testing import CliRunner

    from mediawatch.cli import app

    result = CliRunner().invoke(
        app,
        [
            "train",
            "--task",
            "risk",
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path),
            "--risk-tuning",
            str(tmp_path / "missing.jsonl"),
        ],
    )
    assert result.exit_code == 2
    assert "missing.jsonl" in result.output
