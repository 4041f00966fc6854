"""The claims register: statements judged false or misleading, with evidence, the official
rebuttal, and the items that repeat them.

One SQLite file beside the store (like the stories and the topic corrections), so the API
and the worker share it whichever backend holds the items. Every write bumps a change
counter in the same transaction: matchers rebuild only when it moved.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import structlog
from pydantic import BaseModel, Field, ValidationError

from mediawatch.model import (
    OfficialResponse,
    PublishedDatetime,
    ReviewOutcome,
    SubmittedResponse,
    UtcDatetime,
    WebUrl,
    utc_now,
)
from mediawatch.sqlite_files import check
from mediawatch.text import collapse, normalize

log = structlog.get_logger("index.claims")
OURS = "ours"
AUTO = "auto"  # linked_by for links the matcher made
MAX_STATEMENT = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id         TEXT PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    statement  TEXT NOT NULL,
    folded     TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    rating     TEXT,
    origin     TEXT NOT NULL,
    url        TEXT,
    published_at TEXT,
    evidence   TEXT NOT NULL,
    rebuttal   TEXT,
    author     TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claim_items (
    claim_id   TEXT NOT NULL REFERENCES claims (id),
    item_id    TEXT NOT NULL,
    similarity REAL,
    linked_by  TEXT NOT NULL,
    linked_at  TEXT NOT NULL,
    item_text  TEXT NOT NULL,
    PRIMARY KEY (claim_id, item_id)
);
CREATE INDEX IF NOT EXISTS claim_items_item ON claim_items (item_id);
CREATE TABLE IF NOT EXISTS claim_suggestions (
    claim_id     TEXT NOT NULL REFERENCES claims (id),
    item_id      TEXT NOT NULL,
    similarity   REAL NOT NULL,
    status       TEXT NOT NULL,
    suggested_at TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT,
    item_text    TEXT NOT NULL,
    PRIMARY KEY (claim_id, item_id)
);
CREATE INDEX IF NOT EXISTS claim_suggestions_item ON claim_suggestions (item_id);
CREATE TABLE IF NOT EXISTS applied_steps (entry_id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS register_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER);
INSERT OR IGNORE INTO register_version VALUES (1, 0);
"""


# Registers made before claims had an author get the column, and the speaker a ClaimReview
# import wrote as an imported claim's first evidence ("Người phát ngôn: …", where every reader
# saw it) moved into it.
SPEAKER_PREFIX = "Người phát ngôn: "
MAX_AUTHOR_NAME = 300


class ClaimNotFound(KeyError):
    """No claim with that id."""


class Verdict(StrEnum):
    FALSE = ReviewOutcome.FALSE.value
    MISLEADING = ReviewOutcome.MISLEADING.value


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class ClaimAuthor(BaseModel):
    """Who made the claim (a fact-check's itemReviewed.author): personal data under Decree
    13, shown only through the privacy gate (api/privacy.py)."""

    name: str = Field(min_length=1, max_length=MAX_AUTHOR_NAME)
    url: WebUrl | None = Field(default=None, description="Their profile page (http/https)")


class LinkedItem(BaseModel):
    item_id: str
    similarity: float | None = Field(default=None, description="None when a person linked it")
    linked_by: str = Field(description='"auto" (the matcher) or who linked it')
    linked_at: UtcDatetime


class Suggestion(BaseModel):
    item_id: str
    similarity: float
    status: SuggestionStatus
    suggested_at: UtcDatetime
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None


class ClaimDraft(BaseModel):
    """A claim as created by hand, by a decision, or by an import."""

    statement: str = Field(min_length=1, max_length=MAX_STATEMENT)
    verdict: Verdict
    rating: str | None = Field(
        default=None, max_length=200, description="The publisher's own rating text (imports)"
    )
    origin: str = Field(default=OURS, pattern=r"^(ours|import:.{1,200})$")
    url: WebUrl | None = Field(default=None, description="The fact-check's page")
    published_at: PublishedDatetime | None = None
    evidence: list[str] = Field(default_factory=list, max_length=50)
    rebuttal: SubmittedResponse | None = None
    author: ClaimAuthor | None = None

    def dedupe_key(self) -> str:
        """Imports are the same claim when their URL is; otherwise statement and origin."""
        if self.url and self.origin != OURS:
            return f"url:{self.url}"
        return f"{self.origin}|{collapse(normalize(self.statement))}"


