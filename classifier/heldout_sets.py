"""Dev and test files for ``evaluate --task risk`` and ``--task claims``, built from real data.

Frozen before tuning: the split is a seeded hash of a *group*, never of a line, so nothing
tuned on dev has a near copy in test.

- risk: only the reliability examples the shipped models never saw, the dev split
  ``load_task_data`` carves for ``mediawatch train`` (ReINTEL and VFND); texts whose folded
  character 5-gram sets reach the stories' near-duplicate Jaccard share a group. A text with a
  publishing domain (VFND's press articles) is ``press``, the rest ``social``; every risk file
  has a copy with its diacritics folded away, since much real input arrives that way;
- claims: the ViFactCheck pairs of ``claim_pairs`` split by article (``source_id``), articles
  sharing a near-duplicate text (the same story in two outlets) joined. Each split's claims
  form its register; each distinct evidence text is one line, repeating its claim when it
  supports it and ``null`` when it refutes it (the hard negatives); every text meets every
  claim of its split, which gives the easy negatives.

The files hold research-only data (ReINTEL's terms): they are written outside the repository.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from classifier.labelled_data import find_split, read_jsonl
from classifier.train import TASKS, load_task_data
from mediawatch.model import SourceTier
from mediawatch.stories import THRESHOLD as NEAR_DUPLICATE
from mediawatch.stories import shingles
from mediawatch.text import collapse, fold

SEED = 13  # the seed `mediawatch train` carves its dev split with: the same unseen examples
DEV_SHARE = 0.5
REPO_ROOT = Path(__file__).resolve().parents[1]
CLAIM_PAIRS = "claim_pairs/dev.jsonl.gz"


class HeldoutSetsError(ValueError):
    """Data that cannot be split, or a destination that must not receive the files."""


def near_duplicate_groups(texts: Sequence[str], threshold: float = NEAR_DUPLICATE) -> list[int]:
    """For each text, the index of the first text of its group: texts are joined (transitively)
    when the exact Jaccard similarity of their folded character 5-gram sets reaches
    ``threshold``, the stories' definition of a near copy. Exact, all pairs at once through a
    sparse product: the sets split here hold a few hundred texts."""
    vocabulary: dict[str, int] = {}
    rows, columns = [], []
    for row, text in enumerate(texts):
        for shingle in shingles(collapse(text)):
            rows.append(row)
            columns.append(vocabulary.setdefault(shingle, len(vocabulary)))
    incidence = csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, columns)),
        shape=(len(texts), max(len(vocabulary), 1)),
    )
    sizes = np.asarray(incidence.sum(axis=1)).ravel()
    shared = (incidence @ incidence.T).tocoo()
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, common in zip(shared.row, shared.col, shared.data, strict=True):
        if i < j and common / (sizes[i] + sizes[j] - common) >= threshold:
            first, second = sorted((root(i), root(j)))
            parent[second] = first
    return [root(i) for i in range(len(texts))]


def in_dev(key: str) -> bool:
    """Whether the group named ``key`` goes to dev: a seeded hash, the same on every run."""
    digest = hashlib.sha256(f"{SEED}|heldout|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < DEV_SHARE


def _split_keys(keys: Sequence[str], texts: Sequence[str]) -> tuple[list[str], dict[str, bool]]:
    """Each unit's group name (its smallest key, its texts' near copies joined across units)
    and whether each group is dev. ``keys[i]`` is the unit ``texts[i]`` belongs to."""
    parent = {key: key for key in keys}

    def root(key: str) -> str:
        while parent[key] != key:
            key = parent[key]
        return key

    groups = near_duplicate_groups(texts)
    for index, first in enumerate(groups):
        a, b = sorted((root(keys[index]), root(keys[first])))
        parent[b] = a
    named = [root(key) for key in keys]
    return named, {group: in_dev(group) for group in set(named)}


def _rows_by_id(data_dir: Path, dataset: str) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for split in ("train", "dev"):
        path = find_split(data_dir / dataset, split)
        if path is not None:
            rows.update((str(row["id"]), row) for row in read_jsonl(path))
    return rows


def risk_rows(data_dir: Path) -> list[dict]:
    """The reliability examples no shipped model was trained on, as risk lines with a group."""
    spec = TASKS["reliability"]
    _train, dev, _described = load_task_data(spec, data_dir, SEED)
    source: dict[str, tuple[str, dict]] = {}
    for dataset in spec.datasets:
        for item_id, row in _rows_by_id(data_dir, dataset.name).items():
            source[item_id] = (dataset.name, row)
    groups, dev_groups = _split_keys([e.id for e in dev], [e.text for e in dev])
    rows = []
    for example, group in zip(dev, groups, strict=True):
        dataset, row = source[example.id]
        rows.append(
            {
                "id": example.id,
                "text": example.text,
                "source_tier": (
                    SourceTier.PRESS if row.get("source_domain") else SourceTier.SOCIAL
                ).value,
                "flag": example.label == "unreliable",
                "writing": "accented",
                "dataset": dataset,
                "group": group,
                "split": _split_name(dev_groups[group]),
            }
        )
    return sorted(rows, key=lambda row: row["id"])


def _claim_index(pair_id: str) -> str:
    return pair_id.split("-")[1]  # vifc-<index>-sup|ref|rand-<index2>


def claim_rows(data_dir: Path) -> tuple[list[dict], list[dict]]:
    """(claims, texts) of the ViFactCheck pairs, each with its article group and split."""
    path = data_dir / CLAIM_PAIRS
    if not path.is_file():
        raise HeldoutSetsError(f"{path}: không có tệp cặp khẳng định (no claim pairs file)")
    own = [pair for pair in read_jsonl(path) if "-rand-" not in pair["id"]]
    own.sort(key=lambda pair: pair["id"])
    # Every claim and every evidence text tells which articles are the same story.
    keys = [pair["source_id"] for pair in own] * 2
    texts = [pair["claim"] for pair in own] + [pair["text"] for pair in own]
    groups, dev_groups = _split_keys(keys, texts)
    group_of = dict(zip(keys, groups, strict=True))

    def placed(source_id: str) -> dict:
        group = group_of[source_id]
        return {"source_id": source_id, "group": group, "split": _split_name(dev_groups[group])}

    claims = [
        {"id": _claim_index(pair["id"]), "statement": pair["claim"], **placed(pair["source_id"])}
        for pair in own
    ]
    by_text: dict[str, dict] = {}
    for pair in own:
        supports = pair["relation"] == "repeats"
        line = {
            "id": pair["id"],
            "text": pair["text"],
            "claim_id": _claim_index(pair["id"]) if supports else None,
            "style": "supports" if supports else "refutes",
            "writing": "accented",
            **placed(pair["source_id"]),
        }
        kept = by_text.get(pair["text"])
        # A text that is the evidence of two claims is one line: repeating one if it supports any.
        if kept is None or (supports and kept["claim_id"] is None):
            by_text[pair["text"]] = line
    return claims, sorted(by_text.values(), key=lambda line: line["id"])


def _split_name(dev: bool) -> str:
    return "dev" if dev else "test"


def _write(path: Path, rows: Iterable[dict]) -> tuple[int, int]:
    """Write the lines; how many, and how many of them are positives (flagged, or repeating
    a claim)."""
    count = positives = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
            positives += bool(row.get("flag") or row.get("claim_id"))
    return count, positives


def write_heldout_sets(data_dir: Path, out: Path) -> dict[str, tuple[int, int]]:
    """Write every file into ``out``; (lines, positives) of each, by file name."""
    destination = out.resolve()
    if destination == REPO_ROOT or REPO_ROOT in destination.parents:
        raise HeldoutSetsError(
            f"{out}: không ghi vào kho mã (not into the repository): dữ liệu chỉ dùng cho "
            "nghiên cứu (research-only data), chọn thư mục khác"
        )
    risk = risk_rows(data_dir)
    claims, texts = claim_rows(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, tuple[int, int]] = {}
    for split in ("dev", "test"):
        chosen = [row for row in risk if row["split"] == split]
        counts[f"risk.{split}.jsonl"] = _write(out / f"risk.{split}.jsonl", chosen)
        counts[f"risk.{split}.unaccented.jsonl"] = _write(
            out / f"risk.{split}.unaccented.jsonl",
            ({**row, "text": fold(row["text"]), "writing": "unaccented"} for row in chosen),
        )
        for name, rows in (
            (f"claims.{split}.claims.jsonl", claims),
            (f"claims.{split}.jsonl", texts),
        ):
            counts[name] = _write(out / name, (row for row in rows if row["split"] == split))
    return counts
