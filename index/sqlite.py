"""The embedded store: one SQLite file, FTS5 over the folded text.

A connection per operation keeps it safe to share between the API's worker threads and the
scheduler; WAL lets readers go on while a crawl writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from index.highlight import query_terms, snippet
from index.query import (
    CURSOR_START,
    Cursor,
    DayCount,
    QueueQuery,
    QueueStats,
    SearchHit,
    SearchPage,
    SearchQuery,
    StorySummary,
    TrendBucket,
    TrendQuery,
    encode_cursor,
)
from index.store import (
    REVIEW_LOG_FIELDS,
    CursorField,
    ItemNotFound,
    Store,
    UpsertResult,
    WriteOutcome,
    cursor_position,
    log_entry,
    published_content,
    reach,
)
from index.versions import rewrite
from index.workflow import next_review
from mediawatch.config import ReviewSettings
from mediawatch.model import (
    OPEN_STATES,
    Document,
    Review,
    ReviewCommand,
    ReviewState,
    utc_now,
)
from mediawatch.sqlite_files import check, connect, immediate

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY,  -- the rowid items_fts points at; explicit, so VACUUM keeps it
    id TEXT NOT NULL UNIQUE,
    source_id TEXT NOT NULL,
    event_time TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    content_hash TEXT,
    duplicate_of TEXT,
    sentiment TEXT,
    risk REAL NOT NULL DEFAULT 0,
    document TEXT NOT NULL,
    review_state TEXT NOT NULL DEFAULT 'new',
    review_outcome TEXT,
    reviewer TEXT,
    decided_at TEXT,
    review_note TEXT,
    review_version INTEGER NOT NULL DEFAULT 0,
    review TEXT,  -- the whole Review as JSON; the review_* columns above are what queries use
    assignee TEXT,
    due_at TEXT,
    reach REAL NOT NULL DEFAULT 0,
    source_tier TEXT,
    story_id TEXT
);
CREATE INDEX IF NOT EXISTS items_event_time ON items(event_time);
CREATE INDEX IF NOT EXISTS items_queue ON items(review_state, risk);
CREATE INDEX IF NOT EXISTS items_content_hash ON items(content_hash);
CREATE INDEX IF NOT EXISTS items_source ON items(source_id, fetched_at);
CREATE TABLE IF NOT EXISTS item_topics (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    PRIMARY KEY (item_id, topic)
);
CREATE INDEX IF NOT EXISTS item_topics_topic ON item_topics(topic);
CREATE TABLE IF NOT EXISTS item_claims (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    claim_id TEXT NOT NULL,
    PRIMARY KEY (item_id, claim_id)
);
CREATE INDEX IF NOT EXISTS items_story ON items(story_id);
CREATE TABLE IF NOT EXISTS item_places (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    place TEXT NOT NULL,
    PRIMARY KEY (item_id, place)
);
CREATE INDEX IF NOT EXISTS item_places_place ON item_places(place);
CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS review_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT,
    note TEXT,
    version INTEGER NOT NULL,
    state TEXT,
    evidence TEXT,  -- JSON list
    reason TEXT,
    agency TEXT,
    response TEXT,  -- JSON OfficialResponse
    taken_from TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS review_log_item_version ON review_log(item_id, version);
CREATE INDEX IF NOT EXISTS review_log_at ON review_log(at);
CREATE TRIGGER IF NOT EXISTS review_log_no_update BEFORE UPDATE ON review_log
BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS review_log_no_delete BEFORE DELETE ON review_log
BEGIN SELECT RAISE(ABORT, 'review_log is append-only'); END;
"""
# Columns added since the first schema, each with where an existing row's value comes from:
# a file made before them gets them by ALTER TABLE, filled from the stored documents.
_ADDED_COLUMNS: dict[str, dict[str, tuple[str, str | None]]] = {
    "items": {
        "review": ("TEXT", None),
        "assignee": ("TEXT", None),
        "due_at": ("TEXT", None),
        "reach": (
            "REAL NOT NULL DEFAULT 0",
            "coalesce(json_extract(document, '$.classification.signals.story_growth'), 0)",
        ),
        "source_tier": ("TEXT", "json_extract(document, '$.source_tier')"),
        "story_id": ("TEXT", "json_extract(document, '$.story_id')"),
    },
    "review_log": {
        name: ("TEXT", None)
        for name in ("state", "evidence", "reason", "agency", "response", "taken_from")
    },
}
# Tables added since, with how to fill them from the stored documents.
_ADDED_TABLES = {
    "item_claims": "INSERT OR IGNORE INTO item_claims (item_id, claim_id) "
    "SELECT items.id, json_extract(m.value, '$.claim_id') "
    "FROM items, json_each(items.document, '$.claim_matches') AS m",
    "item_places": "INSERT OR IGNORE INTO item_places (item_id, place) "
    "SELECT items.id, p.value FROM items, json_each(items.document, '$.places') AS p",
}


