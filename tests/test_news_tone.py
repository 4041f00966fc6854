"""The news-tone set and model: press and official items read for the tone of their news."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from classifier.backends import load_task_model
from classifier.labelled_data import Example, iter_jsonl
from classifier.news_tone import (
    LABELS_FILE,
    LEAD_MAX_CHARS,
    headline_and_lead,
    read_labels,
    split_of,
    tone_splits,
)
from classifier.registry import SHIPPED_MODELS
from classifier.service import ItemToClassify
from classifier.train import evaluate
from mediawatch.demo.site import load_corpus
from mediawatch.model import SourceTier
from tests.conftest import shared_path

PROVINCIAL_TEST = Path(__file__).parent / "data" / "provincial_tone" / "test.jsonl"


def test_the_lead_is_the_first_paragraphs_whole_sentences_up_to_the_cut():
    first = "Câu thứ nhất nói về lễ khánh thành. " * 5  # 180 characters a sentence run
    body = f"{first.strip()} Câu cuối vượt ngưỡng nên bị bỏ lại phía sau.\nĐoạn hai không đọc."
    cut = headline_and_lead("  Khánh thành trường mới ", body)

    title, lead = cut.split("\n")
    assert title == "Khánh thành trường mới"
    assert lead.startswith("Câu thứ nhất") and "Đoạn hai" not in cut
    long_sentence = "chữ " * 300  # one sentence longer than the cut: kept, then clipped
    assert len(headline_and_lead("T", long_sentence).split("\n")[1]) == LEAD_MAX_CHARS
    assert headline_and_lead("T", "\n\nĐoạn đầu có nội dung.") == "T\nĐoạn đầu có nội dung."


def test_splits_are_a_stable_hash_of_the_id_in_the_stated_shares():
    labels = read_labels()
    shares = Counter(split_of(item_id) for item_id in labels)
    assert abs(shares["test"] / len(labels) - 0.20) < 0.02
    assert abs(shares["dev"] / len(labels) - 0.15) < 0.02
    assert split_of("train/law/PL_ VNE_ (578)") == split_of("train/law/PL_ VNE_ (578)")
    assert len(labels) >= 2000 and set(labels.values()) == {"negative", "neutral", "positive"}


def test_every_labelled_item_is_rebuilt_from_vntc_as_the_labellers_saw_it():
    data = shared_path("data/vntc").parent
    splits = tone_splits(data)
    assert sum(map(len, splits.values())) == len(read_labels())
    example = next(e for e in splits["train"] if e.id.startswith("train/"))
    rows = iter_jsonl(data / "vntc" / "train.jsonl.gz")
    row = next(r for _number, r in rows if r["id"] == example.id)
    assert example.text == headline_and_lead(row["title"], row["text"].partition("\n")[2])


def test_the_card_reports_the_shipped_model_on_the_test_split_nothing_was_chosen_on():
    splits = tone_splits(shared_path("data/vntc").parent)
    model = load_task_model(SHIPPED_MODELS, "tone")
    reported = model.card.metrics["test"]
    measured = evaluate(model, splits["test"])
    assert reported["n"] == len(splits["test"]) == measured["n"]
    assert reported["macro_f1"] == measured["macro_f1"]
    baseline = Counter(e.label for e in splits["train"]).most_common(1)[0][0]
    majority = evaluate(_Constant(model.classes, baseline), splits["test"])["macro_f1"]
    assert measured["macro_f1"] > majority + 0.2


class _Constant:
    """Always the same class: the floor any tone model must clear."""

    def __init__(self, classes: list[str], label: str) -> None:
        self.classes = classes
        self._row = np.array([float(c == label) for c in classes])

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile(self._row, (len(texts), 1))


def test_press_and_official_items_are_read_for_tone_and_social_posts_for_sentiment(classifier):
    title, text = "Khánh thành điểm trường mới", "Sáng nay, xã tổ chức khánh thành điểm trường."
    items = [ItemToClassify(title, text, tier) for tier in SourceTier]
    results = dict(zip(SourceTier, classifier.classify_batch(items), strict=True))

    tone = classifier.models["tone"].predict_proba([headline_and_lead(title, text)])[0]
    sentiment = classifier.models["sentiment"].predict_proba([f"{title}\n{text}"])[0]
    for tier, result in results.items():
        expected = tone if tier in (SourceTier.OFFICIAL, SourceTier.PRESS) else sentiment
        classes = classifier.models["tone"].classes
        scores = [result.sentiment_scores[c] for c in classes]
        assert np.allclose(scores, expected, atol=1e-4), tier
    assert "tone" in results[SourceTier.PRESS].model_versions


def test_at_most_half_of_the_demo_press_and_official_items_read_negative(classifier):
    corpus = load_corpus()
    news = [
        ItemToClassify(item.title, "\n".join(item.paragraphs), outlet.tier)
        for item in corpus.items
        if (outlet := corpus.outlet(item.outlet))
        and outlet.tier in (SourceTier.OFFICIAL, SourceTier.PRESS)
    ]
    moods = Counter(result.sentiment.value for result in classifier.classify_batch(news))
    assert len(news) >= 20
    assert moods["negative"] <= len(news) / 2, moods
    assert moods["positive"] >= 3 and moods["neutral"] >= 3, moods


def test_labels_file_holds_ids_labels_and_who_labelled_them():
    rows = [json.loads(line) for line in LABELS_FILE.read_text(encoding="utf-8").splitlines()]
    assert all(set(row) == {"id", "label", "labeller"} for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)


def test_the_written_provincial_test_set_reads_at_the_target(classifier):
    # Frozen, written blind by someone who wrote no training item; nothing was chosen on it.
    rows = [json.loads(line) for line in PROVINCIAL_TEST.read_text(encoding="utf-8").splitlines()]
    examples = [Example(row["id"], row["text"], row["label"]) for row in rows]
    scores = evaluate(classifier.models["tone"], examples)
    assert scores["n"] == 240
    assert scores["macro_f1"] >= 0.75, scores
