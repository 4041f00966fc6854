"""The training runs behind ``mediawatch train``: all models from labelled data, or new
versions that also learn from reviewers' decisions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from classifier.cards import write_card_markdown, write_risk_card_markdown
from classifier.linear import LinearTextModel
from classifier.registry import ModelRegistry
from classifier.reviews import reviewed_labels
from classifier.risk import DEFAULT_LEXICON, LexiconFile, RiskScorer, RiskWeights
from classifier.risk_fit import SignalRow, fit_risk_weights
from classifier.service import RISK_WEIGHTS_FILE
from classifier.train import TASKS, Example, train_task
from mediawatch.model import Document

RISK = "risk"
TRAINABLE = (*TASKS, RISK)
# Reviewers decide whether an item was reliable: those two models can learn from them.
LEARNS_FROM_REVIEWS = ("reliability", RISK)


@dataclass(frozen=True)
class Trained:
    task: str
    version: str
    directory: Path
    summary: str  # one line for the operator


def _lexicon_scorer() -> RiskScorer:
    """A scorer for measuring signals only: the weights are what is being fitted."""
    import yaml

    lexicon = LexiconFile.model_validate(yaml.safe_load(DEFAULT_LEXICON.read_text("utf-8")))
    return RiskScorer(lexicon, RiskWeights(version="unfitted", intercept=0.0, coefficients={}))


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
    toxicity: LinearTextModel,
    out: Path,
    seed: int,
    reviewed: list[SignalRow] | None = None,
) -> Trained:
    weights = fit_risk_weights(
        TASKS["reliability"], data, reliability, toxicity, _lexicon_scorer(), seed, reviewed or ()
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
    tasks: Iterable[str], data: Path, out: Path, seed: int, progress: Callable[[str], None]
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
        toxicity = LinearTextModel.load(out, "toxicity")
        done.append(_fit_risk(data, reliability, toxicity, out, seed))
    return done


class NoReviewsError(ValueError):
    """No decided item says whether it was reliable: there is nothing new to learn."""


def train_with_reviews(
    documents: Iterable[Document],
    registry: ModelRegistry,
    data: Path,
    seed: int,
    progress: Callable[[str], None],
) -> list[Trained]:
    """New versions of the reliability and risk models, kept beside the ones in use."""
    labels = reviewed_labels(documents)
    if not labels.reliability:
        raise NoReviewsError(
            "no decided item with outcome false, misleading or accurate "
            f"({labels.skipped} decided as unverified or not relevant)"
        )
    progress("reliability")
    staging = registry.root / ".training"
    staging.mkdir(parents=True, exist_ok=True)
    reliability = _train_text("reliability", data, staging, seed, labels.reliability)
    reliability_dir = registry.new_version_directory("reliability", reliability.version)
    for path in staging.glob("reliability.*"):
        path.replace(reliability_dir / path.name)
    progress(RISK)
    reliability_model = LinearTextModel.load(reliability_dir, "reliability")
    toxicity = LinearTextModel.load(registry.directory_for("toxicity"), "toxicity")
    risk = _fit_risk(data, reliability_model, toxicity, staging, seed, labels.risk)
    risk_dir = registry.new_version_directory(RISK, risk.version)
    for path in staging.glob("risk.*"):
        path.replace(risk_dir / path.name)
    staging.rmdir()
    return [
        Trained("reliability", reliability.version, reliability_dir, reliability.summary),
        Trained(RISK, risk.version, risk_dir, risk.summary),
    ]
