"""Word vectors for claim matching: trained here on a small generated corpus, saved, loaded,
and checked for what the coordinator relies on; and the shipped file against its card."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gensim.models.fasttext import ft_ngram_hashes

from classifier.claim_matching import matching_form
from classifier.embeddings import (
    EmbeddingCard,
    WordVectors,
    ngram_hashes,
    shipped_word_vectors,
)
from classifier.linear import ModelLoadError
from classifier.registry import SHIPPED_MODELS
from classifier.train_embeddings import train_embeddings

REPO = Path(__file__).resolve().parents[1]
MAX_SHIPPED_BYTES = 15_000_000

# Each topic: words that stand for one another (synonyms), and the words around them.
TOPICS = {
    "fuel": (["xăng", "nhiên liệu"], ["giá", "tăng", "lít", "trạm", "bơm", "đổ", "cây"]),
    "health": (["bệnh viện", "phòng khám"], ["bác sĩ", "khám", "thuốc", "y tá", "chữa", "ốm"]),
    "sport": (["bóng đá", "đá banh"], ["cầu thủ", "ghi bàn", "trận", "sân", "đội", "vô địch"]),
    "road": (["sạt lở", "lở đất"], ["đèo", "núi", "mưa", "đường", "chặn", "xe", "khách"]),
}
FILLER = ["hôm nay", "người dân", "cho biết", "rất", "nhiều", "ở", "trường", "nguyễn"]
DEV_ONLY_WORD = "zzdevonly"
CLAIMS_ONLY_WORD = "zzclaimonly"


def _sentence(rng: random.Random, topic: str) -> str:
    synonyms, context = TOPICS[topic]
    words = [rng.choice(synonyms), *rng.sample(context, 4), *rng.sample(FILLER, 2)]
    rng.shuffle(words)
    return " ".join(words)


def _write(path: Path, texts: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"id": str(i), "text": text, "label": "x"}) + "\n")


def _write_corpus(root: Path) -> Path:
    """Generated train texts, plus a dev split and claim pairs training must never read."""
    rng = random.Random(7)
    texts = [_sentence(rng, topic) for _ in range(150) for topic in TOPICS]
    _write(root / "vihsd" / "train.jsonl.gz", texts[:400])
    _write(root / "victsd" / "train.jsonl.gz", texts[400:])
    _write(root / "vihsd" / "dev.jsonl.gz", [f"{DEV_ONLY_WORD} giá xăng"] * 50)
    _write(root / "claim_pairs" / "dev.jsonl.gz", [f"{CLAIMS_ONLY_WORD} sạt lở"] * 50)
    return root


def _train(data: Path, out: Path) -> WordVectors:
    return train_embeddings(data, out, dims=16, epochs=25, min_count=2, buckets=20_000)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[WordVectors, Path]:
    root = tmp_path_factory.mktemp("embeddings")
    out = root / "model"
    _train(_write_corpus(root / "data"), out)
    return WordVectors.load(out), out


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize(
    "word", ["khong", "<>", "a", "ab", "ðong", "sạt", "😀x", "中文字", "nguyễnn", "x" * 40, ""]
)
def test_ngram_buckets_are_gensims(word):
    assert ngram_hashes(word, 3, 5, 1_000_003) == ft_ngram_hashes(word, 3, 5, 1_000_003)


def test_accented_unaccented_and_teencode_texts_get_one_vector(trained):
    vectors, _out = trained
    forms = [
        matching_form(text)
        for text in ("Không được đâu", "khong duoc dau", "ko dc đâu", "KHÔNG ĐƯỢC ĐÂU")
    ]
    first = vectors.sentence(forms[0])
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    for form in forms[1:]:
        assert np.array_equal(vectors.sentence(form), first)
    assert np.array_equal(vectors.vector("sat"), vectors.words(matching_form("SẠT"))[0])


def test_paraphrases_sharing_no_word_are_closer_than_unrelated_texts(trained):
    vectors, _out = trained
    for topic, (synonyms, context) in TOPICS.items():
        one = vectors.sentence(matching_form(f"{synonyms[0]} {context[0]} {context[1]}"))
        other = vectors.sentence(matching_form(f"{synonyms[1]} {context[2]} {context[3]}"))
        for unrelated_topic, (words, around) in TOPICS.items():
            if unrelated_topic == topic:
                continue
            unrelated = vectors.sentence(matching_form(f"{words[0]} {around[0]} {around[1]}"))
            assert one @ other > one @ unrelated + 0.1, (topic, unrelated_topic)


def test_a_misspelt_word_outside_the_vocabulary_is_near_its_word(trained):
    vectors, _out = trained
    assert "nguyen" in vectors and "nguyeen" not in vectors
    typo = vectors.vector("nguyeen")
    assert np.linalg.norm(typo) == pytest.approx(1.0, abs=1e-5)
    # Every word of the topics: none shares letters or contexts with "nguyen" as the typo does.
    topic_words = {
        word
        for synonyms, context in TOPICS.values()
        for word in matching_form(" ".join(synonyms + context)).split()
    }
    closest_other = max(typo @ vectors.vector(word) for word in topic_words)
    assert typo @ vectors.vector("nguyen") > closest_other + 0.1


def test_vectors_handed_out_cannot_be_changed_by_the_caller(trained):
    vectors, _out = trained
    for word in ("xang", "nguyeen"):
        with pytest.raises(ValueError, match="read-only"):
            vectors.vector(word)[0] = 1.0


def test_words_outside_the_vocabulary_cost_microseconds():
    vectors = shipped_word_vectors()
    words = [f"zq{i}x{i * 7}uong" for i in range(2000)]
    started = time.perf_counter()
    rows = vectors.words(" ".join(words))
    assert time.perf_counter() - started < 2.0  # 0.03 s measured; 16 s with np.isin
    assert rows.shape == (2000, vectors.dims) and np.all(np.any(rows, axis=1))


def test_a_word_with_no_trained_ngram_has_a_zero_vector(trained):
    vectors, _out = trained
    assert not np.any(vectors.vector("qqjjqq"))
    assert vectors.words("").shape == (0, 16)
    assert not np.any(vectors.sentence(""))


def test_sif_weights_frequent_words_less(trained):
    vectors, _out = trained
    assert vectors.weight("gia") < vectors.weight("khach") < vectors.weight("qqjjqq") == 1.0


def test_only_train_splits_are_read(trained):
    vectors, out = trained
    assert DEV_ONLY_WORD not in vectors and CLAIMS_ONLY_WORD not in vectors
    card = json.loads((out / "embeddings.json").read_text(encoding="utf-8"))
    assert set(card["data"]["datasets"]) == {"vihsd", "victsd"}
    assert card["data"]["split"] == "train"


def test_training_is_repeatable(trained, tmp_path):
    vectors, out = trained
    again = _train(out.parent / "data", tmp_path)
    for word in ("xang", "nguyeen", "gia"):
        assert np.array_equal(again.vector(word), vectors.vector(word))


VOCABULARY, ROWS, DIMS, BUCKETS = 50, 300, 24, 1000


def _random_floats() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known float vectors: word rows, bucket ids, bucket rows."""
    rng = np.random.default_rng(3)
    return (
        rng.normal(size=(VOCABULARY, DIMS)),
        rng.choice(BUCKETS, ROWS, replace=False),
        rng.normal(size=(ROWS, DIMS)),
    )


