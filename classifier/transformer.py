"""Fine-tuned transformer classifiers: the optional backend for any task.

An operator copies a pretrained checkpoint (PhoBERT, XLM-R…) into a local directory;
``fine_tune`` trains ``AutoModelForSequenceClassification`` from it on the task's labelled
data (the same data, dev split and label mapping as the linear models) and the result predicts
through the same interface as ``LinearTextModel``. Nothing is ever downloaded: every load is
``local_files_only`` and a name that is not a local directory is refused.

torch and transformers are an extra (``pip install -e '.[transformers]'``), so the default
install stays light; importing this module without them says so.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from pydantic import BaseModel, Field

from classifier.backends import transformer_dir
from classifier.labelled_data import Example
from classifier.linear import ModelLoadError
from classifier.train import TaskSpec, evaluate, fold_diacritics_of, load_task_data
from mediawatch.text import normalize

INSTALL_HINT = "pip install -e '.[transformers]'"

try:
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        PreTrainedModel,
        PreTrainedTokenizerBase,
        get_linear_schedule_with_warmup,
        set_seed,
    )
except ImportError as error:
    raise ImportError(
        f"the transformers backend needs torch and transformers, which the default install "
        f"leaves out: {INSTALL_HINT} ({error})"
    ) from error

log = structlog.get_logger("mediawatch.classifier")

CARD_FILE = "mediawatch-card.json"
# "vinai/phobert-base", "xlm-roberta-base": what people type when they mean the Hub.
HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
# Tokenizers without a length of their own report a huge sentinel instead.
UNSET_LENGTH = 1_000_000


class CheckpointError(ValueError):
    """A base checkpoint that is not a usable local directory."""


@dataclass(frozen=True)
class FineTuneSettings:
    epochs: int = 3
    batch_size: int = 16
    max_length: int = 256  # tokens; PhoBERT v1 allows 256, XLM-R 512
    learning_rate: float = 3e-5
    warmup_share: float = 0.1
    weight_decay: float = 0.01


class TransformerCard(BaseModel):
    """How a transformer model was made and how well it did: saved in its directory."""

    task: str
    version: str
    classes: list[str]
    base_model: str
    max_length: int
    trained_at: str
    seed: int
    training: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""


def local_checkpoint(path: Path) -> Path:
    """``path`` if it is a checkpoint directory; otherwise an error saying what to copy."""
    if (path / "config.json").is_file():
        return path
    if not path.exists() and HUB_NAME.fullmatch(str(path)):
        raise CheckpointError(
            f"'{path}' looks like a Hugging Face Hub name, but nothing is downloaded here: "
            "copy the checkpoint's directory (config.json, weights, tokenizer files) onto this "
            "machine and pass its path"
        )
    raise CheckpointError(
        f"{path}: not a checkpoint directory (no config.json); copy the whole checkpoint "
        "directory (config.json, weights, tokenizer files) and pass its path"
    )


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _length_limit(tokenizer: PreTrainedTokenizerBase, network: PreTrainedModel, wanted: int) -> int:
    """At most ``wanted`` tokens, and no more than the model takes."""
    limit = tokenizer.model_max_length
    if limit >= UNSET_LENGTH:
        # RoBERTa-style position tables keep two rows for padding offsets: stay under them.
        limit = getattr(network.config, "max_position_embeddings", wanted + 2) - 2
    return min(wanted, limit)


class TransformerTextModel:
    """A sequence classifier with the ``LinearTextModel`` interface."""

    def __init__(
        self,
        card: TransformerCard,
        network: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        device: torch.device | None = None,
        batch_size: int = 32,
    ) -> None:
        labels = [network.config.id2label[i] for i in range(network.config.num_labels)]
        if labels != card.classes:
            raise ModelLoadError(
                f"{card.task}: the network's labels {labels} do not match the card's {card.classes}"
            )
        self.card = card
        self.device = device or default_device()
        self.network = network.to(self.device)
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    @property
    def classes(self) -> list[str]:
        return self.card.classes

    def encode(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """The network's inputs for ``texts``, normalised like the linear models' input."""
        encoded = self.tokenizer(
            [normalize(text) for text in texts],
            padding=True,
            truncation=True,
            max_length=self.card.max_length,
            return_tensors="pt",
        )
        return {name: tensor.to(self.device) for name, tensor in encoded.items()}

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in ``classes`` order."""
        probabilities = np.zeros((len(texts), len(self.classes)))
        # Similar lengths share a batch, so little of it is padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        self.network.eval()
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                logits = self.network(**self.encode([texts[i] for i in rows])).logits
                probabilities[rows] = torch.softmax(logits.double(), dim=-1).cpu().numpy()
        return probabilities

    def save(self, directory: Path) -> Path:
        """Write ``<task>.transformer/`` in ``directory``, replacing a previous one whole."""
        target = transformer_dir(directory, self.card.task)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        self.network.save_pretrained(partial)
        self.tokenizer.save_pretrained(partial)
        (partial / CARD_FILE).write_text(self.card.model_dump_json(indent=2) + "\n", "utf-8")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        return target

    @classmethod
    def load(
        cls, directory: Path, task: str, device: torch.device | None = None
    ) -> TransformerTextModel:
        path = transformer_dir(directory, task)
        try:
            card = TransformerCard.model_validate_json((path / CARD_FILE).read_text("utf-8"))
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            network = AutoModelForSequenceClassification.from_pretrained(
                path, local_files_only=True
            )
        except (OSError, ValueError) as error:
            raise ModelLoadError(f"cannot load model '{task}' from {path}: {error}") from error
        return cls(card, network, tokenizer, device)


