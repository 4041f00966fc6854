"""Stories: near-duplicate items across sources (one rumour copied with small edits).

Each item gets a MinHash signature of its folded text (character 5-grams, 128 permutations,
fixed seed); an LSH index finds earlier items whose estimated Jaccard similarity reaches the
threshold, and the item joins the story of the most similar one. A story's id is the id of
the item that founded it. Signatures live in a SQLite file (WAL) so that stories survive
restarts; signatures older than the window are forgotten (their items keep their story), so
the index stays small and old text does not link new items.

A story counts only items that are stored. A batch's stories are *proposed* before its items
are written (classification needs them) and written down as pending; they become members
(``record``) only once the store has the items. A crash in between leaves pending rows, which
the next start settles against the store (``settle``): members if the store has the item,
gone if not. So a killed ingest never leaves a story counting items that were never stored.

Parameters were chosen on pairs built from real press articles (bench/stories_params.py):
at threshold 0.4, character 5-grams link every lightly edited copy (5% of words replaced, a
sentence dropped, added and moved; recall 1.00) and 84% of medium edits (15%, two sentences),
and no pair of different articles (same topic, or sharing a 25-word opening: exact Jaccard at
most 0.20). Word 3-grams separate as cleanly but find fewer copies: 0.97 and 0.11 at 0.4.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import structlog
from datasketch import MinHash, MinHashLSH
from datasketch.hashfunc import sha1_hash32

from mediawatch.model import Document, utc_now
from mediawatch.sqlite_files import check
from mediawatch.text import collapse

log = structlog.get_logger("mediawatch.stories")

NUM_PERM = 128
SEED = 7
# Stored signatures are only comparable under one hashing scheme: name it, never the default.
SCHEME = "affine32"
_STORED = np.dtype("<u4")
THRESHOLD = 0.4
SHINGLE_CHARS = 5
MIN_WORDS = 15
WINDOW = timedelta(days=30)
# Shingle hashes kept between signatures (about 100 bytes each); past this they start again.
MAX_CACHED_SHINGLES = 500_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS story_items (
    item_id   TEXT PRIMARY KEY,
    story_id  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    signature BLOB
);
CREATE INDEX IF NOT EXISTS story_items_story ON story_items (story_id, seen_at);
CREATE INDEX IF NOT EXISTS story_items_signed ON story_items (seen_at) WHERE signature IS NOT NULL;
-- proposed for items not yet known to be stored; never counted
CREATE TABLE IF NOT EXISTS story_pending (
    item_id   TEXT PRIMARY KEY,
    story_id  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    signature BLOB
);
"""
# (item id, story id, source id, seen at, signature): one row of either table
Row = tuple[str, str, str, str, bytes | None]


@dataclass(frozen=True, slots=True)
class Proposal:
    """A batch's documents with their stories, and the memberships to record once stored."""

    documents: list[Document]
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class StoryStats:
    """What the index knows of one story.

    ``seen_at`` of an item is its publication time, else when it was fetched. Growth is
    measured two ways, both over that time: ``items_last_24h`` against
    ``items_previous_24h`` (the 24 hours before those), and ``per_hour_6h``, items per hour
    over the last 6 hours — a rumour "spreading fast" shows in the latter first.
    """

    story_id: str
    first_seen: datetime
    last_seen: datetime
    size: int
    sources: int
    items_last_24h: int
    items_previous_24h: int
    per_hour_6h: float


def shingles(joined: str) -> set[str]:
    """Character 5-grams of ``collapse(text)``: the folded words joined by single spaces.

    Folded, a copy that lost its diacritics or its punctuation on the way is the same text.
    """
    if len(joined) <= SHINGLE_CHARS:
        return {joined} if joined else set()
    return {joined[i : i + SHINGLE_CHARS] for i in range(len(joined) - SHINGLE_CHARS + 1)}


class _ShingleHashes(dict[str, int]):
    """datasketch's default hash (SHA-1, 32 bits, of the UTF-8) of each shingle, remembered.

    The shingles of one language repeat from text to text, and hashing them one by one was
    most of a signature's cost; the values are the same, so stored signatures stay comparable.
    """

    def __missing__(self, shingle: str) -> int:
        if len(self) >= MAX_CACHED_SHINGLES:
            self.clear()
        value = self[shingle] = sha1_hash32(shingle.encode())
        return value


_SHINGLE_HASHES = _ShingleHashes()
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def _minhash(hashvalues: np.ndarray | None = None) -> MinHash:
    return MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        scheme=SCHEME,
        hashfunc=_SHINGLE_HASHES.__getitem__,
        hashvalues=hashvalues,
        permutations=_TEMPLATE.permutations,
    )


