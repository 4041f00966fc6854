"""Training the shipped word vectors: gensim FastText on the folded train texts.

Texts are the **train** splits of the labelled sets in ``../shared/data`` (press articles,
social posts, comments, reviews), read as ``matching_form`` gives them, so the vectors live
in the space claim matching compares. Never a dev split, never ``claim_pairs`` (the claim
matching evaluation set): the list below is the only thing read.

Skip-gram, not CBOW, chosen by a quick check on these texts (100 dimensions, 5 epochs, texts
cut at 300 words): CBOW's neighbours were spelling neighbours ("benh" → "benq", "penh",
"benz"; related words such as "xang"/"dau" or "benh"/"vien" no closer than random pairs),
skip-gram's were meaning neighbours ("benh" → "bn", "hiv", "covid", "rubella"); on twelve
hand-written paraphrase pairs (``SANITY_PARAPHRASES``) skip-gram with SIF weighting and the
common direction removed put every paraphrase first among the twelve candidates (CBOW 11 of
12), paraphrases at cosine 0.54 and others at 0.07 (the shipped card has the figures of the
shipped vectors). Skip-gram costs twice CBOW's time, which the corpus affords: 12 M words,
5 epochs in about 200 s on one core, so no text is cut (``max_words`` can cut them).

One worker thread: gensim's result depends on how batches are shared among threads, and a
model must be rebuilt bit for bit from its seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import gensim
import numpy as np
import structlog
from gensim.models import FastText
from gensim.models.callbacks import CallbackAny2Vec

from classifier.cards import write_embeddings_card_markdown
from classifier.claim_matching import matching_form, similarity
from classifier.embeddings import EmbeddingCard, WordVectors, unit_rows
from classifier.labelled_data import iter_jsonl

log = structlog.get_logger("mediawatch.classifier")

# Train splits read, in this order. claim_pairs and every dev split are left out on purpose.
DATASETS = ("vntc", "reintel", "vfnd", "uit_vsfc", "vlsp2016_sa", "vihsd", "victsd")
SPLIT = "train"
# Texts of the training sample the common sentence direction is estimated on: every n-th.
COMMON_SAMPLE_EVERY = 20
COMMON_SAMPLE_WORDS = 100

# Folded word pairs whose vectors should be closer than random pairs' (checked in the card).
SANITY_PAIRS = (
    ("xang", "dau"),  # petrol / oil
    ("benh", "covid"),  # illness / covid
    ("bac", "si"),  # doctor (two syllables of one word)
    ("tang", "giam"),  # rise / fall
    ("mua", "ban"),  # buy / sell
    ("cong", "an"),  # police
    ("bong", "da"),  # football
)
# A misspelled or OCR-damaged form and the word it stands for (subword vectors at work).
SANITY_TYPOS = (("nghiep", "ngiep"), ("thuong", "thuog"), ("nhung", "nhug"), ("trieu", "trieuu"))
# Rewordings that share few or no words: each left text should be closest to its own right one.
SANITY_PARAPHRASES = (
    (
        "Nghe đâu đèo Bảo Lộc sắp bị chặn hẳn, không cho xe qua nữa vì núi lở",
        "Đèo Bảo Lộc sẽ bị đóng cửa vĩnh viễn vì sạt lở",
    ),
    ("Giá xăng tăng mạnh từ ngày mai", "Từ mai giá nhiên liệu sẽ lên cao"),
    (
        "Bệnh viện tỉnh quá tải, bệnh nhân nằm ghép",
        "Người bệnh phải nằm chung giường vì bệnh viện đông quá",
    ),
    ("Học sinh được nghỉ học do bão", "Trường cho các em nghỉ vì mưa bão"),
    ("Công an bắt giữ nhóm trộm xe máy", "Cảnh sát đã tóm gọn băng nhóm ăn cắp xe"),
    (
        "Ngân hàng sắp phá sản, người dân đổ xô rút tiền",
        "Dân kéo nhau đi rút tiền vì tin nhà băng sắp vỡ nợ",
    ),
    ("Nhà nước thu hồi đất của dân để làm sân golf", "Chính quyền lấy đất nông dân xây sân gôn"),
    ("Vắc xin gây vô sinh cho trẻ em", "Tiêm vaccine khiến trẻ không thể có con"),
    ("Giá cà phê giảm mạnh, nông dân lo lắng", "Cà phê rớt giá, người trồng bất an"),
    (
        "Hồ thủy điện sắp vỡ đập, dân vùng hạ du phải sơ tán",
        "Đập thủy điện có nguy cơ vỡ, người dân hạ lưu cần di dời",
    ),
    (
        "Tỉnh sẽ cấm xe máy vào trung tâm thành phố Đà Lạt",
        "Đà Lạt chuẩn bị không cho xe gắn máy đi vào khu trung tâm",
    ),
    ("Ông chủ tịch huyện bị bắt vì nhận hối lộ", "Lãnh đạo huyện bị khởi tố do ăn hối lộ"),
)


class _EpochProgress(CallbackAny2Vec):
    """Reports each finished epoch: the long part of training."""

    def __init__(self, epochs: int, on_epoch: Callable[[int, int], None]) -> None:
        self.epochs = epochs
        self.done = 0
        self.on_epoch = on_epoch
        self.started = time.monotonic()

    def on_epoch_end(self, model: FastText) -> None:
        self.done += 1
        log.info(
            "embeddings_epoch",
            epoch=self.done,
            epochs=self.epochs,
            seconds=round(time.monotonic() - self.started, 1),
        )
        self.on_epoch(self.done, self.epochs)


def read_texts(
    data_dir: Path, max_words: int | None
) -> tuple[list[list[str]], dict[str, dict[str, int]]]:
    """Folded word lists of every train text, and per data set how many texts and words.

    Words are interned: the corpus repeats a few thousand syllables millions of times.
    """
    texts: list[list[str]] = []
    used: dict[str, dict[str, int]] = {}
    interned: dict[str, str] = {}
    for name in DATASETS:
        path = data_dir / name / f"{SPLIT}.jsonl.gz"
        if not path.is_file():
            log.warning("embeddings_dataset_missing", dataset=name, path=str(path))
            continue
        count = words = 0
        for _number, row in iter_jsonl(path):
            tokens = matching_form(str(row.get("text") or "")).split()[:max_words]
            if tokens:
                texts.append([interned.setdefault(token, token) for token in tokens])
                count += 1
                words += len(tokens)
        used[name] = {"texts": count, "words": words}
        log.info("embeddings_dataset_read", dataset=name, path=str(path), texts=count, words=words)
    if not texts:
        raise FileNotFoundError(
            f"Không có văn bản huấn luyện (no training texts): none of "
            f"{', '.join(DATASETS)} has {SPLIT}.jsonl.gz under {data_dir}"
        )
    return texts, used


def train_embeddings(
    data_dir: Path,
    out_dir: Path,
    *,
    seed: int = 13,
    dims: int = 100,
    epochs: int = 5,
    window: int = 5,
    min_count: int = 5,
    buckets: int = 1_000_000,
    max_vocabulary: int = 60_000,
    max_words: int | None = None,
    on_epoch: Callable[[int, int], None] = lambda _done, _total: None,
) -> WordVectors:
    """Train, quantise, check and write ``embeddings.npz`` and its cards to ``out_dir``.

    ``buckets`` is only the hash modulus: untrained buckets are not shipped, so a large
    modulus (fewer n-grams sharing a row) costs training memory, not file size.
    """
    texts, used = read_texts(data_dir, max_words)
    started = time.monotonic()
    model = FastText(
        vector_size=dims,
        window=window,
        min_count=min_count,
        max_final_vocab=max_vocabulary,
        sg=1,
        min_n=3,
        max_n=5,
        bucket=buckets,
        workers=1,
        seed=seed,
    )
    model.build_vocab(corpus_iterable=texts)
    model.train(
        corpus_iterable=texts,
        total_examples=len(texts),
        epochs=epochs,
        callbacks=[_EpochProgress(epochs, on_epoch)],
    )
    seconds = time.monotonic() - started
    wv = model.wv
    kept = np.unique(np.concatenate([*wv.buckets_word, np.zeros(0, np.uint32)]))
    words = list(wv.index_to_key)
    card = EmbeddingCard(
        version=f"{datetime.now(UTC):%Y%m%d}-fasttext-sg-{dims}d-s{seed}",
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=seed,
        method="skipgram",
        dims=dims,
        window=window,
        min_count=min_count,
        epochs=epochs,
        buckets=buckets,
        bucket_rows=len(kept),
        vocabulary=len(words),
        tokens=sum(used[name]["words"] for name in used),
        training_seconds=round(seconds, 1),
        data={
            "directory": str(data_dir),
            "split": SPLIT,
            "datasets": used,
            "max_words_per_text": max_words,
            "gensim": gensim.__version__,
        },
        notes="gensim FastText skip-gram on matching forms; int8 rows with float32 scales; "
        "only trained n-gram buckets shipped; SIF weights a/(a+p(w)), a=1e-3, and the first "
        "principal direction of training sentence vectors removed.",
    )
    counts = np.array([wv.get_vecattr(word, "count") for word in words], np.int64)
    vectors = WordVectors.build(
        card, words, counts, wv.vectors, kept, wv.vectors_ngrams[kept.astype(np.int64)]
    )
    vectors = vectors.with_common(_common_direction(vectors, texts))
    metrics = sanity_metrics(vectors, model)
    vectors = vectors.with_card(card.model_copy(update={"metrics": metrics}))
    path = vectors.save(out_dir)
    write_embeddings_card_markdown(vectors.card, out_dir)
    log.info(
        "embeddings_written",
        path=str(path),
        bytes=vectors.card.size_bytes,
        vocabulary=len(words),
        bucket_rows=len(kept),
        seconds=round(seconds, 1),
    )
    return vectors


def _common_direction(vectors: WordVectors, texts: list[list[str]]) -> np.ndarray:
    """First principal direction of SIF sentence vectors of a sample of training texts: the
    part every text shares (SIF's common component), which alone makes any two texts look
    alike."""
    sample = np.stack(
        [
            vectors.sentence(" ".join(text[:COMMON_SAMPLE_WORDS]))
            for text in texts[::COMMON_SAMPLE_EVERY]
        ]
    )
    return np.linalg.svd(sample, full_matrices=False)[2][0].astype(np.float32)


def _pair_sample(size: int, count: int, seed: int) -> Iterator[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    for a, b in rng.integers(0, size, (count, 2)):
        if a != b:
            yield int(a), int(b)


def sanity_metrics(vectors: WordVectors, model: FastText) -> dict[str, object]:
    """What the card reports: quantisation error, word pairs against random pairs, typos,
    and paraphrases found among the hand-written set (beside the lexical matcher's result)."""
    wv = model.wv
    shipped = np.stack([vectors.vector(word) for word in wv.index_to_key])
    float_cos = np.sum(shipped * unit_rows(wv.vectors), axis=1)
    oov = [typo for _word, typo in SANITY_TYPOS if typo not in vectors]
    oov_cos = [float(vectors.vector(t) @ unit_rows(wv.get_vector(t))) for t in oov]
    top = min(len(shipped), 20_000)
    random_cos = [
        float(shipped[a] @ shipped[b]) for a, b in _pair_sample(top, 1000, vectors.card.seed)
    ]
    pairs = {
        f"{a}/{b}": round(float(vectors.vector(a) @ vectors.vector(b)), 3) for a, b in SANITY_PAIRS
    }
    typo_ranks = {}
    for word, typo in SANITY_TYPOS:
        if word not in vectors:
            continue
        sims = shipped @ vectors.vector(typo)
        typo_ranks[f"{typo}→{word}"] = int((sims > sims[vectors.index[word]]).sum()) + 1
    forms = [(matching_form(a), matching_form(b)) for a, b in SANITY_PARAPHRASES]
    left = np.stack([vectors.sentence(a) for a, _b in forms])
    right = np.stack([vectors.sentence(b) for _a, b in forms])
    cos = left @ right.T
    off = ~np.eye(len(forms), dtype=bool)
    lexical = np.array(
        [[similarity(a, b) for _x, b in SANITY_PARAPHRASES] for a, _y in SANITY_PARAPHRASES]
    )
    return {
        "quantisation_mean_cosine_vocabulary": round(float(float_cos.mean()), 5),
        "quantisation_min_cosine_vocabulary": round(float(float_cos.min()), 5),
        "quantisation_mean_cosine_typos": round(float(np.mean(oov_cos)), 5) if oov_cos else None,
        "word_pairs_cosine": pairs,
        "word_pairs_mean_cosine": round(float(np.mean(list(pairs.values()))), 3),
        "random_pairs_mean_cosine": round(float(np.mean(random_cos)), 3),
        "typo_rank_of_intended_word": typo_ranks,
        "paraphrases": len(forms),
        "paraphrases_found_first": int(np.sum(cos.argmax(axis=1) == np.arange(len(forms)))),
        "paraphrases_mean_cosine": round(float(np.diag(cos).mean()), 3),
        "non_paraphrases_mean_cosine": round(float(cos[off].mean()), 3),
        "lexical_found_first": int(
            np.sum((lexical.argmax(axis=1) == np.arange(len(forms))) & (lexical.max(axis=1) > 0))
        ),
        "lexical_paraphrases_mean": round(float(np.diag(lexical).mean()), 3),
    }
