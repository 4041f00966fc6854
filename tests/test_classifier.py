"""Taxonomy, risk score and the linear models: behaviour on real Vietnamese text."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import vstack
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from classifier.features import (
    FeaturizerConfig,
    TextFeaturizer,
    _WordCharCounts,
    _WordNgramColumns,
)
from classifier.linear import LinearTextModel, ModelLoadError
from classifier.service import SHIPPED_MODELS, Classifier, ItemToClassify
from classifier.taxonomy import Taxonomy
from classifier.train import TASKS, train_task
from mediawatch.model import SourceTier
from mediawatch.text import collapse, fold, normalize
from tests.conftest import shared_path

REQUIRED_TOPICS = {
    "land",
    "planning_construction",
    "agriculture",
    "tourism",
    "environment_forests",
    "mining",
    "transport",
    "health",
    "education",
    "security_order",
    "ethnicity_religion",
    "admin_reform_merger",
    "disasters",
    "social_welfare",
    "officials_corruption",
}


def test_taxonomy_covers_the_policy_topics():
    assert set(Taxonomy.load().labels_vi) == REQUIRED_TOPICS


@pytest.mark.parametrize("transform", [lambda s: s, fold, str.upper])
def test_topics_are_multi_label_and_survive_lost_diacritics(transform):
    taxonomy = Taxonomy.load()
    title = transform("Giải phóng mặt bằng cao tốc Tân Phú – Bảo Lộc chậm tiến độ")
    text = transform("Người dân chưa nhận tiền bồi thường khi thu hồi đất làm đường cao tốc.")
    topics = {t.id: t for t in taxonomy.match(title, text)}
    assert {"land", "transport"} <= set(topics)
    assert topics["land"].evidence


def test_a_single_passing_mention_does_not_make_a_topic():
    taxonomy = Taxonomy.load()
    topics = taxonomy.match("Lễ hội văn hóa ở Đà Lạt", "Người dân mang theo cà phê đến lễ hội.")
    assert "agriculture" not in {t.id for t in topics}


def test_rumour_scores_higher_than_official_news_with_checkable_reasons(classifier):
    rumour_title = "KHAN CAP!!! nghe noi sap thu hoi toan bo dat o Lac Duong"
    rumour_text = "Nguon tin noi bo cho biet ko boi thuong. Ae chia se gap truoc khi bi xoa!!!"
    news_title = "UBND tỉnh công bố quy hoạch sử dụng đất giai đoạn 2021–2030"
    news_text = (
        "Theo quyết định của Ủy ban nhân dân tỉnh, quy hoạch được công khai tại trụ sở các xã, "
        "người dân có thể góp ý đến hết ngày 30/12."
    )
    rumour, news = classifier.classify_batch(
        [
            ItemToClassify(rumour_title, rumour_text, SourceTier.SOCIAL),
            ItemToClassify(news_title, news_text, SourceTier.OFFICIAL),
        ]
    )
    assert rumour.risk > 0.3 > news.risk
    codes = {r.code for r in rumour.reasons}
    assert {"sensational_wording", "unverified_source_phrasing", "call_to_share"} <= codes
    wording = next(r for r in rumour.reasons if r.code == "unverified_source_phrasing")
    assert any(e.lower() in (rumour_title + rumour_text).lower() for e in wording.evidence)
    assert all(r.label_vi and r.evidence for r in rumour.reasons)
    assert [r.weight for r in rumour.reasons] == sorted(
        (r.weight for r in rumour.reasons), reverse=True
    )


def test_risk_stays_in_bounds_with_every_signal_at_full_strength(classifier):
    shouting = "KHẨN CẤP!!! NÓNG!!! SỐC!!! " * 20
    (result,) = classifier.classify_batch([ItemToClassify(shouting, shouting, SourceTier.UNKNOWN)])
    assert 0 < result.risk <= 1
    assert set(result.sentiment_scores) == {"negative", "neutral", "positive"}
    assert abs(sum(result.sentiment_scores.values()) - 1) < 1e-3


def test_sentiment_reads_clear_cases(classifier):
    negative, positive = classifier.classify_batch(
        [
            ItemToClassify(
                "", "Dịch vụ quá tệ, nhân viên thái độ kém, rất thất vọng", SourceTier.SOCIAL
            ),
            ItemToClassify(
                "", "Tuyệt vời, rất hài lòng, cảm ơn mọi người nhiệt tình", SourceTier.SOCIAL
            ),
        ]
    )
    assert negative.sentiment.value == "negative"
    assert positive.sentiment.value == "positive"


def test_shipped_models_carry_cards():
    for task in TASKS:
        model = LinearTextModel.load(SHIPPED_MODELS, task)
        assert model.card.metrics["dev"]["macro_f1"] > 0.6
        assert "dev_without_diacritics" in model.card.metrics
        assert (SHIPPED_MODELS / f"{task}.card.md").exists()
        assert (SHIPPED_MODELS / f"{task}.npz").stat().st_size < 5 * 1024 * 1024


def test_model_round_trip_and_corrupt_files(tmp_path):
    model = LinearTextModel.load(SHIPPED_MODELS, "sentiment")
    model.save(tmp_path)
    again = LinearTextModel.load(tmp_path, "sentiment")
    texts = ["giảng viên nhiệt tình", "phòng học quá nóng"]
    assert np.allclose(model.predict_proba(texts), again.predict_proba(texts))
    (tmp_path / "sentiment.npz").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="cannot load model 'sentiment'"):
        LinearTextModel.load(tmp_path, "sentiment")
    with pytest.raises(ModelLoadError):
        Classifier.load(tmp_path / "missing")


def test_training_is_deterministic_and_learns(tmp_path: Path):
    data = shared_path("data")
    first = train_task(TASKS["sentiment"], data, seed=7, limit=3000)
    second = train_task(TASKS["sentiment"], data, seed=7, limit=3000)
    assert np.array_equal(first.coef, second.coef)
    assert first.card.metrics["dev"]["macro_f1"] > 0.5
    assert first.card.data["datasets"]["uit_vsfc"]["dev_origin"] == "dev split"


def test_pruning_zeroes_only_the_small_weights():
    spec = dataclasses.replace(TASKS["sentiment"], prune_below=0.3)
    full = train_task(TASKS["sentiment"], shared_path("data"), seed=7, limit=1000)
    pruned = train_task(spec, shared_path("data"), seed=7, limit=1000)
    kept = pruned.coef != 0
    assert 0 < kept.mean() < 0.5
    assert np.array_equal(pruned.coef[kept], full.coef[kept])
    assert np.abs(full.coef[~kept]).max() < 0.3
    assert "0.3 in magnitude set to zero" in pruned.card.notes


def test_reliability_dev_is_carved_without_leaking_into_train():
    from classifier.train import load_task_data

    train, dev, described = load_task_data(TASKS["reliability"], shared_path("data"), seed=13)
    assert described["reintel"]["dev_origin"].startswith("carved")
    assert (
        0.1
        < described["reintel"]["dev"]
        / (described["reintel"]["train"] + described["reintel"]["dev"])
        < 0.2
    )
    assert not {e.id for e in train} & {e.id for e in dev}


def test_character_ngrams_from_remembered_words_equal_the_vectorizers_own():
    """Counts summed from each word's remembered n-grams are exactly HashingVectorizer's."""
    config = FeaturizerConfig()
    vectorizer = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=config.char_ngrams,
        n_features=config.n_features,
        alternate_sign=False,
        norm=None,
    )
    with gzip.open(shared_path("data/vfnd/train.jsonl.gz"), "rt", encoding="utf-8") as lines:
        texts = [collapse(json.loads(next(lines))["text"][:4000]) for _ in range(60)]
    counts = _WordCharCounts(vectorizer)
    # The second batch repeats ten texts: their words are remembered, not hashed again.
    batches = vstack(
        [counts.transform(texts[:30]), counts.transform(texts[20:]), counts.transform([""])]
    )
    expected = vectorizer.transform([*texts[:30], *texts[20:], ""])
    assert batches.shape == expected.shape
    assert (batches != expected).nnz == 0


def test_word_ngrams_hashed_directly_equal_the_vectorizers_own():
    """Word n-gram counts hashed without FeatureHasher are exactly HashingVectorizer's."""
    config = FeaturizerConfig()
    vectorizer = HashingVectorizer(
        ngram_range=(1, 3),
        token_pattern=r"(?u)\b\w+\b",
        n_features=config.n_features,
        alternate_sign=False,
        norm=None,
    )
    with gzip.open(shared_path("data/vfnd/train.jsonl.gz"), "rt", encoding="utf-8") as lines:
        texts = [json.loads(next(lines))["text"][:4000] for _ in range(60)]
    texts += ["", "Một", "Đất_đai: MỘT hai", "mot hai  BA 4", "a_b c", "mot\thai"]
    texts += [collapse(text) for text in texts]  # folded words are split, not matched
    columns = _WordNgramColumns(vectorizer)
    batches = vstack(
        [
            columns.transform([(t,) for t in texts[:30]]),
            columns.transform([(t,) for t in texts[20:]]),
        ]
    )
    expected = vectorizer.transform([*texts[:30], *texts[20:]])
    # A row of two texts counts both.
    pairs = columns.transform([(texts[0], texts[1]), ("", texts[2])])
    both = vectorizer.transform([texts[0]]) + vectorizer.transform([texts[1]])
    assert (pairs != vstack([both, vectorizer.transform([texts[2]])])).nnz == 0
    assert batches.shape == expected.shape
    assert (batches != expected).nnz == 0
    assert (batches.indices == expected.indices).all()