def _create_statement(table: str) -> str:
    return SCHEMA[SCHEMA.index(f"CREATE TABLE IF NOT EXISTS {table}") :].split(";")[0]


INDEXES = """
CREATE INDEX IF NOT EXISTS items_assignee ON items(assignee);
CREATE INDEX IF NOT EXISTS items_due ON items(review_state, due_at);
CREATE INDEX IF NOT EXISTS item_claims_claim ON item_claims(claim_id);
"""
_LOG_COLUMNS = ", ".join(REVIEW_LOG_FIELDS)
_LOG_MARKS = ", ".join(f":{name}" for name in REVIEW_LOG_FIELDS)


# What a trend splits by: (join, key expression).
_DIMENSIONS = {
    "topic": ("JOIN item_topics d ON d.item_id = items.id", "d.topic"),
    "place": ("JOIN item_places d ON d.item_id = items.id", "d.place"),
    "sentiment": ("", "items.sentiment"),
    "tier": ("", "items.source_tier"),
    "source": ("", "items.source_id"),
}
_BUCKET_START = {
    "day": "date(items.event_time, :shift) || 'T00:00:00'",
    "hour": "strftime('%Y-%m-%dT%H:00:00', items.event_time, :shift)",
}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


# Rows after the cursor's last hit, in the sort's own order (id breaks ties).
_KEYSET = {
    "newest": "(items.event_time < ? OR (items.event_time = ? AND items.id > ?))",
    "risk": "(items.risk < ? OR (items.risk = ? AND (items.event_time < ? OR "
    "(items.event_time = ? AND items.id > ?))))",
}

_CURSOR_FIELDS: dict[str, tuple[CursorField, ...]] = {
    "newest": ("iso_time", "id"),
    "risk": ("risk", "iso_time", "id"),
}


def _keyset_params(after: list[str | float]) -> list[str | float]:
    """[time, id] → time, time, id; [risk, time, id] → risk, risk, time, time, id."""
    if len(after) == 2:
        return [after[0], after[0], after[1]]
    return [after[0], after[0], after[1], after[1], after[2]]


def _fts_query(text: str | None) -> str | None:
    """Every folded word or quoted phrase must occur; quoting disarms FTS5 operators."""
    terms = query_terms(text)
    return " ".join(f'"{term}"' for term in terms) if terms else None


