"""The transformers backend end to end, with a tiny checkpoint the test builds.

A 2-layer BERT with random weights and a word-level tokenizer trained on the test's texts
stand in for the PhoBERT or XLM-R directory an operator copies in: fine-tuned through
``mediawatch train --backend transformers``, saved, loaded fresh, asked to predict, and
scored through ``mediawatch evaluate``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

try:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
except ImportError:
    if os.environ.get("CI"):
        raise  # CI installs the extra: this backend must be tested there
    pytest.skip(
        "torch and transformers are an extra: pip install -e '.[transformers]'",
        allow_module_level=True,
    )

from classifier.backends import load_task_model
from classifier.linear import LinearTextModel, ModelLoadError
from classifier.service import SHIPPED_MODELS, Classifier, ItemToClassify
from classifier.train import TASKS
from classifier.transformer import (
    CheckpointError,
    FineTuneSettings,
    TransformerTextModel,
    fine_tune,
)
from mediawatch.cli import app
from mediawatch.model import SourceTier
from tests.test_evaluate import write_jsonl

CLEAN = "cảm ơn bài viết rất hay và bổ ích chúc mọi người vui vẻ bình an thông tin hữu ích".split()
TOXIC = "đồ ngu mất dạy khốn nạn óc chó câm mồm cút đi lũ rác rưởi vô học".split()
FAST = FineTuneSettings(epochs=4, batch_size=8, max_length=24, learning_rate=2e-3)
CLI_SETTINGS = ["--epochs", "4", "--batch-size", "8", "--max-length", "24"]


def sentence(words: list[str], rng: random.Random) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toxicity task's two sets in the ../shared/data layout, with their own label names.

    ViHSD has a dev split; ViCTSD has none, so its dev part is carved from train.
    """
    rng = random.Random(5)
    root = tmp_path_factory.mktemp("data")

    def rows(prefix: str, labels: list[tuple[str, list[str]]], n: int) -> list[dict]:
        return [
            {"id": f"{prefix}-{i}", "text": sentence(words, rng), "label": label}
            for i in range(n)
            for label, words in [labels[i % 2]]
        ]

    for name, labels, splits in [
        ("vihsd", [("clean", CLEAN), ("offensive", TOXIC)], {"train": 40, "dev": 12}),
        ("victsd", [("non_toxic", CLEAN), ("toxic", TOXIC)], {"train": 40}),
    ]:
        (root / name).mkdir()
        for split, n in splits.items():
            write_jsonl(root / name / f"{split}.jsonl.gz", rows(f"{name}-{split}", labels, n))
    return root


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local "pretrained" checkpoint: random tiny BERT weights and a trained tokenizer."""
    directory = tmp_path_factory.mktemp("tiny-bert")
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(
        [" ".join(CLEAN + TOXIC)], trainers.WordLevelTrainer(special_tokens=special)
    )
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[(token, tokenizer.token_to_id(token)) for token in ("[CLS]", "[SEP]")],
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=64,
    ).save_pretrained(directory)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(directory)
    return directory


def cli(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def models_dir(data_dir: Path, checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models")
    result = cli(
        "train", "--backend", "transformers", "--base-model", checkpoint, "--task", "toxicity",
        "--data", data_dir, "--out", out, "--learning-rate", FAST.learning_rate, *CLI_SETTINGS,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "toxicity" in result.output and "macro-F1" in result.output
    return out


TEXTS = [
    "Cảm ơn bài viết rất hay",
    "đồ ngu mất dạy cút đi",
    "thong tin huu ich",  # no diacritics: words the tokenizer has never seen
    "Chúc mọi người bình an! " * 40,  # longer than the model takes: truncated
]


def test_a_trained_model_loads_fresh_and_predicts_like_the_linear_ones(models_dir: Path):
    model = load_task_model(models_dir, "toxicity")
    assert isinstance(model, TransformerTextModel)
    assert model.classes == ["clean", "toxic"]
    assert model.card.task == "toxicity" and "transformer" in model.card.version
    assert model.card.base_model and model.card.max_length == 24
    assert set(model.card.metrics["dev"]) >= {"n", "accuracy", "macro_f1", "roc_auc"}

    probabilities = model.predict_proba(TEXTS)
    linear = LinearTextModel.load(SHIPPED_MODELS, "toxicity").predict_proba(TEXTS)
    assert type(probabilities) is type(linear)
    assert probabilities.shape == linear.shape == (len(TEXTS), 2)
    assert probabilities.dtype == linear.dtype
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    # The order of the texts and the batch size change nothing but the order of the rows.
    model.batch_size = 1
    np.testing.assert_allclose(model.predict_proba(TEXTS[::-1])[::-1], probabilities, atol=1e-6)
    assert model.predict_proba([]).shape == (0, 2)
    # It learned the words: the clean and the abusive sentence go their own ways.
    assert probabilities[0].argmax() == 0 and probabilities[1].argmax() == 1


def test_evaluate_scores_the_transformer_model(models_dir: Path, data_dir: Path):
    data = data_dir / "vihsd" / "dev.jsonl.gz"
    result = cli("evaluate", "--task", "toxicity", "--data", data, "--models", models_dir)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 12 and report["positive_class"] == "toxic"
    assert report["model_version"] == load_task_model(models_dir, "toxicity").card.version
    assert report["labels_mapped"] == {"offensive": "toxic"}
    assert set(report["per_class"]) == {"clean", "toxic"}
    assert report["accuracy"] >= 0.9 and report["roc_auc"] >= 0.9


def test_fine_tuning_is_deterministic_given_the_seed(data_dir: Path, checkpoint: Path):
    def probabilities(seed: int) -> np.ndarray:
        model = fine_tune(TASKS["toxicity"], data_dir, checkpoint, FAST, seed=seed, limit=32)
        return model.predict_proba(TEXTS)

    first = probabilities(3)
    np.testing.assert_array_equal(probabilities(3), first)
    assert not np.allclose(probabilities(4), first)


@pytest.mark.parametrize(
    ("base", "says"),
    [
        (Path("vinai/phobert-base"), "looks like a Hugging Face Hub name"),
        (Path("xlm-roberta-base"), "looks like a Hugging Face Hub name"),
        (Path("/nonexistent/phobert"), "not a checkpoint directory"),
    ],
)
def test_a_base_model_that_is_not_a_local_checkpoint_is_refused(
    base: Path, says: str, data_dir: Path, tmp_path: Path
):
    with pytest.raises(CheckpointError, match=says):
        fine_tune(TASKS["toxicity"], data_dir, base)
    result = cli(
        "train", "--backend", "transformers", "--base-model", base, "--task", "toxicity",
        "--data", data_dir, "--out", tmp_path,
    )  # fmt: skip
    assert result.exit_code == 2
    assert says in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_directory_without_config_is_refused(data_dir: Path, tmp_path: Path):
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        fine_tune(TASKS["toxicity"], data_dir, tmp_path)


def test_the_loader_picks_the_backend_by_what_the_directory_holds(models_dir: Path, tmp_path: Path):
    assert isinstance(load_task_model(SHIPPED_MODELS, "toxicity"), LinearTextModel)
    with pytest.raises(ModelLoadError, match=r"toxicity\.npz .*toxicity\.transformer/"):
        load_task_model(tmp_path, "toxicity")
    # Beside the linear files, the transformer an operator trained there is the one used.
    both = shutil.copytree(models_dir, tmp_path / "both")
    LinearTextModel.load(SHIPPED_MODELS, "toxicity").save(both)
    assert isinstance(load_task_model(both, "toxicity"), TransformerTextModel)


def test_without_the_extra_the_error_names_it(
    models_dir: Path, data_dir: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "torch", None)  # what an import sees when it is absent
    monkeypatch.delitem(sys.modules, "classifier.transformer")
    with pytest.raises(ImportError, match=r"pip install -e '\.\[transformers\]'"):
        import classifier.transformer  # noqa: F401
    with pytest.raises(ModelLoadError, match=r"\.\[transformers\]"):
        load_task_model(models_dir, "toxicity")
    result = cli(
        "train", "--backend", "transformers", "--base-model", checkpoint, "--task", "toxicity",
        "--data", data_dir, "--out", models_dir,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "pip install -e '.[transformers]'" in result.output


def test_the_service_classifies_with_a_transformer_beside_the_linear_models(
    models_dir: Path, tmp_path: Path
):
    """An operator's transformer model for one task; the shipped files for the others."""
    mixed = tmp_path / "mixed"
    shutil.copytree(SHIPPED_MODELS, mixed)
    shutil.copytree(models_dir / "toxicity.transformer", mixed / "toxicity.transformer")
    classifier = Classifier.load(mixed)
    expected = load_task_model(models_dir, "toxicity")
    results = classifier.classify_batch([ItemToClassify("", t, SourceTier.SOCIAL) for t in TEXTS])
    assert classifier.model_versions["toxicity"] == expected.card.version
    assert classifier.model_versions["sentiment"] == Classifier.load().model_versions["sentiment"]
    toxic = expected.predict_proba([f"\n{t}" for t in TEXTS])[:, 1]
    assert [r.toxicity_probability for r in results] == pytest.approx(toxic, abs=1e-4)
