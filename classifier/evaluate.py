"""Score a shipped model on any labelled JSONL file: the fixed interface models are judged by.

The file has the ``../shared/data`` format (``id``, ``text``, ``label``, other fields ignored).
Its labels may be any data set's names for the task (``fake``, ``hate``, ``non_toxic``…) or
the model's own; they are mapped through the same task specs training uses, so the two cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from classifier.backends import load_task_model
from classifier.labelled_data import DataFileError, Example, iter_jsonl
from classifier.train import TASKS, evaluate

log = structlog.get_logger("mediawatch.classifier")


class EvaluationError(ValueError):
    """Input that cannot be scored: unknown task, missing file, bad line, unmapped label."""


@dataclass(frozen=True, slots=True)
class Line:
    """One object of a labelled file, read for an office's own data: every complaint names the
    file and line in Vietnamese, so the person who wrote the file can find and fix it."""

    path: Path
    number: int
    row: dict

    def error(self, vietnamese: str, english: str) -> EvaluationError:
        return EvaluationError(f"{self.path}:{self.number}: {vietnamese} ({english})")

    def string(self, name: str, *, required: bool = True) -> str | None:
        """The non-empty string field ``name``; ``None`` when optional and absent, null or
        empty (a social post has no title: ``"title": ""`` says so)."""
        value = self.row.get(name)
        if not required and (value is None or value == ""):
            return None
        if value is None:
            raise self.error(f"thiếu trường '{name}'", f"missing field '{name}'")
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                f"trường '{name}' phải là một chuỗi không rỗng", f"'{name}' must be a string"
            )
        return value

    def item_id(self) -> str | None:
        """The optional ``id``, a string or a number, kept as a string."""
        value = self.row.get("id")
        if value is None or (isinstance(value, int | str) and not isinstance(value, bool)):
            return None if value is None else str(value)
        raise self.error("trường 'id' phải là chuỗi hoặc số", "'id' must be a string or number")


def share(part: int, whole: int) -> float | None:
    """``part / whole`` to four places; ``None`` when there is nothing to count."""
    return round(part / whole, 4) if whole else None


def read_lines(path: Path) -> list[Line]:
    """Every object of a JSON Lines file (``.gz`` too); an empty or unreadable file is refused,
    so a figure is never computed on nothing."""
    if not path.is_file():
        raise EvaluationError(f"{path}: không có tệp này (no such file)")
    try:
        lines = [Line(path, number, row) for number, row in iter_jsonl(path)]
    except DataFileError as error:
        raise EvaluationError(f"Tệp không đọc được (unreadable file): {error}") from error
    if not lines:
        raise EvaluationError(f"{path}: tệp rỗng, không có dòng nào (empty file)")
    return lines


def read_examples(path: Path, task: str) -> tuple[list[Example], dict[str, str]]:
    """The file's rows with labels mapped to the task's, and the file's labels that changed.

    Every row must have a string ``text`` and a label the task knows; otherwise nothing is
    scored, so a figure never silently leaves rows out.
    """
    mapping = TASKS[task].dataset_labels()
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file")
    examples: list[Example] = []
    seen: set[str] = set()
    unknown: dict[str, list[int]] = {}
    for number, row in iter_jsonl(path):
        text, label = row.get("text"), row.get("label")
        if not isinstance(text, str) or not isinstance(label, str):
            raise EvaluationError(f"{path}:{number}: needs a string 'text' and 'label'")
        if label not in mapping:
            unknown.setdefault(label, []).append(number)
            continue
        seen.add(label)
        examples.append(Example(str(row.get("id", number)), text, mapping[label]))
    if unknown:
        named = ", ".join(
            f"'{label}' ({len(lines)} rows, first at line {lines[0]})"
            for label, lines in sorted(unknown.items())
        )
        raise EvaluationError(
            f"{path}: labels the task '{task}' cannot map: {named}; "
            f"known: {', '.join(sorted(mapping))}"
        )
    if not examples:
        raise EvaluationError(f"{path}: no labelled rows")
    return examples, {label: mapping[label] for label in sorted(seen) if mapping[label] != label}


def evaluate_file(task: str, path: Path, models_dir: Path) -> dict:
    """The scores of the task's model in ``models_dir`` on the labelled file at ``path``."""
    if task not in TASKS:
        raise EvaluationError(f"unknown task '{task}'; known: {', '.join(TASKS)}")
    examples, renamed = read_examples(path, task)
    model = load_task_model(models_dir, task)
    report = {
        "task": task,
        "model_version": model.card.version,
        "data": str(path),
        **evaluate(model, examples, per_class=True),
    }
    if len(model.classes) == 2:
        report["positive_class"] = model.classes[1]
    report["labels_mapped"] = renamed
    log.info("evaluated", task=task, data=str(path), n=report["n"], macro_f1=report["macro_f1"])
    return report
