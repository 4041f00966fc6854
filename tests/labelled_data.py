"""Small labelled sets in the ``../shared/data`` layout, written by tests that train models."""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

SYLLABLES = (
    "hôm nay mọi người đi chợ trên đường phố trời mưa nhẹ buổi sáng xe buýt trường học công "
    "viên quán cà phê bạn bè gia đình nhà cửa ruộng vườn núi rừng sông hồ"
).split()
CLEAN_WORDS = "cảm ơn tuyệt vời dễ thương chúc mừng hay quá ủng hộ".split()
TOXIC_WORDS = "đồ ngu cút đi khốn nạn mất dạy rác rưởi óc chó".split()


def toxicity_row(rng: random.Random, sharpness: float | None) -> tuple[str, bool]:
    """A comment of neutral words and marker words of either class, and whether it is toxic.

    Without ``sharpness`` a comment holds markers of one class only, its label. With it, it
    holds some of each and is toxic with probability ``sigmoid(sharpness * (toxic - clean))``:
    labels a calibrated model can match and a barely regularised one is too sure of.
    """
    neutral = [rng.choice(SYLLABLES) + " " + rng.choice(SYLLABLES) for _ in range(5)]
    if sharpness is None:
        toxic = rng.random() < 0.4
        markers = rng.sample(TOXIC_WORDS if toxic else CLEAN_WORDS, 2 + rng.randrange(2))
    else:
        n_toxic, n_clean = rng.randrange(4), rng.randrange(4)
        markers = rng.sample(TOXIC_WORDS, n_toxic) + rng.sample(CLEAN_WORDS, n_clean)
        toxic = rng.random() < 1 / (1 + math.exp(-sharpness * (n_toxic - n_clean)))
    words = neutral + markers
    rng.shuffle(words)
    return " ".join(words), toxic


def write_toxicity_data(
    root: Path, per_split: dict[str, int], seed: int, sharpness: float | None = None
) -> Path:
    """Both toxicity sets (vihsd, victsd), each with the splits and sizes of ``per_split``."""
    rng = random.Random(seed)
    names = {"vihsd": ("clean", "offensive"), "victsd": ("non_toxic", "toxic")}
    for dataset, labels in names.items():
        (root / dataset).mkdir(parents=True, exist_ok=True)
        for split, count in per_split.items():
            rows = []
            for i in range(count):
                text, toxic = toxicity_row(rng, sharpness)
                rows.append({"id": f"{split}-{i}", "text": text, "label": labels[toxic]})
            with gzip.open(root / dataset / f"{split}.jsonl.gz", "wt", encoding="utf-8") as out:
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return root
