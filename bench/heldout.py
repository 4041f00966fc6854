"""Every held-out figure of the README in one command: this tree, a previous release, baselines.

Builds the frozen sets (``classifier/heldout_sets.py``) into a temporary folder, or reads them
from ``--sets``, and measures on each *test* file (``--dev``: each dev file):

- ``risk.test.jsonl`` and its unaccented copy: recall and false-flag rate of the review queue at
  the review threshold, ROC-AUC;
- ``claims.test.jsonl`` against ``claims.test.claims.jsonl``: link and surfaced precision and
  recall;
- the written Lâm Đồng set when it is in ``tests/data/heldout/`` (``lamdong.test.jsonl`` with
  ``lamdong_claims.test.jsonl``): claims, and risk if its lines carry ``flag`` and
  ``source_tier``.

Both this tree and the previous release (``--release``, checked out with ``git worktree add
--detach`` into a temporary folder) score the items through ``bench/score_items.py`` run with
``PYTHONPATH`` set to that tree: the shipped models and the default claim settings of each.
The metrics are this tree's evaluation functions on both outputs, so the columns differ only
by what each release scores. The baseline column is computed in this tree: the reliability
model alone (risk) and the plain bigram rule (claims).

    python -m bench.heldout [--sets DIR] [--data-dir ../shared/data] [--dev]
                            [--written tests/data/heldout] [--release 7f68b56]
                            [--release-threshold 0.5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from classifier.claims_evaluation import (
    ClaimItem,
    Found,
    LexicalBaseline,
    claims_report,
    read_register,
)
from classifier.evaluate import read_lines
from classifier.heldout_sets import write_heldout_sets
from classifier.risk_evaluation import RiskItem, read_risk_items, risk_report
from mediawatch.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
WRITTEN = REPO_ROOT / "tests" / "data" / "heldout"
SCORER = Path(__file__).with_name("score_items.py")
RELEASE = "7f68b56"
# The previous release queued items at risk 0.5 (its review_threshold's default).
RELEASE_THRESHOLD = 0.5


@dataclass(frozen=True)
class Tree:
    name: str
    root: Path
    threshold: float


@dataclass(frozen=True)
class RiskSet:
    name: str
    data: Path


@dataclass(frozen=True)
class ClaimsSet:
    name: str
    claims: Path
    data: Path


def held_out_sets(sets: Path, split: str, written: Path = WRITTEN) -> list[RiskSet | ClaimsSet]:
    """The files to measure on: the built sets of ``split``, then the written set if present."""
    found: list[RiskSet | ClaimsSet] = [
        RiskSet(f"risk.{split}", sets / f"risk.{split}.jsonl"),
        RiskSet(f"risk.{split}.unaccented", sets / f"risk.{split}.unaccented.jsonl"),
        ClaimsSet(
            f"claims.{split}", sets / f"claims.{split}.claims.jsonl", sets / f"claims.{split}.jsonl"
        ),
    ]
    items = written / f"lamdong.{split}.jsonl"
    if items.is_file():
        rows = [line.row for line in read_lines(items)]
        if all("flag" in row and "source_tier" in row for row in rows):
            found.append(RiskSet(f"lamdong.{split} (risk)", items))
        claims = written / f"lamdong_claims.{split}.jsonl"
        if claims.is_file():
            found.append(ClaimsSet(f"lamdong.{split} (claims)", claims, items))
    return found


def _write_lines(path: Path, rows: Sequence[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return path


def _score(tree: Tree, *args: str) -> list[dict]:
    """``score_items.py`` run on ``tree``: one dict per item."""
    environment = {**os.environ, "PYTHONPATH": str(tree.root)}
    completed = subprocess.run(
        [sys.executable, str(SCORER), *args],
        env=environment,
        cwd=tree.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{tree.name}: score_items failed:\n{completed.stderr[-3000:]}")
    header, *rows = (json.loads(line) for line in completed.stdout.splitlines())
    if Path(header["tree"]) != tree.root.resolve():
        raise RuntimeError(f"{tree.name}: imported {header['tree']}, not {tree.root}")
    return rows


def measure_risk(tree: Tree, items: list[RiskItem], scratch: Path) -> dict:
    rows = [{"title": i.title, "text": i.text, "source_tier": i.tier.value} for i in items]
    scored = _score(tree, "risk", str(_write_lines(scratch / "risk.jsonl", rows)))
    return risk_report(
        items,
        [row["risk"] for row in scored],
        [row["unreliable_probability"] for row in scored],
        tree.threshold,
    )


def measure_claims(
    tree: Tree, claims: dict[str, str], items: list[ClaimItem], scratch: Path
) -> dict:
    claims_file = scratch / "claims.json"
    claims_file.write_text(json.dumps(claims, ensure_ascii=False), "utf-8")
    texts = _write_lines(scratch / "texts.jsonl", [{"text": item.text} for item in items])
    scored = _score(tree, "claims", str(claims_file), str(texts))
    found = [
        [
            Found(link["claim_id"], link["status"] == "linked", link["similarity"])
            for link in row["links"]
        ]
        for row in scored
    ]
    baseline = LexicalBaseline(claims)
    return claims_report(items, found, [baseline.match(item.text) for item in items])


def measure(sets: list[RiskSet | ClaimsSet], trees: list[Tree], scratch: Path) -> dict:
    results: dict[str, dict] = {}
    for chosen in sets:
        if isinstance(chosen, RiskSet):
            items = read_risk_items(chosen.data)
            results[chosen.name] = {t.name: measure_risk(t, items, scratch) for t in trees}
        else:
            claims, texts = read_register(chosen.claims, chosen.data)
            results[chosen.name] = {
                t.name: measure_claims(t, claims, texts, scratch) for t in trees
            }
    return results


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(name: str, reports: dict[str, dict]) -> str:
    """One markdown table: a column per tree, then the baseline computed in this tree."""
    ours = next(iter(reports.values()))
    columns = [*reports, "baseline"]
    if ours["task"] == "risk":
        heading = f"{name}: {ours['n']} items, {ours['positives']} flagged"
        metrics = [
            ("threshold", lambda r: r["threshold"]),
            ("recall", lambda r: r["recall"]),
            ("false-flag rate", lambda r: r["false_flag_rate"]),
            ("ROC-AUC", lambda r: r["roc_auc"]),
        ]
        baseline = {**ours["baseline"], "threshold": ours["threshold"]}
    else:
        heading = f"{name}: {ours['n']} texts, {ours['repeats']} repeats"
        metrics = [
            ("link precision", lambda r: r["link"]["precision"]),
            ("link recall", lambda r: r["link"]["recall"]),
            ("surfaced precision", lambda r: r["surfaced"]["precision"]),
            ("surfaced recall", lambda r: r["surfaced"]["recall"]),
            ("non-repeats linked", lambda r: r["negatives_linked"]),
        ]
        baseline = ours["baseline"]
    lines = [
        heading,
        "",
        "| metric | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for label, read in metrics:
        values = [read(report) for report in reports.values()] + [read(baseline)]
        shown = [str(v) if isinstance(v, int) else _figure(v) for v in values]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    lines += ["", f"baseline: {baseline['scored_by']}"]
    return "\n".join(lines)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=Path, help="Built sets (mediawatch heldout-sets --out)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--dev", action="store_true", help="The dev files instead of test")
    parser.add_argument("--written", type=Path, default=WRITTEN, help="The written set's folder")
    parser.add_argument("--release", default=RELEASE, help="The previous release's commit")
    parser.add_argument("--release-threshold", type=float, default=RELEASE_THRESHOLD)
    parser.add_argument("--json", type=Path, help="Also write every report here")
    options = parser.parse_args(argv)
    started = time.monotonic()
    split = "dev" if options.dev else "test"
    with tempfile.TemporaryDirectory(prefix="mediawatch-heldout-") as temporary:
        scratch = Path(temporary)
        sets_dir = options.sets or scratch / "sets"
        if options.sets is None:
            write_heldout_sets(options.data_dir, sets_dir)
        release_root = scratch / "release"
        _git("worktree", "add", "--detach", str(release_root), options.release)
        try:
            commit = _git("rev-parse", "--short", "HEAD")
            dirty = "+changes" if _git("status", "--porcelain") else ""
            trees = [
                Tree(f"this tree ({commit}{dirty})", REPO_ROOT, Settings().review_threshold),
                Tree(f"release {options.release}", release_root, options.release_threshold),
            ]
            results = measure(held_out_sets(sets_dir, split, options.written), trees, scratch)
        finally:
            _git("worktree", "remove", "--force", str(release_root))
    seconds = round(time.monotonic() - started, 1)
    for name, reports in results.items():
        print(table(name, reports), end="\n\n")
    print(f"{split} sets from {options.sets or options.data_dir}; {seconds} s")
    report = {"split": split, "release": options.release, "seconds": seconds, "sets": results}
    if options.json:
        options.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
    return report


if __name__ == "__main__":
    main()
