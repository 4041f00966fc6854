"""The news-tone set: press headlines and leads labelled positive, neutral or negative.

The sentiment model learned from student feedback and product reviews, and read calm press
prose about openings and harvests as complaints. This set was labelled by careful reading
(``classifier/data/news_tone/GUIDELINE.md``): only ids and labels live here, the texts are
VNTC's articles in ``../shared/data/vntc``, cut the same way at training and at prediction
(``headline_and_lead``). Train, dev and test are a seeded hash of the id, fixed once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from classifier.labelled_data import Example, find_split, iter_jsonl

TONE_DATA = Path(__file__).with_name("data") / "news_tone"
LABELS_FILE = TONE_DATA / "labels.jsonl"
SECOND_PASS_FILE = TONE_DATA / "second_pass.jsonl"
# Lâm Đồng news of 2026, written and labelled from the same guideline: VNTC is national press
# of 2003–2006 and has no provincial administration, the news the office reads most.
PROVINCIAL_TONE = TONE_DATA / "provincial.jsonl"
TONE_CLASSES = ("negative", "neutral", "positive")
# Shares of the set in dev and test; the rest trains. Test is only ever reported.
DEV_SHARE, TEST_SHARE = 0.15, 0.2
# The lead the labellers read: the first paragraph, whole sentences up to this many characters.
LEAD_CHARS = 320
LEAD_MAX_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def headline_and_lead(title: str, body: str) -> str:
    """The headline and the first sentences of the body: what a reader judges tone by, and what
    the labellers saw (a long article's later paragraphs would drown its lead)."""
    first_paragraph = next((line for line in body.split("\n") if line.strip()), "")
    lead = ""
    for sentence in _SENTENCE_END.split(first_paragraph.strip()):
        if lead and len(lead) + len(sentence) > LEAD_CHARS:
            break
        lead = f"{lead} {sentence}".strip()
    return f"{title.strip()}\n{lead[:LEAD_MAX_CHARS]}"


def split_of(item_id: str) -> str:
    """``train``, ``dev`` or ``test`` for a labelled id: stable whatever else is labelled."""
    digest = hashlib.sha256(f"news-tone|{item_id}".encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    if share < TEST_SHARE:
        return "test"
    return "dev" if share < TEST_SHARE + DEV_SHARE else "train"


def _vntc_articles(data_dir: Path, wanted: set[str]) -> dict[str, tuple[str, str]]:
    """(title, body) of the wanted VNTC ids, from its train and dev files."""
    articles: dict[str, tuple[str, str]] = {}
    for split in ("train", "dev"):
        path = find_split(data_dir / "vntc", split)
        if path is None:
            raise FileNotFoundError(f"{data_dir / 'vntc'}: no {split}.jsonl(.gz) for news tone")
        for _number, row in iter_jsonl(path):
            if row.get("id") in wanted:
                title, _, body = row["text"].partition("\n")
                articles[row["id"]] = (row.get("title") or title, body)
    return articles


def read_labels(path: Path = LABELS_FILE) -> dict[str, str]:
    """id → label of a labels file, refusing labels the task does not have."""
    labels: dict[str, str] = {}
    for number, row in iter_jsonl(path):
        if row.get("label") not in TONE_CLASSES or not isinstance(row.get("id"), str):
            raise ValueError(f"{path}:{number}: needs an 'id' and a label of {TONE_CLASSES}")
        labels[row["id"]] = row["label"]
    return labels


def tone_splits(data_dir: Path) -> dict[str, list[Example]]:
    """The labelled items as examples (headline and lead), by split."""
    labels = read_labels()
    articles = _vntc_articles(data_dir, set(labels))
    missing = sorted(set(labels) - set(articles))
    if missing:
        raise FileNotFoundError(
            f"{data_dir / 'vntc'}: {len(missing)} labelled news-tone ids are not there "
            f"(first: {missing[0]})"
        )
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for item_id, label in labels.items():
        title, body = articles[item_id]
        splits[split_of(item_id)].append(
            Example(item_id, headline_and_lead(title, body), label, "news_tone")
        )
    return splits