def _random_vectors() -> WordVectors:
    """A model made from the known floats, to compare its int8 copy with."""
    card = EmbeddingCard(
        version="test",
        trained_at="2026-12-03T00:00:00+00:00",
        seed=3,
        method="skipgram",
        dims=DIMS,
        window=5,
        min_count=1,
        epochs=1,
        buckets=BUCKETS,
        bucket_rows=ROWS,
        vocabulary=VOCABULARY,
        tokens=VOCABULARY,
    )
    words, ids, rows = _random_floats()
    names = [f"w{i}" for i in range(VOCABULARY)]
    return WordVectors.build(card, names, np.arange(1, VOCABULARY + 1), words, ids, rows)


def test_int8_round_trip_keeps_the_vectors(tmp_path):
    _random_vectors().save(tmp_path)
    loaded = WordVectors.load(tmp_path)
    words, _ids, _rows = _random_floats()
    for i in range(VOCABULARY):
        assert _cos(loaded.vector(f"w{i}"), words[i]) > 0.98


def test_int8_round_trip_keeps_subword_vectors(tmp_path):
    _random_vectors().save(tmp_path)
    loaded = WordVectors.load(tmp_path)
    _words, ids, rows = _random_floats()
    buckets = dict(zip(ids.tolist(), rows, strict=True))
    for word in ("truong", "nguoi", "khong", "thanh"):
        hashes = [h for h in ngram_hashes(word, 3, 5, BUCKETS) if h in buckets]
        assert hashes
        expected = np.sum([buckets[h] for h in hashes], axis=0)
        assert _cos(loaded.vector(word), expected) > 0.98