def test_featurizer_equals_the_same_features_made_by_scikit_learn_alone():
    """Every shortcut of TextFeaturizer leaves its output bit for bit HashingVectorizer's."""
    config = FeaturizerConfig()
    common = {"n_features": config.n_features, "alternate_sign": False, "norm": None}
    words = HashingVectorizer(
        ngram_range=config.word_ngrams, token_pattern=r"(?u)\b\w+\b", **common
    )
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, **common)
    texts = []
    for name in ("vntc", "vihsd", "reintel"):
        with gzip.open(shared_path(f"data/{name}/train.jsonl.gz"), "rt", encoding="utf-8") as rows:
            texts += [json.loads(next(rows))["text"] for _ in range(40)]
    texts += ["", "ĐẤT ĐAI!!! 😡😡 ko dc", "x" * 5000, "a_b &amp; c\u200b d"]
    featurizer = TextFeaturizer(config)
    ours = vstack([featurizer.transform(texts[:70]), featurizer.transform(texts[50:])])

    cleaned = [normalize(text[: config.max_chars]).lower() for text in [*texts[:70], *texts[50:]]]
    folded = [collapse(text) for text in cleaned]
    counts = words.transform(cleaned) + words.transform(folded) + chars.transform(folded)
    counts = counts.astype(np.float32)
    np.log1p(counts.data, out=counts.data)
    expected = l2_normalize(counts)
    assert ours.dtype == expected.dtype == np.float32
    assert (ours != expected).nnz == 0


def test_word_ngrams_refuse_alternating_signs():
    vectorizer = HashingVectorizer(alternate_sign=True)
    with pytest.raises(ValueError, match="alternating signs"):
        _WordNgramColumns(vectorizer)
