"""The items the classify benchmark reads: real labelled Vietnamese texts in this service's mix.

A provincial monitoring office reads far more social posts and comments than press articles:
most of what arrives is short (a comment, a post of a few lines), and about one item in three
is an article of a thousand words or more. The mix below follows that, from ``../shared/data``
(each set's rows are already in a seeded shuffle, so the first rows are a fair sample).
Without ``../shared/data`` the demo corpus shipped in the repository is repeated instead.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

from classifier.service import ItemToClassify
from mediawatch.demo.site import load_corpus
from mediawatch.model import SourceTier

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class Share:
    dataset: str
    share: float
    tier: SourceTier
    what: str
    titled: bool = (
        False  # the rows' ``title`` is the item's own (victsd's is the commented article's)
    )


MIX = (
    Share("vihsd", 0.25, SourceTier.SOCIAL, "Facebook/YouTube comments"),
    Share("victsd", 0.15, SourceTier.SOCIAL, "reader comments"),
    Share("uit_vsfc", 0.10, SourceTier.SOCIAL, "short feedback sentences"),
    Share("reintel", 0.15, SourceTier.SOCIAL, "social-network posts"),
    Share("vntc", 0.33, SourceTier.PRESS, "press articles with titles", titled=True),
    Share("vfnd", 0.02, SourceTier.PRESS, "press articles and posts"),
)

Item = ItemToClassify


@dataclass(frozen=True)
class Items:
    items: list[Item]
    sets: list[str]  # the set each item came from: what the baseline is fitted to tell apart
    described: str  # where the items came from, said in the bench's output


def _rows(path: Path, count: int) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in islice(lines, count)]
    return list(islice(cycle(rows), count))  # a set smaller than its share is repeated


def load_items(count: int, data_dir: Path = DATA_DIR, seed: int = 13) -> Items:
    """``count`` items in the mix above, shuffled so every batch is mixed like the stream."""
    if not all((data_dir / share.dataset / "train.jsonl.gz").exists() for share in MIX):
        return demo_items(count, data_dir)
    items: list[tuple[Item, str]] = []
    parts = []
    for i, share in enumerate(MIX):
        wanted = count - len(items) if i == len(MIX) - 1 else round(count * share.share)
        rows = _rows(data_dir / share.dataset / "train.jsonl.gz", wanted)
        items += [
            (
                ItemToClassify(
                    row.get("title") or "" if share.titled else "", row["text"], share.tier
                ),
                share.dataset,
            )
            for row in rows
        ]
        parts.append(f"{share.share:.0%} {share.dataset} ({share.what}, {share.tier.value})")
    random.Random(seed).shuffle(items)
    return Items(
        [item for item, _set in items],
        [name for _item, name in items],
        f"{count:,} items from {data_dir}: " + ", ".join(parts),
    )


def demo_items(count: int, missing: Path) -> Items:
    corpus = load_corpus()
    tiers = {outlet.slug: outlet.tier for outlet in corpus.outlets}
    demo = [ItemToClassify(item.title, item.body, tiers[item.outlet]) for item in corpus.items]
    items = list(islice(cycle(demo), count))
    return Items(
        items,
        [item.tier.value for item in items],
        f"{count:,} items: {missing} is absent, so the {len(demo)} demo items shipped in "
        "mediawatch/demo are repeated (not the service's real mix)",
    )
