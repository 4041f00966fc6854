"""``python -m bench.classify [--items 10000] [--repeat 3] [--batch 50] [--profile DIR]``

Prints items per second of the whole classify stage (Classifier.classify_batch in the
pipeline's batches, the shipped models) beside a plain scikit-learn TF-IDF + logistic
regression's predict_proba over the same items, with the ratio ours/baseline, and the share
of the classify stage's time taken by each of its stages.
"""

from __future__ import annotations

import argparse
import cProfile
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.classify import measure
from bench.classify.items import load_items
from bench.crawl.profile import by_package, top_functions
from classifier.service import Classifier
from mediawatch.pipeline import BATCH_SIZE

TARGET_ITEMS_PER_S = 500


def print_result(console: Console, result: measure.Result, repeat: int, batch: int) -> None:
    ours, baseline = result.ours, result.baseline
    table = Table(title=f"classify benchmark: best of {repeat}, batches of {batch}")
    for column in ("what", "items", "s", "items/s", "/base", "items/CPU-s", "/base"):
        table.add_column(column, justify="left" if column == "what" else "right")
    table.add_row(
        "mediawatch classify stage",
        f"{ours.items:,}",
        f"{ours.seconds:.2f}",
        f"{ours.items_per_s:,.0f}",
        f"{result.ratio:.2f}",
        f"{ours.items_per_cpu_s:,.0f}",
        f"{result.cpu_ratio:.2f}",
    )
    table.add_row(
        "baseline TF-IDF + LR",
        f"{baseline.items:,}",
        f"{baseline.seconds:.2f}",
        f"{baseline.items_per_s:,.0f}",
        "1.00",
        f"{baseline.items_per_cpu_s:,.0f}",
        "1.00",
    )
    console.print(table)
    console.print(
        "baseline: scikit-learn TF-IDF (word 1–2-grams + char_wb 2–4-grams) + "
        "LogisticRegression, predict_proba only, one model; ours: the whole stage"
    )

    stages = Table(title="where the classify stage's time goes (best run)")
    for column in ("stage", "seconds", "share", "µs/item"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for stage, seconds in ours.stages.items():
        stages.add_row(
            stage,
            f"{seconds:.2f}",
            f"{seconds / ours.seconds:.1%}",
            f"{seconds / ours.items * 1e6:,.0f}",
        )
    stages.add_row("total", f"{ours.seconds:.2f}", f"{sum(ours.shares().values()):.1%}", "")
    console.print(stages)
    verdict = "meets" if ours.items_per_s >= TARGET_ITEMS_PER_S else "MISSES"
    console.print(
        f"ours/baseline = {result.ratio:.2f} (in CPU time {result.cpu_ratio:.2f}); "
        f"{ours.items_per_s:,.0f} items/s {verdict} the target ≥ {TARGET_ITEMS_PER_S} items/s; "
        f"Classifier.load() {result.load_seconds:.2f} s"
    )


def print_profile(console: Console, path: Path) -> None:
    total, packages = by_package(path)
    console.print(
        f"{path}: {total:.1f} s profiled; own time by package: "
        + ", ".join(f"{package} {seconds / total:.0%}" for package, seconds in packages[:8])
    )
    functions = Table(title="costliest functions (own time)")
    for column in ("function", "own s", "cumulative s"):
        functions.add_column(column, justify="left" if column == "function" else "right")
    for name, own, cumulative in top_functions(path, 15):
        functions.add_row(name, f"{own:.2f}", f"{cumulative:.2f}")
    console.print(functions)


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=positive, default=10_000)
    parser.add_argument("--repeat", type=positive, default=3)
    parser.add_argument(
        "--batch", type=positive, default=BATCH_SIZE, help="items per call (the pipeline's batch)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="also cProfile one run; classify.prof goes here"
    )
    args = parser.parse_args(argv)
    console = Console()
    items = load_items(args.items)
    console.print(f"{items.described}; {os.cpu_count()} CPUs")
    result = measure.run(items, args.repeat, args.batch)
    print_result(console, result, args.repeat, args.batch)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        path = args.profile / "classify.prof"
        classifier = Classifier.load()
        profiler = cProfile.Profile()
        profiler.runcall(measure.run_ours, classifier, items.items, args.batch)
        profiler.dump_stats(path)
        print_profile(console, path)


if __name__ == "__main__":
    main()