def fine_tune(
    spec: TaskSpec,
    data_dir: Path,
    base_model: Path,
    settings: FineTuneSettings | None = None,
    seed: int = 13,
    limit: int | None = None,
) -> TransformerTextModel:
    """Fine-tune ``base_model`` on the task; deterministic on CPU given the data and seed."""
    settings = settings or FineTuneSettings()
    base = local_checkpoint(base_model)
    train, dev, described = load_task_data(spec, data_dir, seed)
    if limit is not None:
        train = train[:limit]
        dev = dev[: max(limit // 4, 1)]
    missing = set(spec.classes) - {e.label for e in train}
    if missing:
        raise ValueError(f"{spec.task}: training data lacks {sorted(missing)}")
    set_seed(seed)  # the new classification head's weights and dropout
    classes = list(spec.classes)
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        network = AutoModelForSequenceClassification.from_pretrained(
            base,
            local_files_only=True,
            num_labels=len(classes),
            id2label=dict(enumerate(classes)),
            label2id={label: i for i, label in enumerate(classes)},
            # A checkpoint already fine-tuned for other labels gets a new head.
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{base}: cannot load the checkpoint: {error}") from error
    trained_at = datetime.now(UTC).replace(microsecond=0)
    card = TransformerCard(
        task=spec.task,
        version=f"{spec.task}-transformer-{base.name}-{trained_at:%Y%m%d}-s{seed}",
        classes=classes,
        base_model=str(base.resolve()),
        max_length=_length_limit(tokenizer, network, settings.max_length),
        trained_at=trained_at.isoformat(),
        seed=seed,
        training={**asdict(settings), "device": str(default_device())},
        data={"directory": str(data_dir), "datasets": described, "train_used": len(train)},
        notes=f"AutoModelForSequenceClassification fine-tuned from {base.name} (AdamW, linear "
        f"warm-up and decay) on the normalised text. {spec.notes}".strip(),
    )
    model = TransformerTextModel(card, network, tokenizer)
    _train(model, train, settings, seed)
    card.metrics = {
        "dev": evaluate(model, dev),
        "dev_without_diacritics": evaluate(model, fold_diacritics_of(dev)),
    }
    return model


def _train(
    model: TransformerTextModel, train: list[Example], settings: FineTuneSettings, seed: int
) -> None:
    """The usual fine-tuning loop: shuffled batches, AdamW, linear warm-up and decay."""
    label_ids = {label: i for i, label in enumerate(model.classes)}
    batches_per_epoch = -(-len(train) // settings.batch_size)
    steps = settings.epochs * batches_per_epoch
    optimizer = torch.optim.AdamW(
        model.network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    schedule = get_linear_schedule_with_warmup(optimizer, int(steps * settings.warmup_share), steps)
    shuffle = torch.Generator().manual_seed(seed)
    model.network.train()
    for epoch in range(settings.epochs):
        total = 0.0
        for batch in torch.randperm(len(train), generator=shuffle).split(settings.batch_size):
            examples = [train[i] for i in batch.tolist()]
            labels = torch.tensor([label_ids[e.label] for e in examples], device=model.device)
            loss = model.network(**model.encode([e.text for e in examples]), labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.network.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += loss.item()
        log.info(
            "fine_tune_epoch",
            task=model.card.task,
            epoch=epoch + 1,
            mean_loss=round(total / batches_per_epoch, 4),
        )
    model.network.eval()