class ClaimPatch(BaseModel):
    """What a reviewer may change; absent fields stay as they are."""

    model_config = {"extra": "forbid"}

    statement: str | None = Field(default=None, min_length=1, max_length=MAX_STATEMENT)
    verdict: Verdict | None = None
    evidence: list[str] | None = Field(default=None, max_length=50)
    rebuttal: SubmittedResponse | None = None


class Claim(BaseModel):
    id: str
    statement: str
    statement_folded: str
    verdict: Verdict
    rating: str | None = None
    origin: str
    url: str | None = None
    published_at: UtcDatetime | None = None
    evidence: list[str] = Field(default_factory=list)
    rebuttal: OfficialResponse | None = None
    author: ClaimAuthor | None = Field(
        default=None, description="Who made the claim; only for the roles that see authors"
    )
    created_by: str
    created_at: UtcDatetime
    updated_by: str
    updated_at: UtcDatetime
    items: list[LinkedItem] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)


def _claim_id(dedupe_key: str) -> str:
    return "cl-" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:12]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class ClaimRegister:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        check(path)
        self._lock = threading.RLock()  # re-entered by a step's writes inside ``applying``
        self._depth = 0
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._add_author()

    def _add_author(self) -> None:
        """The author column for a register made before it (once, whichever process
        opens the file first), with each import's speaker moved out of the evidence."""
        with self._write(change=False) as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(claims)")}
            if "author" in columns:
                return
            db.execute("ALTER TABLE claims ADD COLUMN author TEXT")
            rows = db.execute(
                "SELECT id, evidence FROM claims WHERE origin LIKE 'import:%' "
                "AND json_extract(evidence, '$[0]') LIKE ? || '%'",
                (SPEAKER_PREFIX,),
            )
            for row in rows.fetchall():
                if not _move_speaker(db, row["id"], json.loads(row["evidence"])):
                    log.warning(
                        "claims.speaker_left_in_evidence", path=str(self.path), claim_id=row["id"]
                    )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self, change: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction that also moves the change counter (unless nothing matching
        reads changes)."""
        with self._lock:
            if self._depth:  # inside ``applying``: its transaction holds this write too
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._db
                if change:
                    self._db.execute("UPDATE register_version SET n = n + 1")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth -= 1

    @contextmanager
    def applying(self, entry_id: str) -> Iterator[bool]:
        """One transaction for a review step's effect on the register, remembered by the
        step's review-log entry id: False (and nothing to do) when it was applied before.
        Whatever fails inside rolls the effect and the remembering back together."""
        if self.applied(entry_id):  # the usual case for the reconciler: no write at all
            yield False
            return
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO applied_steps VALUES (?, ?)",
                (entry_id, utc_now().isoformat()),
            )
            yield cursor.rowcount == 1

    def applied(self, entry_id: str) -> bool:
        with self._lock:
            found = self._db.execute(
                "SELECT 1 FROM applied_steps WHERE entry_id = ?", (entry_id,)
            ).fetchone()
        return found is not None

    def checkpoint(self, name: str) -> datetime | None:
        """How far (by step time) the named reconciler has walked the review log."""
        with self._lock:
            row = self._db.execute("SELECT at FROM checkpoints WHERE name = ?", (name,)).fetchone()
        return datetime.fromisoformat(row["at"]) if row else None

    def set_checkpoint(self, name: str, at: datetime) -> None:
        with self._write(change=False) as db:
            db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?)", (name, at.isoformat()))

    def version(self) -> int:
        """Moves on every change, whichever process made it."""
        with self._lock:
            return self._db.execute("SELECT n FROM register_version").fetchone()[0]

    # Claims

    def create(self, draft: ClaimDraft, by: str) -> tuple[Claim, bool]:
        """The claim and whether it is new; the same statement from the same origin (or the
        same fact-check URL) is the claim already there, unchanged."""
        with self._write() as db:
            claim_id, created = self._insert(db, draft, by)
        return self.get(claim_id), created

    def create_many(self, drafts: Iterable[ClaimDraft], by: str) -> list[tuple[str, bool]]:
        """All or nothing: one transaction for an import."""
        with self._write() as db:
            return [self._insert(db, draft, by) for draft in drafts]

    def _insert(self, db: sqlite3.Connection, draft: ClaimDraft, by: str) -> tuple[str, bool]:
        key = draft.dedupe_key()
        row = db.execute("SELECT id FROM claims WHERE dedupe_key = ?", (key,)).fetchone()
        if row is not None:
            return row["id"], False
        claim_id, now = _claim_id(key), utc_now().isoformat()
        statement = normalize(draft.statement)
        db.execute(
            "INSERT INTO claims (id, dedupe_key, statement, folded, verdict, rating, origin, url, "
            "published_at, evidence, rebuttal, author, created_by, created_at, updated_by, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                claim_id,
                key,
                statement,
                collapse(statement),
                draft.verdict.value,
                draft.rating,
                draft.origin,
                draft.url,
                _iso(draft.published_at),
                json.dumps(draft.evidence, ensure_ascii=False),
                draft.rebuttal.model_dump_json() if draft.rebuttal else None,
                draft.author.model_dump_json() if draft.author else None,
                by,
                now,
                by,
                now,
            ),
        )
        return claim_id, True

    def get(self, claim_id: str) -> Claim:
        with self._lock:
            row = self._db.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
            if row is None:
                raise ClaimNotFound(claim_id)
            items = self._db.execute(
                "SELECT * FROM claim_items WHERE claim_id = ? ORDER BY linked_at, item_id",
                (claim_id,),
            ).fetchall()
            suggestions = self._db.execute(
                "SELECT * FROM claim_suggestions WHERE claim_id = ? "
                "ORDER BY status != 'pending', similarity DESC, item_id",
                (claim_id,),
            ).fetchall()
        claim = _claim(row)
        claim.items = [
            LinkedItem.model_validate({k: r[k] for k in LinkedItem.model_fields}) for r in items
        ]
        claim.suggestions = [
            Suggestion.model_validate({k: r[k] for k in Suggestion.model_fields})
            for r in suggestions
        ]
        return claim

    def search(self, text: str | None, limit: int, offset: int) -> tuple[int, list[Claim]]:
        """Claims whose folded statement contains the folded words of ``text``, newest first
        (without their items: the list shows statements)."""
        words = collapse(normalize(text or "")).split()
        where = " AND ".join("(' ' || folded || ' ') LIKE ?" for _ in words) or "1"
        params = [f"% {word} %" for word in words]
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM claims WHERE {where}", params)
            count = total.fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM claims WHERE {where} ORDER BY updated_at DESC, id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return count, [_claim(row) for row in rows]

    def all(self, origin: str | None = None) -> list[Claim]:
        """Every claim with its items, oldest first (exports)."""
        with self._lock:
            ids = [
                row["id"]
                for row in self._db.execute(
                    "SELECT id FROM claims WHERE ? IS NULL OR origin = ? ORDER BY created_at, id",
                    (origin, origin),
                )
            ]
        return [self.get(claim_id) for claim_id in ids]

    def update(self, claim_id: str, patch: ClaimPatch, by: str) -> Claim:
        changes: dict[str, object] = {}
        if patch.statement is not None:
            statement = normalize(patch.statement)
            changes |= {"statement": statement, "folded": collapse(statement)}
        if patch.verdict is not None:
            changes["verdict"] = patch.verdict.value
        if patch.evidence is not None:
            changes["evidence"] = json.dumps(patch.evidence, ensure_ascii=False)
        if patch.rebuttal is not None:
            changes["rebuttal"] = patch.rebuttal.model_dump_json()
        self._set(claim_id, changes, by)
        return self.get(claim_id)

    def add_evidence(self, claim_id: str, evidence: Iterable[str], by: str) -> None:
        """Append evidence not there yet (a later decision on another item of the claim);
        read and written in one transaction, so two decisions at once both add theirs."""
        with self._write() as db:
            row = db.execute("SELECT evidence FROM claims WHERE id = ?", (claim_id,)).fetchone()
            if row is None:
                raise ClaimNotFound(claim_id)
            current = json.loads(row["evidence"])
            added = [e for e in evidence if e and e not in current]
            if added:
                db.execute(
                    "UPDATE claims SET evidence = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                    (
                        json.dumps(current + added, ensure_ascii=False),
                        by,
                        utc_now().isoformat(),
                        claim_id,
                    ),
                )

    def set_rebuttal(self, claim_id: str, rebuttal: OfficialResponse, by: str) -> None:
        self._set(claim_id, {"rebuttal": rebuttal.model_dump_json()}, by)

    def _set(self, claim_id: str, changes: dict[str, object], by: str) -> None:
        changes |= {"updated_by": by, "updated_at": utc_now().isoformat()}
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE claims SET {assignments} WHERE id = ?", [*changes.values(), claim_id]
            )
            if cursor.rowcount == 0:
                raise ClaimNotFound(claim_id)

    # Items and suggestions

    def link(
        self,
        claim_id: str,
        item_id: str,
        item_text: str,
        by: str,
        similarity: float | None = None,
    ) -> bool:
        """Link an item (True if it was not linked); a pending suggestion of it is settled."""
        now = utc_now().isoformat()
        with self._write() as db:
            self._require(db, claim_id)
            cursor = db.execute(
                "INSERT OR IGNORE INTO claim_items VALUES (?, ?, ?, ?, ?, ?)",
                (claim_id, item_id, similarity, by, now, item_text),
            )
            if by != AUTO:
                db.execute(
                    "UPDATE claim_suggestions SET status = 'confirmed', decided_by = ?, "
                    "decided_at = ? WHERE claim_id = ? AND item_id = ? AND status = 'pending'",
                    (by, now, claim_id, item_id),
                )
            return cursor.rowcount == 1

    def unlink(self, claim_id: str, item_id: str) -> bool:
        with self._write() as db:
            self._require(db, claim_id)
            cursor = db.execute(
                "DELETE FROM claim_items WHERE claim_id = ? AND item_id = ?", (claim_id, item_id)
            )
            return cursor.rowcount == 1

    def suggest(self, claim_id: str, item_id: str, item_text: str, similarity: float) -> bool:
        """Offer an item to reviewers, unless it is linked or was offered before."""
        with self._write() as db:
            self._require(db, claim_id)
            linked = db.execute(
                "SELECT 1 FROM claim_items WHERE claim_id = ? AND item_id = ?", (claim_id, item_id)
            ).fetchone()
            if linked:
                return False
            cursor = db.execute(
                "INSERT OR IGNORE INTO claim_suggestions "
                "(claim_id, item_id, similarity, status, suggested_at, item_text) "
                "VALUES (?, ?, ?, 'pending', ?, ?)",
                (claim_id, item_id, similarity, utc_now().isoformat(), item_text),
            )
            return cursor.rowcount == 1

    def decide_suggestion(self, claim_id: str, item_id: str, accept: bool, by: str) -> Suggestion:
        """Confirm (the item is linked) or reject a suggestion; deciding again may change it."""
        now = utc_now().isoformat()
        status = SuggestionStatus.CONFIRMED if accept else SuggestionStatus.REJECTED
        with self._write() as db:
            row = db.execute(
                "SELECT * FROM claim_suggestions WHERE claim_id = ? AND item_id = ?",
                (claim_id, item_id),
            ).fetchone()
            if row is None:
                raise ClaimNotFound(f"{claim_id}/{item_id}")
            db.execute(
                "UPDATE claim_suggestions SET status = ?, decided_by = ?, decided_at = ? "
                "WHERE claim_id = ? AND item_id = ?",
                (status.value, by, now, claim_id, item_id),
            )
            if accept:
                db.execute(
                    "INSERT OR IGNORE INTO claim_items VALUES (?, ?, ?, ?, ?, ?)",
                    (claim_id, item_id, row["similarity"], by, now, row["item_text"]),
                )
            else:
                db.execute(
                    "DELETE FROM claim_items WHERE claim_id = ? AND item_id = ?",
                    (claim_id, item_id),
                )
        return Suggestion(
            item_id=item_id,
            similarity=row["similarity"],
            status=status,
            suggested_at=row["suggested_at"],
            decided_by=by,
            decided_at=now,
        )

    def claims_of_item(self, item_id: str) -> list[str]:
        """Claims the item is linked to, or that a reviewer confirmed for it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT claim_id FROM claim_items WHERE item_id = ? UNION "
                "SELECT claim_id FROM claim_suggestions WHERE item_id = ? AND status = 'confirmed'",
                (item_id, item_id),
            ).fetchall()
        return sorted(row[0] for row in rows)

    def texts(self) -> dict[str, list[str]]:
        """What matching reads: each claim's statement, then its linked items' texts."""
        with self._lock:
            claims = self._db.execute("SELECT id, statement FROM claims ORDER BY id").fetchall()
            items = self._db.execute("SELECT claim_id, item_text FROM claim_items").fetchall()
        texts: dict[str, list[str]] = {row["id"]: [row["statement"]] for row in claims}
        for row in items:
            if row["item_text"]:
                texts[row["claim_id"]].append(row["item_text"])
        return texts

    def rejected_texts(self) -> dict[str, list[str]]:
        """Texts reviewers said do not repeat a claim (rejected suggestions), by claim: the
        matcher keeps them as counter-examples."""
        with self._lock:
            rows = self._db.execute(
                "SELECT claim_id, item_text FROM claim_suggestions "
                "WHERE status = 'rejected' ORDER BY claim_id, item_id"
            ).fetchall()
        rejected: dict[str, list[str]] = {}
        for row in rows:
            if row["item_text"]:
                rejected.setdefault(row["claim_id"], []).append(row["item_text"])
        return rejected

    @staticmethod
    def _require(db: sqlite3.Connection, claim_id: str) -> None:
        if db.execute("SELECT 1 FROM claims WHERE id = ?", (claim_id,)).fetchone() is None:
            raise ClaimNotFound(claim_id)


