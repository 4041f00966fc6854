"""The training runs behind ``mediawatch train``: all models from labelled data, or new
versions that also learn from reviewers' decisions."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from classifier.backends import TextModel, load_task_model
from classifier.cards import write_card_markdown, write_risk_card_markdown
from classifier.labelled_data import Example
from classifier.linear import LinearTextModel
from classifier.registry import ModelRegistry
from classifier.reviews import ReviewedLabels, reviewed_labels
from classifier.risk import RiskScorer, SignalRow
from classifier.risk_evaluation import read_risk_items
from classifier.risk_fit import fit_risk_weights
from classifier.risk_tuning import tiered_rows
from classifier.service import RISK_WEIGHTS_FILE
from classifier.topic_labels import TopicLabel
from classifier.topic_model import MIN_POSITIVES, train_topic_model
from classifier.topic_model import TASK as TOPIC_TASK
from classifier.train import TASKS, train_task
from mediawatch.model import Document

RISK = "risk"
TRAINABLE = (*TASKS, RISK)
# Reviewers decide whether an item was reliable and correct its topics: these models learn.
LEARNS_FROM_REVIEWS = ("reliability", RISK, TOPIC_TASK)


@dataclass(frozen=True)
class Trained:
    task: str
    version: str
    directory: Path
    summary: str  # one line for the operator


def _train_text(
    task: str, data: Path, out: Path, seed: int, reviewed: list[Example] | None = None
) -> Trained:
    model = train_task(TASKS[task], data, seed=seed, reviewed=reviewed or ())
    model.save(out)
    write_card_markdown(model.card, out)
    dev = model.card.metrics.get("dev", {})
    folded = model.card.metrics.get("dev_without_diacritics", {})
    return Trained(
        task,
        model.card.version,
        out,
        f"macro-F1 {dev.get('macro_f1')} · accuracy {dev.get('accuracy')}"
        f" · without diacritics {folded.get('macro_f1')}",
    )


def _fit_risk(
    data: Path,
    reliability: LinearTextModel,
    toxicity: TextModel,
    out: Path,
    seed: int,
    reviewed: list[SignalRow] | None = None,
    tuning: Path | None = None,
) -> Trained:
    scorer = RiskScorer.measuring_only()
    tuning_rows = (
        tiered_rows(read_risk_items(tuning), reliability, toxicity, scorer) if tuning else []
    )
    weights = fit_risk_weights(
        TASKS["reliability"],
        data,
        reliability,
        toxicity,
        scorer,
        seed,
        reviewed or (),
        tuning_rows,
    )
    weights.save(out / RISK_WEIGHTS_FILE)
    write_risk_card_markdown(weights, out)
    dev = weights.metrics["dev"]
    return Trained(
        RISK,
        weights.version,
        out,
        f"ROC-AUC {dev['risk']['roc_auc']} (reliability model alone "
        f"{dev['reliability_model_alone']['roc_auc']})",
    )


def train_models(
    tasks: Iterable[str],
    data: Path,
    out: Path,
    seed: int,
    progress: Callable[[str], None],
    risk_tuning: Path | None = None,
) -> list[Trained]:
    """Train ``tasks`` from labelled data into ``out``; risk last, on the models in ``out``."""
    wanted = list(tasks)
    done = []
    for task in (t for t in TASKS if t in wanted):
        progress(task)
        done.append(_train_text(task, data, out, seed))
    if RISK in wanted:
        progress(RISK)
        reliability = LinearTextModel.load(out, "reliability")
        toxicity = load_task_model(out, "toxicity")
        done.append(_fit_risk(data, reliability, toxicity, out, seed, tuning=risk_tuning))
    return done


class NoReviewsError(ValueError):
    """No decided item says whether it was reliable: there is nothing new to learn."""


def _register(registry: ModelRegistry, staging: Path, trained: Trained) -> Trained:
    """Move a model's files from ``staging`` into its own new version folder."""
    directory = registry.new_version_directory(trained.task, trained.version)
    for path in staging.glob(f"{trained.task}.*"):
        path.replace(directory / path.name)
    return Trained(trained.task, trained.version, directory, trained.summary)


def train_with_reviews(
    documents: Iterable[Document],
    topic_labels: Mapping[str, TopicLabel],
    registry: ModelRegistry,
    data: Path,
    seed: int,
    progress: Callable[[str], None],
    risk_tuning: Path | None = None,
) -> tuple[list[Trained], list[str]]:
    """New versions of the models reviewers' decisions can teach, kept beside those in use;
    and what could not be trained, said in words. A version is registered only whole: the
    reliability model with the risk weights fitted on it."""
    labels = reviewed_labels(documents, topic_labels)
    registry.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".training-", dir=registry.root))
    try:
        return _train_from_labels(labels, registry, staging, data, seed, progress, risk_tuning)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _train_from_labels(
    labels: ReviewedLabels,
    registry: ModelRegistry,
    staging: Path,
    data: Path,
    seed: int,
    progress: Callable[[str], None],
    risk_tuning: Path | None,
) -> tuple[list[Trained], list[str]]:
    trained: list[Trained] = []
    not_trained: list[str] = []
    if labels.reliability:
        progress("reliability")
        reliability = _train_text("reliability", data, staging, seed, labels.reliability)
        progress(RISK)
        reliability_model = LinearTextModel.load(staging, "reliability")
        toxicity = load_task_model(registry.directory_for("toxicity"), "toxicity")
        risk = _fit_risk(data, reliability_model, toxicity, staging, seed, labels.risk, risk_tuning)
        trained += [_register(registry, staging, reliability), _register(registry, staging, risk)]
    else:
        not_trained.append(
            "reliability, risk: no decided item with outcome false, misleading or accurate "
            f"({labels.skipped} decided as unverified or not relevant)"
        )
    progress(TOPIC_TASK)
    topic_model = train_topic_model(labels.topics, seed)
    if topic_model is None:
        not_trained.append(
            f"topics: {len(labels.topics)} corrected items; a topic is learned once "
            f"{MIN_POSITIVES} corrected items have it and as many do not"
        )
    else:
        topic_model.save(staging)
        write_card_markdown(topic_model.card, staging)
        dev = topic_model.card.metrics["dev"]
        summary = f"{len(topic_model.classes)} topics · cross-validated macro-F1 {dev['macro_f1']}"
        topics = Trained(TOPIC_TASK, topic_model.card.version, staging, summary)
        trained.append(_register(registry, staging, topics))
    if not trained:
        raise NoReviewsError("; ".join(not_trained))
    return trained, not_trained
