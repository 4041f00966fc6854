"""``mediawatch import FILE``: items from CSV or JSON Lines files (gzip or not) into the store.

Every row is an ``IngestItem``, the same as a POST /api/ingest item. A bad row is reported
with its file and line, written to a rejects file, and never stops the good rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import structlog
from pydantic import ValidationError

from mediawatch.ingest import MAX_TEXT_CHARS, TIMEZONE_CONTEXT, IngestItem
from mediawatch.model import Document
from mediawatch.pipeline import CrawlReport, Pipeline
from mediawatch.text import spreadsheet_safe

log = structlog.get_logger("mediawatch.import")

Format = Literal["csv", "jsonl"]
FORMATS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
KNOWN_FIELDS = frozenset(IngestItem.model_fields)
REQUIRED_FIELDS = frozenset(
    name for name, info in IngestItem.model_fields.items() if info.is_required()
)


class UnreadableFile(ValueError):
    """The file cannot be read at all: nothing was imported."""


@dataclass
class Rejection:
    line: int
    reason: str
    record: dict[str, Any] | str


@dataclass
class ImportReport:
    read: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    ignored_fields: set[str] = field(default_factory=set)
    pipeline: CrawlReport = field(default_factory=CrawlReport)
    stopped: str | None = None  # why reading ended before the end of the file

    @property
    def accepted(self) -> int:
        return self.read - len(self.rejected)


def file_format_of(path: Path, given: str | None = None) -> Format:
    """The format asked for, else the one the name says (``.csv``, ``.jsonl``, with ``.gz``)."""
    if given is not None:
        if given not in FORMATS.values():
            raise UnreadableFile(f"unknown format {given!r}: use csv or jsonl")
        return given  # type: ignore[return-value]
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in FORMATS:
        return FORMATS[suffixes[-1]]
    raise UnreadableFile(f"{path.name}: cannot tell the format from the name; give --format")


def rejects_path(path: Path, fmt: Format) -> Path:
    """Beside the input, in its format, so it can be fixed and imported again."""
    stem = path.name.removesuffix(".gz").rsplit(".", 1)[0]
    return path.with_name(f"{stem}.rejects.{fmt}")


def _open_text(path: Path, progress: Callable[[int], None]) -> tuple[IO[str], Callable[[], None]]:
    """The file as UTF-8 text (a BOM from spreadsheets is dropped), and a callback telling
    ``progress`` how many bytes of the file on disk have been read."""
    raw = path.open("rb")
    binary: IO[bytes] = gzip.GzipFile(fileobj=raw) if path.name.lower().endswith(".gz") else raw
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    return text, lambda: progress(raw.tell())


# (line, the row as read, why it cannot be an item before validation or None)
Record = tuple[int, dict[str, Any] | str, str | None]


def _csv_records(stream: IO[str], path: Path) -> Iterator[Record]:
    """The rows; one the csv module cannot read (a cell over the limit) is that row's problem,
    and reading goes on at the next line."""
    reader = csv.DictReader(stream)
    with _cells_up_to_text_limit():
        header = reader.fieldnames or []
    missing = REQUIRED_FIELDS - set(header)
    if missing:
        raise UnreadableFile(
            f"{path}:1: the header lacks column(s) {', '.join(sorted(missing))}; "
            f"expected {', '.join(sorted(KNOWN_FIELDS))}"
        )
    line = reader.line_num + 1  # rows may span lines: each starts after the one before
    while True:
        try:
            with _cells_up_to_text_limit():
                row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield line, "", _csv_problem(error)
            line = reader.line_num + 1
            continue
        extra = row.pop(None, [])  # type: ignore[call-overload]
        cells = {key: value for key, value in row.items() if value is not None}
        problem = None
        if extra or len(cells) != len(header):
            problem = f"expected {len(header)} columns, found {len(cells) + len(extra)}"
        yield line, {key: value for key, value in cells.items() if value.strip()}, problem
        line = reader.line_num + 1


@contextmanager
def _cells_up_to_text_limit() -> Iterator[None]:
    """The csv module's cell limit (131,072, process-wide) is below the longest text an item
    may have: raised to it while a row is read, so a cell longer is that row's problem and is
    never read whole, and put back before the row goes on, so no other CSV reader in the
    process (the claims import) reads with a limit that depends on whether an import ran."""
    previous = csv.field_size_limit(max(csv.field_size_limit(), MAX_TEXT_CHARS + 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_problem(error: csv.Error) -> str:
    if "field limit" in str(error):
        return (
            f"một ô dài quá {MAX_TEXT_CHARS} ký tự (a cell longer than {MAX_TEXT_CHARS} characters)"
        )
    return f"dòng CSV không đọc được (unreadable CSV row): {error}"


def _jsonl_records(stream: IO[str]) -> Iterator[Record]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield line, text.rstrip("\n"), f"not JSON: {error.msg} (column {error.colno})"
            continue
        if isinstance(record, dict):
            yield line, record, None
        else:
            yield line, text.rstrip("\n"), "not a JSON object"


def _reason(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in problem['loc']) or 'row'}: {problem['msg']}"
        for problem in error.errors()
    )


class _RejectsFile:
    """Opened on the first rejection only; rejects carry their line and reason."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path
        self._fmt = fmt
        self._stream: IO[str] | None = None
        self._writer: csv.DictWriter | None = None

    def write(self, rejection: Rejection) -> None:
        if self._stream is None:
            # backslashreplace: a lone surrogate from a JSON escape is kept, as its escape
            self._stream = self.path.open(
                "w", encoding="utf-8", errors="backslashreplace", newline=""
            )
        record = rejection.record
        row = {**(record if isinstance(record, dict) else {"raw": record})}
        row |= {"line": rejection.line, "reason": rejection.reason}
        if self._fmt == "jsonl":
            self._stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        if self._writer is None:
            columns = [*sorted(KNOWN_FIELDS), "line", "reason"]
            self._writer = csv.DictWriter(self._stream, columns, extrasaction="ignore")
            self._writer.writeheader()
        # A rejected row is opened in a spreadsheet to be mended: defuse its formulas.
        self._writer.writerow(
            {k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in row.items()}
        )

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def import_file(
    path: Path,
    pipeline: Pipeline,
    fmt: Format,
    rejects: Path,
    progress: Callable[[int], None] = lambda _bytes: None,
) -> ImportReport:
    """Read, validate and ingest every row; raises UnreadableFile only when nothing can be read.

    Times without a zone are read in the configured time zone (people's spreadsheets).
    """
    try:
        stream, report_progress = _open_text(path, progress)
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot open: {error}") from error
    rejects.unlink(missing_ok=True)  # ours from an earlier run: it would mislead
    rejected = _RejectsFile(rejects, fmt)
    report = ImportReport()
    context = {TIMEZONE_CONTEXT: pipeline.settings.timezone}

    def documents() -> Iterator[Document]:
        records = _csv_records(stream, path) if fmt == "csv" else _jsonl_records(stream)
        for line, record, problem in records:
            report.read += 1
            report_progress()
            reason = problem
            if reason is None and isinstance(record, dict):
                unknown = set(record) - KNOWN_FIELDS
                report.ignored_fields |= unknown
                known = {k: v for k, v in record.items() if k not in unknown}
                try:
                    document = IngestItem.model_validate(known, context=context).to_document()
                except ValidationError as error:
                    reason = _reason(error)
                except Exception as error:  # e.g. a port out of range: this row only
                    reason = f"dòng không dùng được (unusable row): {type(error).__name__}: {error}"
                else:
                    yield document
                    continue
            assert reason is not None
            rejection = Rejection(line, reason, record)
            report.rejected.append(rejection)
            rejected.write(rejection)
            log.warning("row rejected", file=str(path), line=line, reason=reason[:300])

    try:
        with stream:
            pipeline.ingest(documents(), report.pipeline)
    except (UnicodeDecodeError, OSError, EOFError, csv.Error) as error:
        where = f"{path}: after line {report.read}" if report.read else str(path)
        if report.read == 0:
            raise UnreadableFile(f"{where}: cannot read: {error}") from error
        report.stopped = f"{where}: reading stopped: {error}"
        log.error("import stopped early; rows before are stored", file=str(path), error=str(error))
    finally:
        rejected.close()
    return report
