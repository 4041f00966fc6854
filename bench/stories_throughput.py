"""How fast stories are assigned: 5,000 documents of about 300 words, in batches of 100,
each proposed and recorded as the pipeline does once the store has the batch.

Texts are real press articles (../shared/data/vntc, train split) cut to 300 words; every
tenth document is a lightly edited copy of an earlier one, so stories do form.

    python -m bench.stories_throughput
"""

from __future__ import annotations

import gzip
import json
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from mediawatch.model import Document, SourceTier, utc_now
from mediawatch.stories import StoryIndex

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "vntc" / "train.jsonl.gz"


def documents(count: int = 5000) -> list[Document]:
    rng = random.Random(5)
    texts: list[str] = []
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        for line in lines:
            words = json.loads(line)["text"].split()
            if len(words) >= 300:
                texts.append(" ".join(words[:300]))
            if len(texts) == count:
                break
    start = utc_now() - timedelta(days=2)
    docs = []
    for i, text in enumerate(texts):
        if i % 10 == 9:
            words = texts[rng.randrange(i)].split()
            text = " ".join(rng.choice(words) if rng.random() < 0.05 else w for w in words)
        docs.append(
            Document(
                id=f"web:{i}",
                url=f"https://example.vn/{i}",
                source_id=f"source-{i % 7}",
                source_tier=SourceTier.PRESS,
                title=f"Tin {i}",
                text=text,
                fetched_at=start + timedelta(seconds=30 * i),
            )
        )
    return docs


@dataclass(frozen=True)
class Throughput:
    documents: int
    elapsed_s: float
    stories: int
    reopen_s: float  # rebuilding the LSH from the file


def measure(docs: list[Document], folder: Path) -> Throughput:
    index = StoryIndex(folder / "stories.db")
    began = time.perf_counter()
    assigned: list[Document] = []
    for i in range(0, len(docs), 100):
        proposal = index.propose(docs[i : i + 100])
        index.record(proposal)  # the batch is stored: its memberships count
        assigned += proposal.documents
    elapsed = time.perf_counter() - began
    index.close()
    reopen = time.perf_counter()
    StoryIndex(folder / "stories.db").close()
    reopened = time.perf_counter() - reopen
    return Throughput(len(docs), elapsed, len({d.story_id for d in assigned}), reopened)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = measure(documents(), Path(folder))
    print(
        f"{result.documents} documents in {result.elapsed_s:.2f} s: "
        f"{result.documents / result.elapsed_s:.0f} documents/s; {result.stories} stories; "
        f"reopening (rebuilding the LSH) took {result.reopen_s:.2f} s"
    )


if __name__ == "__main__":
    main()
