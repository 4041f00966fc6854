"""Labelled examples and the JSON Lines files they come in (``../shared/data`` format)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: str
    # The data set it comes from: a model with an expert per data set trains each on its own.
    source: str = ""


class DataFileError(ValueError):
    """A labelled data file that cannot be read as JSON Lines; says which file and line."""


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) of a JSON Lines file, gzip-compressed when named ``*.gz``."""
    opener: Callable = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataFileError(f"{path}:{number}: not JSON ({error.msg})") from error
                if not isinstance(row, dict):
                    raise DataFileError(f"{path}:{number}: a JSON object was expected")
                yield number, row
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as error:
        raise DataFileError(f"{path}: cannot be read as UTF-8 JSON Lines ({error})") from error


def read_jsonl(path: Path) -> list[dict]:
    return [row for _number, row in iter_jsonl(path)]


def find_split(directory: Path, split: str) -> Path | None:
    for name in (f"{split}.jsonl.gz", f"{split}.jsonl"):
        if (directory / name).exists():
            return directory / name
    return None