def signature(text: str) -> MinHash:
    """The MinHash of ``text``'s shingles; the fixed seed makes it the same in every process."""
    return collapsed_signature(collapse(text))


def collapsed_signature(joined: str) -> MinHash:
    """The same from ``collapse(text)`` already made (callers that count its words first)."""
    minhash = _minhash()
    minhash.update_batch(list(shingles(joined)))
    return minhash


def _unpacked(blob: bytes) -> MinHash:
    return _minhash(np.frombuffer(blob, dtype=_STORED).astype(np.uint32))


def _document_text(document: Document) -> str:
    return f"{document.title}\n{document.text}"


def _seen_at(document: Document) -> datetime:
    return document.event_time


class StoryIndex:
    """Assigns story ids and keeps what it assigned, in its own SQLite file."""

    def __init__(
        self, path: Path, *, threshold: float = THRESHOLD, window: timedelta = WINDOW
    ) -> None:
        self.path = path
        self.threshold = threshold
        self.window = window
        path.parent.mkdir(parents=True, exist_ok=True)
        check(path)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()  # the API's threads and the scheduler share one index
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[str, MinHash] = {}
        self._story_of: dict[str, str] = {}
        self._seen_of: dict[str, datetime] = {}
        self._loaded = False

    def _load(self) -> None:
        """Rebuild the LSH from stored signatures, once, when assigning first needs it:
        reading figures alone (the API) does not pay for it."""
        if self._loaded:
            return
        self._loaded = True
        path = self.path
        rows = self._db.execute(
            "SELECT item_id, story_id, seen_at, signature FROM story_items "
            "WHERE signature IS NOT NULL"
        )
        for item_id, story_id, seen_at, blob in rows:
            if len(blob) != NUM_PERM * _STORED.itemsize:
                log.error("story_signature_unreadable", path=str(path), item_id=item_id)
                continue
            self._remember(item_id, story_id, datetime.fromisoformat(seen_at), _unpacked(blob))
        log.info("story_index_opened", path=str(path), signatures=len(self._signatures))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StoryIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def propose(self, documents: Sequence[Document], now: datetime | None = None) -> Proposal:
        """Copies of ``documents`` with ``story_id`` set, in the order given, and the pending
        memberships: ``record`` them once the items are stored.

        Items are taken earliest first, so within a batch the earliest founds the story and
        later ones join it. An item seen before keeps its story. Texts under 15 words stand
        alone: too little text to tell a copy from a coincidence.
        """
        with self._lock:
            return self._propose(documents, now)

    def _propose(self, documents: Sequence[Document], now: datetime | None) -> Proposal:
        self.expire(now)
        assigned: dict[str, str] = {}
        rows: list[Row] = []
        for document in sorted(documents, key=lambda d: (_seen_at(d), d.id)):
            if document.id in assigned:
                continue
            known = self._known_story(document.id)
            if known is not None:
                assigned[document.id] = known
                continue
            joined = collapse(_document_text(document))
            seen_at = _seen_at(document)
            if joined.count(" ") + 1 < MIN_WORDS:
                story_id, blob = document.id, None
            else:
                minhash = collapsed_signature(joined)
                story_id = self._closest_story(minhash) or document.id
                self._remember(document.id, story_id, seen_at, minhash)
                blob = minhash.hashvalues.astype(_STORED).tobytes()
            assigned[document.id] = story_id
            rows.append((document.id, story_id, document.source_id, seen_at.isoformat(), blob))
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO story_pending VALUES (?, ?, ?, ?, ?)", rows
                )
        except sqlite3.Error:
            for item_id, *_rest in rows:  # memory must not run ahead of the file
                self._forget(item_id)
            raise
        stories = [d.model_copy(update={"story_id": assigned[d.id]}) for d in documents]
        return Proposal(stories, rows)

    def record(self, proposal: Proposal) -> None:
        """The proposal's items are stored: they count in their stories from now on."""
        with self._lock, self._db:
            self._promote(proposal.rows)

    def _promote(self, rows: Sequence[Row]) -> None:
        # OR IGNORE: another process (a one-off import) may have written the item first
        self._db.executemany("INSERT OR IGNORE INTO story_items VALUES (?, ?, ?, ?, ?)", rows)
        self._db.executemany("DELETE FROM story_pending WHERE item_id = ?", [r[:1] for r in rows])

    def settle(self, stored: Callable[[str], bool], item_ids: Iterable[str] | None = None) -> int:
        """Pending memberships (all, or those of ``item_ids``) become members when ``stored``
        says the store has the item, and are dropped otherwise: after a crash, or a batch the
        store refused. Returns how many were dropped. ``stored`` may raise (store away): what
        is still pending then waits for the next settling."""
        with self._lock:
            rows: list[Row] = self._db.execute("SELECT * FROM story_pending").fetchall()
            wanted = None if item_ids is None else set(item_ids)
            rows = [row for row in rows if wanted is None or row[0] in wanted]
            kept = [row for row in rows if stored(row[0])]
            kept_ids = {row[0] for row in kept}
            dropped = [row for row in rows if row[0] not in kept_ids]
            with self._db:
                self._promote(kept)
                self._db.executemany(
                    "DELETE FROM story_pending WHERE item_id = ?", [r[:1] for r in dropped]
                )
            for item_id, *_rest in dropped:
                self._forget(item_id)
            if self._loaded:
                for item_id, story_id, _source, seen_at, blob in kept:
                    if blob is not None and item_id not in self._signatures:
                        self._remember(
                            item_id, story_id, datetime.fromisoformat(seen_at), _unpacked(blob)
                        )
        if rows:
            log.info("story_memberships_settled", recorded=len(kept), dropped=len(dropped))
        return len(dropped)

    def expire(self, now: datetime | None = None) -> int:
        """Forget signatures older than the window; returns how many were forgotten."""
        with self._lock:
            self._load()
            return self._expire(now)

    def _expire(self, now: datetime | None) -> int:
        cutoff = (now or utc_now()) - self.window
        old = [item for item, seen in self._seen_of.items() if seen < cutoff]
        for item_id in old:
            self._forget(item_id)
        if old:
            with self._db:
                self._db.executemany(
                    "UPDATE story_items SET signature = NULL WHERE item_id = ?",
                    [(item_id,) for item_id in old],
                )
        return len(old)

    def stats(self, story_id: str, now: datetime | None = None) -> StoryStats | None:
        """The story's figures from what this index assigned; None for an unknown story."""
        return self.stats_for([story_id], now).get(story_id)

    def stats_for(
        self,
        story_ids: Iterable[str],
        now: datetime | None = None,
        proposal: Proposal | None = None,
    ) -> dict[str, StoryStats]:
        """Figures for many stories in one query; unknown ids are left out. Members only, and
        the ``proposal`` being stored when one is given (its items are classified in their
        stories before the store has them)."""
        ids = list(dict.fromkeys(story_ids))
        if not ids:
            return {}
        now = now or utc_now()
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT story_id, source_id, seen_at FROM story_items WHERE story_id IN ({marks})",
                ids,
            ).fetchall()
        if proposal is not None:
            wanted = set(ids)
            rows += [
                (story, source, seen)
                for _i, story, source, seen, _s in proposal.rows
                if story in wanted
            ]
        members: dict[str, list[tuple[str, datetime]]] = {}
        for story_id, source_id, seen_at in rows:
            members.setdefault(story_id, []).append((source_id, datetime.fromisoformat(seen_at)))
        return {sid: _stats(sid, items, now) for sid, items in members.items()}

    def _known_story(self, item_id: str) -> str | None:
        row = self._db.execute(
            "SELECT story_id FROM story_items WHERE item_id = ?", (item_id,)
        ).fetchone()
        return row[0] if row else None

    def _closest_story(self, minhash: MinHash) -> str | None:
        """The story of the most similar stored item at or above the threshold, if any."""
        best: tuple[float, datetime, str] | None = None
        for item_id in self._lsh.query(minhash):
            similarity = minhash.jaccard(self._signatures[item_id])
            if similarity < self.threshold:
                continue
            key = (-similarity, self._seen_of[item_id], item_id)
            if best is None or key < best:
                best = key
        return self._story_of[best[2]] if best else None

    def _remember(self, item_id: str, story_id: str, seen_at: datetime, minhash: MinHash) -> None:
        self._forget(item_id)  # the LSH refuses a key twice
        self._lsh.insert(item_id, minhash)
        self._signatures[item_id] = minhash
        self._story_of[item_id] = story_id
        self._seen_of[item_id] = seen_at.astimezone(UTC)

    def _forget(self, item_id: str) -> None:
        if item_id in self._signatures:
            self._lsh.remove(item_id)
            del self._signatures[item_id], self._story_of[item_id], self._seen_of[item_id]


def _stats(story_id: str, items: list[tuple[str, datetime]], now: datetime) -> StoryStats:
    times = [seen for _source, seen in items]
    day, six_hours = timedelta(hours=24), timedelta(hours=6)
    return StoryStats(
        story_id=story_id,
        first_seen=min(times),
        last_seen=max(times),
        size=len(items),
        sources=len({source for source, _seen in items}),
        items_last_24h=sum(now - day < t <= now for t in times),
        items_previous_24h=sum(now - 2 * day < t <= now - day for t in times),
        per_hour_6h=sum(now - six_hours < t <= now for t in times) / 6,
    )