class SQLiteStore(Store):
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        check(path)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
            self._migrate(connection)
            connection.executescript(SCHEMA)
            connection.executescript(INDEXES)

    @staticmethod
    def _migrate(connection: sqlite3.Connection) -> None:
        """Bring a file written by an earlier version up to SCHEMA, in one transaction."""
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "items" not in tables:
            return  # a new file: SCHEMA creates everything
        connection.execute("BEGIN IMMEDIATE")
        for table, columns in _ADDED_COLUMNS.items():
            present = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
            for name, (kind, source) in columns.items():
                if name not in present:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                    if source:
                        connection.execute(f"UPDATE {table} SET {name} = {source}")
        for table, fill in _ADDED_TABLES.items():
            if table not in tables:
                connection.execute(_create_statement(table))
                connection.execute(fill)
        connection.execute("COMMIT")

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path, foreign_keys=True)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection, immediate(connection):
            yield connection

    # -- writing -------------------------------------------------------------------------

    def upsert(self, documents: Iterable[Document]) -> UpsertResult:
        outcomes: dict[str, WriteOutcome] = {}
        now = utc_now()
        # One transaction: a reviewer's claim cannot slip between reading the review state
        # and writing the content it protects.
        with self._transaction() as connection:
            for document in documents:
                row = connection.execute(
                    "SELECT * FROM items WHERE id = ?", (document.id,)
                ).fetchone()
                if row is None:
                    rowid = self._insert(connection, document, published_content(document))
                    outcomes[document.id] = "inserted"
                else:
                    written, outcomes[document.id] = rewrite(self._document(row), document, now)
                    if written is None:
                        continue
                    rowid, document = row["seq"], written
                    self._update(connection, rowid, document, published_content(document))
                self._index_text(connection, rowid, document)
        return UpsertResult.of(outcomes)

    @staticmethod
    def _columns(document: Document, content: dict) -> dict:
        classification = document.classification
        return {
            "id": document.id,
            "source_id": document.source_id,
            "event_time": _iso(document.event_time),
            "fetched_at": _iso(document.fetched_at),
            "content_hash": document.content_hash,
            "duplicate_of": document.duplicate_of,
            "sentiment": classification.sentiment.value if classification else None,
            "risk": classification.risk if classification else 0.0,
            "reach": reach(document),
            "source_tier": document.source_tier.value,
            "story_id": document.story_id,
            "document": json.dumps(content, ensure_ascii=False),
        }

    def _insert(self, connection: sqlite3.Connection, document: Document, content: dict) -> int:
        columns = self._columns(document, content)
        names = ", ".join(columns)
        marks = ", ".join(f":{name}" for name in columns)
        cursor = connection.execute(f"INSERT INTO items ({names}) VALUES ({marks})", columns)
        return int(cursor.lastrowid or 0)

    def _update(
        self, connection: sqlite3.Connection, rowid: int, document: Document, content: dict
    ) -> None:
        columns = self._columns(document, content)
        columns.pop("fetched_at")  # first seen stays first seen
        assignments = ", ".join(f"{name} = :{name}" for name in columns if name != "id")
        connection.execute(
            f"UPDATE items SET {assignments} WHERE seq = :rowid", columns | {"rowid": rowid}
        )

    @staticmethod
    def _index_text(connection: sqlite3.Connection, rowid: int, document: Document) -> None:
        connection.execute("DELETE FROM items_fts WHERE rowid = ?", (rowid,))
        connection.execute(
            "INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)",
            (rowid, document.title_folded or "", document.text_folded or ""),
        )
        connection.execute("DELETE FROM item_topics WHERE item_id = ?", (document.id,))
        topics = document.classification.topics if document.classification else []
        connection.executemany(
            "INSERT INTO item_topics (item_id, topic) VALUES (?, ?)",
            [(document.id, topic.id) for topic in topics],
        )
        connection.execute("DELETE FROM item_claims WHERE item_id = ?", (document.id,))
        connection.executemany(
            "INSERT OR IGNORE INTO item_claims (item_id, claim_id) VALUES (?, ?)",
            [(document.id, match.claim_id) for match in document.claim_matches],
        )
        connection.execute("DELETE FROM item_places WHERE item_id = ?", (document.id,))
        connection.executemany(
            "INSERT OR IGNORE INTO item_places (item_id, place) VALUES (?, ?)",
            [(document.id, place) for place in document.places],
        )

    # -- reading -------------------------------------------------------------------------

    @staticmethod
    def _document(row: sqlite3.Row) -> Document:
        data = json.loads(row["document"])
        data["fetched_at"] = row["fetched_at"]
        if row["review"]:
            data["review"] = Review.model_validate_json(row["review"])
        else:  # written before the whole review was kept
            data["review"] = Review(
                state=ReviewState(row["review_state"]),
                outcome=row["review_outcome"],
                reviewer=row["reviewer"],
                decided_at=row["decided_at"],
                note=row["review_note"],
                version=row["review_version"],
            )
        return Document.model_validate(data)

    def get(self, item_id: str) -> Document | None:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return self._document(row) if row else None

    def find_by_content_hash(self, content_hash: str) -> str | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT id FROM items WHERE content_hash = ? "
                "ORDER BY duplicate_of IS NOT NULL, fetched_at, id LIMIT 1",
                (content_hash,),
            ).fetchone()
        return row["id"] if row else None

    def known_ids(self, source_ids: Iterable[str], since: datetime) -> set[str]:
        sources = list(source_ids)
        if not sources:
            return set()
        marks = ", ".join("?" for _ in sources)
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT id FROM items WHERE source_id IN ({marks}) AND fetched_at >= ? "
                "AND json_extract(document, '$.extractor') != 'feed-summary'",
                [*sources, _iso(since)],
            ).fetchall()
        return {row["id"] for row in rows}

    def search(self, query: SearchQuery) -> SearchPage:
        clauses: list[str] = []
        params: list[object] = []
        match = _fts_query(query.text)
        if match:
            clauses.append("items_fts MATCH ?")
            params.append(match)
        if query.since:
            clauses.append("items.event_time >= ?")
            params.append(_iso(query.since))
        if query.until:
            clauses.append("items.event_time < ?")
            params.append(_iso(query.until))
        for column, values in (
            ("items.sentiment", [s.value for s in query.sentiments]),
            ("items.source_id", query.source_ids),
            ("items.review_outcome", [outcome.value for outcome in query.review_outcomes]),
        ):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if query.topics:
            marks = ", ".join("?" for _ in query.topics)
            clauses.append(
                f"items.id IN (SELECT item_id FROM item_topics WHERE topic IN ({marks}))"
            )
            params.extend(query.topics)
        if query.min_risk is not None:
            clauses.append("items.risk >= ?")
            params.append(query.min_risk)
        if query.review_state:
            clauses.append("items.review_state = ?")
            params.append(query.review_state.value)
        if not query.include_duplicates:
            clauses.append("items.duplicate_of IS NULL")
        order = {
            "newest": "items.event_time DESC, items.id",
            "risk": "items.risk DESC, items.event_time DESC, items.id",
            "relevance": ("bm25(items_fts), " if match else "") + "items.event_time DESC, items.id",
        }[query.sort]
        keyset = None
        if query.cursor not in (None, CURSOR_START):
            position = cursor_position(query.cursor, _CURSOR_FIELDS[query.sort])
            keyset = _KEYSET[query.sort], position.after
        page = self._page(clauses, params, order, query.limit, query.offset, query.text, keyset)
        if query.cursor is not None and len(page.hits) == query.limit:
            last = page.hits[-1].document
            after: list[str | float] = [_iso(last.event_time), last.id]
            if query.sort == "risk":
                after.insert(0, last.classification.risk if last.classification else 0.0)
            page.next_cursor = encode_cursor(Cursor(after=after))
        return page

    def _page(
        self,
        clauses: list[str],
        params: list[object],
        order: str,
        limit: int,
        offset: int,
        text: str | None,
        keyset: tuple[str, list[str | float]] | None = None,
    ) -> SearchPage:
        """One page; ``keyset`` (clause, values) narrows the rows, never the total."""
        source = "items JOIN items_fts ON items_fts.rowid = items.seq"
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        row_where, row_params = where, list(params)
        if keyset:
            clause, values = keyset
            row_where = f"{where} AND {clause}" if where else f"WHERE {clause}"
            row_params += _keyset_params(values)
        with self._connect() as connection:
            total = connection.execute(f"SELECT count(*) FROM {source} {where}", params).fetchone()
            rows = connection.execute(
                f"SELECT items.* FROM {source} {row_where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*row_params, limit, offset],
            ).fetchall()
        terms = query_terms(text)
        hits = []
        for row in rows:
            document = self._document(row)
            hits.append(SearchHit(document=document, snippet=snippet(document.text, terms)))
        return SearchPage(total=total[0], limit=limit, offset=offset, hits=hits)

    @staticmethod
    def _queue_clauses(threshold: float) -> tuple[list[str], list[object]]:
        return [
            "items.duplicate_of IS NULL",
            "(items.risk >= ? OR EXISTS (SELECT 1 FROM item_claims c WHERE c.item_id = items.id))",
        ], [threshold]

    @staticmethod
    def _overdue(now: datetime, rules: ReviewSettings) -> tuple[str, list[object]]:
        """Past the target time; an item nobody touched is due a first look from when we
        first saw it (workflow.effective_due says the same)."""
        deadlines = rules.deadlines
        return (
            "((items.due_at IS NOT NULL AND items.due_at < ?) OR (items.due_at IS NULL "
            "AND items.review_state = 'new' AND ((items.risk >= ? AND items.fetched_at < ?) "
            "OR (items.risk < ? AND items.fetched_at < ?))))"
        ), [
            _iso(now),
            rules.high_risk,
            _iso(now - timedelta(minutes=deadlines.first_look_high_risk)),
            rules.high_risk,
            _iso(now - timedelta(minutes=deadlines.first_look)),
        ]

    def review_queue(self, query: QueueQuery, now: datetime, rules: ReviewSettings) -> SearchPage:
        clauses, params = self._queue_clauses(query.threshold)
        states = [state.value for state in query.states]
        for column, values in (
            ("items.review_state", states),
            ("items.source_id", query.source_ids),
        ):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if query.topics:
            marks = ", ".join("?" for _ in query.topics)
            clauses.append(
                f"items.id IN (SELECT item_id FROM item_topics WHERE topic IN ({marks}))"
            )
            params.extend(query.topics)
        if query.places:
            marks = ", ".join("?" for _ in query.places)
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(items.document, '$.places') AS place "
                f"WHERE place.value IN ({marks}))"
            )
            params.extend(query.places)
        if query.assignee:
            clauses.append("items.assignee = ?")
            params.append(query.assignee)
        if query.overdue:
            clause, values = self._overdue(now, rules)
            clauses.append(clause)
            params.extend(values)
        return self._page(
            clauses,
            params,
            "items.risk DESC, items.reach DESC, items.fetched_at, items.id",
            query.limit,
            query.offset,
            None,
        )

    def queue_stats(self, threshold: float, now: datetime, rules: ReviewSettings) -> QueueStats:
        clauses, params = self._queue_clauses(threshold)
        overdue, overdue_params = self._overdue(now, rules)
        where = " AND ".join(clauses)
        open_states = ", ".join(f"'{state.value}'" for state in OPEN_STATES)
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT review_state AS state, count(*) AS n, sum({overdue}) AS late "
                f"FROM items WHERE {where} GROUP BY review_state",
                [*overdue_params, *params],
            ).fetchall()
            oldest = connection.execute(
                f"SELECT min(fetched_at) FROM items WHERE {where} "
                f"AND review_state IN ({open_states})",
                params,
            ).fetchone()[0]
        return QueueStats(
            by_state={row["state"]: row["n"] for row in rows},
            overdue={row["state"]: row["late"] for row in rows if row["late"]},
            oldest_waiting=oldest,
        )

    @staticmethod
    def _trend_filters(query: TrendQuery) -> tuple[list[str], dict[str, object]]:
        """WHERE clauses and named parameters for a trend query's window and filters."""
        clauses = ["items.event_time >= :since", "items.event_time < :until"]
        params: dict[str, object] = {"since": _iso(query.since), "until": _iso(query.until)}
        lists = {
            "sentiment": ("items.sentiment IN ({})", [s.value for s in query.sentiments]),
            "tier": ("items.source_tier IN ({})", [t.value for t in query.tiers]),
            "source": ("items.source_id IN ({})", query.source_ids),
            "topic": (
                "items.id IN (SELECT item_id FROM item_topics WHERE topic IN ({}))",
                query.topics,
            ),
            "place": (
                "items.id IN (SELECT item_id FROM item_places WHERE place IN ({}))",
                query.places,
            ),
        }
        for name, (clause, values) in lists.items():
            if values:
                marks = [f":{name}{i}" for i in range(len(values))]
                clauses.append(clause.format(", ".join(marks)))
                params |= {mark[1:]: value for mark, value in zip(marks, values, strict=True)}
        match = _fts_query(query.text)
        if match:
            clauses.append("items.seq IN (SELECT rowid FROM items_fts WHERE items_fts MATCH :text)")
            params["text"] = match
        return clauses, params

    def trend_counts(self, query: TrendQuery, timezone: str) -> list[TrendBucket]:
        zone = ZoneInfo(timezone)
        offset = zone.utcoffset(query.until) or timedelta()
        join, key = _DIMENSIONS[query.dimension]
        clauses, params = self._trend_filters(query)
        start = _BUCKET_START[query.interval]
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {start} AS start, {key} AS key, count(*) AS n FROM items {join} "
                f"WHERE {' AND '.join(clauses)} AND {key} IS NOT NULL "
                "GROUP BY start, key ORDER BY start, key",
                params | {"shift": f"{int(offset.total_seconds())} seconds"},
            ).fetchall()
        return [
            TrendBucket(
                start=datetime.fromisoformat(row["start"]).replace(tzinfo=zone),
                key=row["key"],
                count=row["n"],
            )
            for row in rows
        ]

    def top_stories(self, query: TrendQuery, limit: int = 10) -> list[StorySummary]:
        clauses, params = self._trend_filters(query)
        where = " AND ".join([*clauses, "items.story_id IS NOT NULL"])
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT story_id, count(*) AS n, count(DISTINCT source_id) AS sources, "
                "min(event_time) AS first, max(event_time) AS last FROM items "
                f"WHERE {where} GROUP BY story_id ORDER BY n DESC, story_id LIMIT :limit",
                params | {"limit": limit},
            ).fetchall()
            stories = []
            for row in rows:
                first = connection.execute(
                    "SELECT json_extract(document, '$.title') FROM items "
                    f"WHERE {where} AND items.story_id = :story ORDER BY event_time, id LIMIT 1",
                    params | {"story": row["story_id"]},
                ).fetchone()
                stories.append(
                    StorySummary(
                        story_id=row["story_id"],
                        items=row["n"],
                        sources=row["sources"],
                        first_seen=row["first"],
                        last_seen=row["last"],
                        title=first[0],
                    )
                )
        return stories

    def source_day_counts(self, since: datetime, until: datetime, timezone: str) -> list[DayCount]:
        offset = ZoneInfo(timezone).utcoffset(until) or timedelta()
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT date(fetched_at, ?) AS day, source_id AS key, count(*) AS n FROM items "
                "WHERE fetched_at >= ? AND fetched_at < ? GROUP BY day, key ORDER BY day, key",
                [f"{int(offset.total_seconds())} seconds", _iso(since), _iso(until)],
            ).fetchall()
        return [DayCount(day=r["day"], key=r["key"], count=r["n"]) for r in rows]

    # -- reviewing -----------------------------------------------------------------------

    def apply_review(
        self,
        item_id: str,
        command: ReviewCommand,
        actor: str,
        rules: ReviewSettings,
        override: bool = False,
        now: datetime | None = None,
    ) -> Document:
        # BEGIN IMMEDIATE takes the write lock before reading: two reviewers are served one
        # after the other, and the second sees the first one's step.
        with self._transaction() as connection:
            row = connection.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise ItemNotFound(item_id)
            current = self._document(row)
            transition = next_review(
                item_id,
                current.review,
                command,
                actor,
                now or utc_now(),
                row["risk"],
                current.fetched_at,
                rules,
                override,
            )
            self._write_review(connection, item_id, transition.review)
            connection.execute(
                f"INSERT INTO review_log ({_LOG_COLUMNS}) VALUES ({_LOG_MARKS})",
                self._log_row(log_entry(transition.entry)),
            )
        return current.model_copy(update={"review": transition.review})

    @staticmethod
    def _write_review(connection: sqlite3.Connection, item_id: str, review: Review) -> None:
        connection.execute(
            "UPDATE items SET review = ?, review_state = ?, review_outcome = ?, reviewer = ?, "
            "decided_at = ?, review_note = ?, review_version = ?, assignee = ?, due_at = ? "
            "WHERE id = ?",
            (
                review.model_dump_json(),
                review.state.value,
                review.outcome.value if review.outcome else None,
                review.reviewer,
                _iso(review.decided_at) if review.decided_at else None,
                review.note,
                review.version,
                review.assignee,
                _iso(review.due_at) if review.due_at else None,
                item_id,
            ),
        )

    @staticmethod
    def _log_row(entry: dict) -> dict:
        """JSON for the list and the response; the rest as they are."""
        return entry | {
            "evidence": json.dumps(entry["evidence"], ensure_ascii=False),
            "response": json.dumps(entry["response"], ensure_ascii=False)
            if entry["response"]
            else None,
        }

    @staticmethod
    def _log_entry(row: sqlite3.Row) -> dict:
        raw = dict(row)
        raw["evidence"] = json.loads(raw["evidence"]) if raw["evidence"] else []
        raw["response"] = json.loads(raw["response"]) if raw["response"] else None
        return log_entry(raw)

    def export_documents(self) -> Iterator[Document]:
        with self._connect() as connection:
            for row in connection.execute("SELECT * FROM items ORDER BY seq"):
                yield self._document(row)

    def import_documents(self, documents: Iterable[Document]) -> UpsertResult:
        batch = list(documents)
        result = self.upsert(batch)
        with self._transaction() as connection:
            for document in batch:
                self._write_review(connection, document.id, document.review)
                connection.execute(
                    "UPDATE items SET fetched_at = ? WHERE id = ?",
                    (_iso(document.fetched_at), document.id),
                )
        return result

    def export_review_log(self) -> Iterator[dict]:
        with self._connect() as connection:
            for row in connection.execute(f"SELECT {_LOG_COLUMNS} FROM review_log ORDER BY seq"):
                yield self._log_entry(row)

    def import_review_log(self, entries: Iterable[dict]) -> int:
        rows = [self._log_row(log_entry(entry)) for entry in entries]
        with self._transaction() as connection:
            connection.executemany(
                f"INSERT OR IGNORE INTO review_log ({_LOG_COLUMNS}) VALUES ({_LOG_MARKS})", rows
            )
        return len(rows)

    def review_log_since(self, since: datetime) -> Iterator[dict]:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_LOG_COLUMNS} FROM review_log WHERE at >= ? ORDER BY seq",
                (since.astimezone(UTC).isoformat(timespec="seconds"),),
            ).fetchall()
        return iter([self._log_entry(row) for row in rows])

    def review_log(self, item_id: str) -> list[dict]:
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_LOG_COLUMNS} FROM review_log WHERE item_id = ? ORDER BY seq",
                (item_id,),
            ).fetchall()
        return [self._log_entry(row) for row in rows]
