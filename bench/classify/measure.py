"""Timing of the classify stage and of the baseline over the same items, in the same batches."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from bench.classify.items import Item, Items
from classifier.service import Classifier
from classifier.timing import StageTimes

# The baseline is fitted on this many items: enough for a real vocabulary, seconds to fit.
BASELINE_FIT_ITEMS = 2000
OTHER = "other (loop, joining title and text)"


@dataclass(frozen=True)
class Run:
    items: int
    seconds: float
    cpu_seconds: float  # this process's CPU time: less swayed by the machine's other work
    stages: dict[str, float]  # seconds per stage; OTHER is what no stage claimed

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds

    @property
    def items_per_cpu_s(self) -> float:
        return self.items / self.cpu_seconds

    def shares(self) -> dict[str, float]:
        return {stage: seconds / self.seconds for stage, seconds in self.stages.items()}


@dataclass(frozen=True)
class Result:
    ours: Run  # the best of the repeats
    baseline: Run
    load_seconds: float  # Classifier.load(), best of the repeats

    @property
    def ratio(self) -> float:
        """ours / baseline in items per second."""
        return self.ours.items_per_s / self.baseline.items_per_s

    @property
    def cpu_ratio(self) -> float:
        """ours / baseline in items per CPU second."""
        return self.ours.items_per_cpu_s / self.baseline.items_per_cpu_s


def batches(items: list[Item], size: int) -> list[list[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_ours(classifier: Classifier, items: list[Item], batch: int) -> Run:
    """The classify stage as the pipeline calls it, every stage timed."""
    timer = StageTimes()
    started, cpu_started = time.perf_counter(), time.process_time()
    for part in batches(items, batch):
        classifier.classify_batch(part, timer)
    return _run(len(items), started, cpu_started, timer)


def fit_baseline(items: Items) -> Pipeline:
    """Plain TF-IDF over word 1–2-grams and character 2–4-grams, then logistic regression.

    It learns to tell which set an item came from: a real task on the same texts, with as
    many classes as our models have between them, fitted on a sample in a few seconds.
    """
    words = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    model = make_pipeline(make_union(words, chars), LogisticRegression(max_iter=300))
    texts = [f"{item.title}\n{item.text}" for item in items.items[:BASELINE_FIT_ITEMS]]
    return model.fit(texts, items.sets[:BASELINE_FIT_ITEMS])


def run_baseline(model: Pipeline, items: list[Item], batch: int) -> Run:
    """The baseline's predict_proba over the same texts in the same batches."""
    timer = StageTimes()
    started, cpu_started = time.perf_counter(), time.process_time()
    for part in batches(items, batch):
        with timer("baseline predict_proba"):
            model.predict_proba([f"{item.title}\n{item.text}" for item in part])
    return _run(len(items), started, cpu_started, timer)


def _run(items: int, started: float, cpu_started: float, timer: StageTimes) -> Run:
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    stages = timer.seconds
    stages[OTHER] = max(0.0, seconds - timer.total())
    return Run(items, seconds, cpu_seconds, stages)


def run(items: Items, repeat: int, batch: int) -> Result:
    """Ours and the baseline in turn, ``repeat`` times: the best of each is the least disturbed.

    Each repeat loads a fresh Classifier, so every run meets the items as a newly started
    service does (its featurizer's caches of words and n-grams start empty).
    """
    model = fit_baseline(items)
    ours: list[Run] = []
    baseline: list[Run] = []
    loads: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        classifier = Classifier.load()
        loads.append(time.perf_counter() - started)
        ours.append(run_ours(classifier, items.items, batch))
        baseline.append(run_baseline(model, items.items, batch))
    return Result(
        ours=min(ours, key=lambda r: r.seconds),
        baseline=min(baseline, key=lambda r: r.seconds),
        load_seconds=min(loads),
    )