def test_a_card_that_does_not_match_the_arrays_is_refused(tmp_path):
    _random_vectors().save(tmp_path)
    card_path = tmp_path / "embeddings.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["dims"] = 32
    card_path.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"word_q has shape \(50, 24\), the card says"):
        WordVectors.load(tmp_path)


def test_a_damaged_file_is_refused(tmp_path):
    path = _random_vectors().save(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="not the file its card describes"):
        WordVectors.load(tmp_path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load word vectors"):
        WordVectors.load(tmp_path)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from mediawatch.cli import app; app()", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def test_the_command_trains_and_writes_the_files(trained, tmp_path):
    _vectors, out = trained
    result = _cli(
        "train-embeddings",
        "--data-dir",
        str(out.parent / "data"),
        "--out",
        str(tmp_path),
        "--dims",
        "16",
        "--epochs",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert "Đã ghi (written)" in result.stdout
    assert "embeddings_epoch" in result.stderr
    loaded = WordVectors.load(tmp_path)
    assert loaded.card.dims == 16 and loaded.card.epochs == 2
    assert (tmp_path / "embeddings.card.md").read_text(encoding="utf-8").startswith("# Model")


def test_the_command_refuses_a_folder_without_training_texts(tmp_path):
    result = _cli("train-embeddings", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    assert "no training texts" in result.stdout
    assert not (tmp_path / "o" / "embeddings.npz").exists()


def test_the_shipped_vectors_match_their_card():
    vectors = shipped_word_vectors()
    card = vectors.card
    size = (SHIPPED_MODELS / "embeddings.npz").stat().st_size
    assert size == card.size_bytes <= MAX_SHIPPED_BYTES
    assert 64 <= card.dims <= 100
    assert card.vocabulary >= 10_000 and card.bucket_rows >= 50_000
    assert card.metrics["quantisation_mean_cosine_vocabulary"] > 0.99
    assert set(card.data["datasets"]) <= {
        "vntc",
        "reintel",
        "vfnd",
        "uit_vsfc",
        "vlsp2016_sa",
        "vihsd",
        "victsd",
    }
    for word in ("sat", "lo", "deo", "benh", "vien", "xang"):
        assert word in vectors
        assert np.linalg.norm(vectors.vector(word)) == pytest.approx(1.0, abs=1e-5)
    reworded = vectors.sentence(
        matching_form("Nghe đâu đèo Bảo Lộc sắp bị chặn hẳn, không cho xe qua nữa vì núi lở")
    )
    claim = vectors.sentence(matching_form("Đèo Bảo Lộc sẽ bị đóng cửa vĩnh viễn vì sạt lở"))
    unrelated = vectors.sentence(matching_form("Giá cà phê giảm mạnh, nông dân lo lắng"))
    assert reworded @ claim > reworded @ unrelated + 0.2


def test_the_command_names_the_file_and_line_of_a_broken_text(tmp_path):
    path = tmp_path / "data" / "vihsd" / "train.jsonl.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"id": "1", "text": "giá xăng tăng", "label": "clean"}) + "\n")
        out.write("{not json\n")
    result = _cli("train-embeddings", "--data-dir", str(path.parents[1]), "--out", str(tmp_path))
    assert result.returncode == 1
    assert f"{path}:2: not JSON" in result.stdout.replace("\n", "")
    assert "train_embeddings_failed" in result.stderr
    assert not (tmp_path / "embeddings.npz").exists()