def _move_speaker(db: sqlite3.Connection, claim_id: str, evidence: list[str]) -> bool:
    """The first evidence line of an imported claim as its author, when it is a name a
    ClaimAuthor can hold; else (empty, or too long to be a name: text someone typed) it
    stays evidence, so no page listing the claim fails on it. Whether it moved."""
    name = evidence[0][len(SPEAKER_PREFIX) :].strip()
    if not 1 <= len(name) <= MAX_AUTHOR_NAME:
        return False
    db.execute(
        "UPDATE claims SET author = ?, evidence = ? WHERE id = ?",
        (
            json.dumps({"name": name}, ensure_ascii=False),
            json.dumps(evidence[1:], ensure_ascii=False),
            claim_id,
        ),
    )
    return True


def _author(claim_id: str, stored: str | None) -> ClaimAuthor | None:
    """The stored author; one written before the rules of ClaimAuthor (a javascript:
    profile, a "name" the first migration moved whole) loses what breaks them, logged,
    rather than fail every page that lists the claim."""
    if not stored:
        return None
    data = json.loads(stored)
    for candidate in (data, data | {"url": None}):
        try:
            return ClaimAuthor.model_validate(candidate)
        except ValidationError:
            continue
    log.warning("claims.author_unreadable", claim_id=claim_id)
    return None


def _claim(row: sqlite3.Row) -> Claim:
    return Claim(
        id=row["id"],
        statement=row["statement"],
        statement_folded=row["folded"],
        verdict=row["verdict"],
        rating=row["rating"],
        origin=row["origin"],
        url=row["url"],
        published_at=row["published_at"],
        evidence=json.loads(row["evidence"]),
        rebuttal=OfficialResponse.model_validate_json(row["rebuttal"]) if row["rebuttal"] else None,
        author=_author(row["id"], row["author"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )
