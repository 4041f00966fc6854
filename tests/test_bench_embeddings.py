"""The word vectors' speed benchmark, small: it times the shipped vectors on real posts, so
it breaks when the API it measures changes."""

from __future__ import annotations

from bench.embeddings_speed import measure, posts
from tests.conftest import shared_path


def test_the_benchmark_times_sentence_vectors_and_the_bigram_baseline():
    shared_path("data/reintel/train.jsonl.gz")
    texts = posts(50)
    assert len(texts) == 50 and all(len(text.split()) == 60 for text in texts)
    speeds = measure(texts)
    assert speeds.load_ms > 0
    assert min(speeds.form_first_pass, speeds.form_again, speeds.from_text, speeds.baseline) > 0
