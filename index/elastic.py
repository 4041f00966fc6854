"""The production store: Elasticsearch 8 through elasticsearch-py.

Everything here works on the minimal server distribution (no analysis-common, no painless,
no ingest, no update-by-query): text is folded in Python before it is indexed, updates are
partial documents, and a review decision is a compare-and-set on ``_seq_no``.

Items live in monthly indices (``<prefix>-items-YYYY.MM``) created from one composable
template; new items are written through a write alias pointing at the current month, and
every month is read through one read alias, so retention is deleting old months.

Fields derived from the stored ``document`` carry ``fields_version``: on start, items written
before a field existed are filled in Python (no update-by-query here), in bounded batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import wraps
from itertools import chain
from typing import Any, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import structlog
from elasticsearch import (
    ApiError,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
    helpers,
)
from elasticsearch import TransportError as ElasticTransportError
from elasticsearch import __versionstr__ as client_version

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
    CursorExpired,
    CursorField,
    ItemNotFound,
    Store,
    StoreError,
    StoreUnavailable,
    UpsertResult,
    WriteOutcome,
    cursor_position,
    log_entry,
    published_content,
    reach,
    review_entry_id,
)
from index.versions import rewrite
from index.workflow import next_review
from mediawatch.config import ElasticsearchSettings, ReviewSettings
from mediawatch.model import OPEN_STATES, Document, Review, ReviewCommand, utc_now

log = structlog.get_logger("index.elastic")

CURSOR_KEEP_ALIVE = "5m"
# A cursor's sort values: the sort's, then the tiebreaker a point in time adds.
_CURSOR_FIELDS: dict[str, tuple[CursorField, ...]] = {
    "newest": ("ms_time", "id", "shard_doc"),
    "risk": ("risk", "ms_time", "id", "shard_doc"),
}
# Raise when _fields derives something new from the document: start-up fills older items.
FIELDS_VERSION = 2
BACKFILL_BATCH = 500
_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}

ITEM_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "source_id": _KEYWORD,
        "source_tier": _KEYWORD,
        "title_folded": {"type": "text"},
        "text_folded": {"type": "text"},
        "event_time": _DATE,
        "fetched_at": _DATE,
        "content_hash": _KEYWORD,
        "duplicate_of": _KEYWORD,
        "extractor": _KEYWORD,
        "date_source": _KEYWORD,
        "language": _KEYWORD,
        "places": _KEYWORD,
        "story_id": _KEYWORD,
        "topics": _KEYWORD,
        "sentiment": _KEYWORD,
        "section": _KEYWORD,
        "toxicity": {"type": "float"},
        "risk": {"type": "float"},
        "reasons": {
            "type": "nested",
            "properties": {"code": _KEYWORD, "weight": {"type": "float"}},
        },
        "document": {"type": "object", "enabled": False},
        "review_state": _KEYWORD,
        "review_outcome": _KEYWORD,
        "reviewer": _KEYWORD,
        "decided_at": _DATE,
        "review_note": {"type": "text", "index": False},
        "review_version": {"type": "integer"},
        "review": {"type": "object", "enabled": False},  # the whole Review, as JSON
        "assignee": _KEYWORD,
        "due_at": _DATE,
        "reach": {"type": "float"},
        "claim_ids": _KEYWORD,
        "fields_version": {"type": "integer"},
        # The last review step's log entry, written in the same compare-and-set as the
        # step and copied to the review log after it; "unlogged" (its version, searchable)
        # says it waits to be copied, and both are cleared once it is.
        "review_entry": {"type": "object", "enabled": False},
        "unlogged": {"type": "integer"},
    },
}
LOG_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "item_id": _KEYWORD,
        "at": _DATE,
        "reviewer": _KEYWORD,
        "action": _KEYWORD,
        "outcome": _KEYWORD,
        "note": {"type": "text", "index": False},
        "version": {"type": "integer"},
        "state": _KEYWORD,
        "evidence": {"type": "keyword", "index": False},
        "reason": {"type": "text", "index": False},
        "agency": _KEYWORD,
        "response": {"type": "object", "enabled": False},
        "taken_from": _KEYWORD,
    },
}


@contextmanager
def _availability() -> Iterator[None]:
    """Connection trouble, 429 and 5xx mean "not now" (spool and retry); 4xx means "never"."""
    try:
        yield
    except ApiError as error:
        if error.meta.status == 429 or error.meta.status >= 500:
            raise StoreUnavailable(f"Elasticsearch unavailable: {error}") from error
        raise StoreError(f"Elasticsearch refused the request: {error}") from error
    except ElasticTransportError as error:
        raise StoreUnavailable(f"Elasticsearch unavailable: {error}") from error


P = ParamSpec("P")
R = TypeVar("R")


def _available(
    method: Callable[Concatenate[ElasticStore, P], R],
) -> Callable[Concatenate[ElasticStore, P], R]:
    """Every public operation: set up if the server was away at start, and translate
    transport trouble into StoreUnavailable (spool, 503) and refusals into StoreError."""

    @wraps(method)
    def guarded(self: ElasticStore, *args: P.args, **kwargs: P.kwargs) -> R:
        with _availability():
            self._ensure_ready()
            return method(self, *args, **kwargs)

    return guarded


# Which keyword field a trend dimension splits by.
_TREND_FIELDS = {
    "topic": "topics",
    "place": "places",
    "sentiment": "sentiment",
    "tier": "source_tier",
    "source": "source_id",
}


def _phrases(text: str | None) -> list[dict]:
    """Every folded word or quoted phrase of ``text`` must occur in the title or the body."""
    return [
        {
            "multi_match": {
                "query": term,
                "type": "phrase",
                "fields": ["title_folded", "text_folded"],
            }
        }
        for term in query_terms(text)
    ]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


class ElasticStore(Store):
    def __init__(
        self, settings: ElasticsearchSettings, client: Elasticsearch | None = None
    ) -> None:
        self.settings = settings
        prefix = settings.index_prefix
        self.read_alias = f"{prefix}-items"
        self.write_alias = f"{prefix}-items-write"
        self.log_index = f"{prefix}-review-log"
        self.client = client or Elasticsearch(
            settings.urls,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            basic_auth=(
                (settings.username, settings.password.get_secret_value())
                if settings.username and settings.password
                else None
            ),
            ca_certs=str(settings.ca_certs) if settings.ca_certs else None,
            request_timeout=settings.timeout_s,
            retry_on_timeout=True,
            max_retries=3,
        )
        self._known_indices: set[str] = set()
        self._write_index: str | None = None
        self._ready = False
        with suppress(StoreUnavailable):  # server away at start: writes spool, set-up retried
            self._ensure_ready()

    def _ensure_ready(self) -> None:
        if not self._ready:
            self._check_versions()
            with _availability():
                self._install_templates()
            self._ready = True

    # -- set-up ----------------------------------------------------------------------------

    def _check_versions(self) -> None:
        """Every node's major version must be the client's (GET / is absent on the minimal zip)."""
        try:
            nodes = self.client.nodes.info(filter_path="nodes.*.version")
        except ApiError as error:
            if error.meta.status in (401, 403):
                raise StoreError(
                    f"Elasticsearch at {self.settings.urls} refused our credentials "
                    f"({error.meta.status}): check the API key or user, and the monitor privilege"
                ) from error
            raise StoreError(f"Elasticsearch at {self.settings.urls} answered: {error}") from error
        except ElasticTransportError as error:
            raise StoreUnavailable(
                f"Elasticsearch at {self.settings.urls} is not reachable: {error}"
            ) from error
        versions = {node["version"] for node in nodes["nodes"].values()}
        client_major = client_version.split(".")[0]
        for version in versions:
            if version.split(".")[0] != client_major:
                raise StoreError(
                    f"Elasticsearch server {version} does not match client {client_version}: "
                    f"install elasticsearch>={version.split('.')[0]},<"
                    f"{int(version.split('.')[0]) + 1} or use a {client_major}.x server"
                )

    def _install_templates(self) -> None:
        prefix = self.settings.index_prefix
        self.client.indices.put_index_template(
            name=f"{prefix}-items",
            index_patterns=[f"{prefix}-items-*"],
            template={
                "settings": {
                    "auto_expand_replicas": self.settings.replicas,
                    "max_result_window": 10_200,
                },
                "mappings": ITEM_MAPPINGS,
                "aliases": {self.read_alias: {}},
            },
            priority=100,
        )
        # Indices made under an older template learn the fields added since (adding is safe).
        self.client.indices.put_mapping(
            index=f"{prefix}-items-*",
            properties=ITEM_MAPPINGS["properties"],
            allow_no_indices=True,
        )
        self._create_index(
            self.log_index,
            settings={"auto_expand_replicas": self.settings.replicas},
            mappings=LOG_MAPPINGS,
        )
        self.client.indices.put_mapping(index=self.log_index, properties=LOG_MAPPINGS["properties"])
        self._backfill()

    def _backfill(self) -> None:
        """Fill the derived fields (reach, source_tier, story_id…) of items written before
        they existed, from each item's stored ``document``, as SQLite's _migrate does.

        Batches of BACKFILL_BATCH partial updates, each a compare-and-set: an item another
        worker rewrote meanwhile has its fields already, or is tried again next round.
        Stops when nothing is left, or when a round fills nothing (logged)."""
        outdated = {"bool": {"must_not": [{"range": {"fields_version": {"gte": FIELDS_VERSION}}}]}}
        filled = 0
        while True:
            response = self.client.search(
                index=self.read_alias,
                query=outdated,
                size=BACKFILL_BATCH,
                seq_no_primary_term=True,
                ignore_unavailable=True,
            )
            hits = response["hits"]["hits"]
            if not hits:
                break
            actions = [
                {
                    "_op_type": "update",
                    "_index": hit["_index"],
                    "_id": hit["_id"],
                    "if_seq_no": hit["_seq_no"],
                    "if_primary_term": hit["_primary_term"],
                    "doc": self._fields(self._document(hit["_source"])),
                }
                for hit in hits
            ]
            _, errors = helpers.bulk(
                self.client, actions, refresh=True, raise_on_error=False, max_retries=5
            )
            statuses = [next(iter(error.values())).get("status", 500) for error in errors]
            refused = [status for status in statuses if status != 409]
            if refused:
                transient = any(status == 429 or status >= 500 for status in refused)
                raise (StoreUnavailable if transient else StoreError)(
                    f"filling new fields of {len(refused)} older items failed, first: "
                    f"{json.dumps(errors[statuses.index(refused[0])], ensure_ascii=False)[:500]}"
                )
            if len(errors) == len(actions):
                log.warning("elastic.backfill_stalled", filled=filled, left=len(hits))
                break
            filled += len(actions) - len(errors)
        if filled:
            log.info("elastic.backfill", filled=filled, fields_version=FIELDS_VERSION)

    def _create_index(self, index: str, **body: Any) -> None:
        """Create unless it exists; several workers starting at once all get here."""
        if index in self._known_indices:
            return
        try:
            self.client.indices.create(index=index, **body)
        except BadRequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
        self._known_indices.add(index)

    def _month_index(self, moment: datetime) -> str:
        return f"{self.settings.index_prefix}-items-{moment.astimezone(UTC):%Y.%m}"

    def _index_for_new(self, document: Document) -> str:
        """The month the item was first seen: re-crawls land now, a rebuild keeps old months."""
        index = self._month_index(document.fetched_at)
        if index != self._month_index(utc_now()):
            self._create_index(index)
            return index
        return self._current_write_index()

    def _current_write_index(self) -> str:
        """Point the write alias at this month's index, creating it when the month turns."""
        index = self._month_index(utc_now())
        if self._write_index == index:
            return self.write_alias
        self._create_index(index)
        try:
            current = set(self.client.indices.get_alias(name=self.write_alias))
        except NotFoundError:
            current = set()
        if current != {index}:
            actions: list[dict] = [
                {"remove": {"index": old, "alias": self.write_alias, "must_exist": False}}
                for old in current - {index}
            ]
            actions.append(
                {"add": {"index": index, "alias": self.write_alias, "is_write_index": True}}
            )
            self.client.indices.update_aliases(actions=actions)
        self._write_index = index
        return self.write_alias

    def delete_everything(self) -> None:
        """Drop this prefix's indices and template (tests and rebuilds only)."""
        prefix = self.settings.index_prefix
        # By name: servers refuse wildcard deletes (action.destructive_requires_name).
        names = list(
            self.client.indices.get(
                index=f"{prefix}-items-*,{self.log_index}",
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        )
        if names:
            self.client.indices.delete(index=",".join(names))
        self.client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-items")

    # -- writing -----------------------------------------------------------------------------

    @staticmethod
    def _fields(document: Document) -> dict[str, Any]:
        classification = document.classification
        content = published_content(document)
        return {
            "id": document.id,
            "source_id": document.source_id,
            "source_tier": document.source_tier.value,
            "title_folded": document.title_folded or "",
            "text_folded": document.text_folded or "",
            "event_time": _iso(document.event_time),
            "content_hash": document.content_hash,
            "duplicate_of": document.duplicate_of,
            "extractor": document.extractor,
            "date_source": document.date_source,
            "language": document.language,
            "places": document.places,
            "story_id": document.story_id,
            "topics": [t.id for t in classification.topics] if classification else [],
            "sentiment": classification.sentiment.value if classification else None,
            "section": classification.section if classification else None,
            "toxicity": classification.toxicity_probability if classification else None,
            "risk": classification.risk if classification else 0.0,
            "reach": reach(document),
            "claim_ids": [match.claim_id for match in document.claim_matches],
            "fields_version": FIELDS_VERSION,
            "reasons": [
                {"code": r.code, "weight": r.weight}
                for r in (classification.reasons if classification else [])
            ],
            "document": content,
        }

    def _existing(self, ids: list[str]) -> dict[str, dict]:
        """Stored items by id: their index, what ``_document`` needs, and the sequence
        number an update is conditional on."""
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            response = self.client.search(
                index=self.read_alias,
                query={"ids": {"values": chunk}},
                size=len(chunk),
                source_excludes=["title_folded", "text_folded", "review_entry"],
                seq_no_primary_term=True,
                ignore_unavailable=True,
            )
            for hit in response["hits"]["hits"]:
                found[hit["_id"]] = hit
        return found

    @_available
    def upsert(self, documents: Iterable[Document]) -> UpsertResult:
        return self._upsert(documents, keep_review=False)

    @_available
    def import_documents(self, documents: Iterable[Document]) -> UpsertResult:
        return self._upsert(documents, keep_review=True)

    @staticmethod
    def _review_fields(review: Review) -> dict[str, Any]:
        return {
            "review_state": review.state.value,
            "review_outcome": review.outcome.value if review.outcome else None,
            "reviewer": review.reviewer,
            "decided_at": _iso(review.decided_at) if review.decided_at else None,
            "review_note": review.note,
            "review_version": review.version,
            "review": review.model_dump(mode="json"),
            "assignee": review.assignee,
            "due_at": _iso(review.due_at) if review.due_at else None,
        }

    def _upsert(self, documents: Iterable[Document], keep_review: bool) -> UpsertResult:
        batch = {document.id: document for document in documents}  # last one wins
        if not batch:
            return UpsertResult()
        existing = self._existing(list(batch))
        actions: list[dict[str, Any]] = []
        outcomes: dict[str, WriteOutcome] = {}
        now = utc_now()
        for item_id, document in batch.items():
            before = existing.get(item_id)
            if before is None:
                fields = self._fields(document) | {"fetched_at": _iso(document.fetched_at)}
                fields |= self._review_fields(document.review if keep_review else Review())
                actions.append(
                    {
                        "_op_type": "create",
                        "_index": self._index_for_new(document),
                        "_id": item_id,
                        "_source": fields,
                    }
                )
                outcomes[item_id] = "inserted"
                continue
            if keep_review:  # a migration writes what it is given
                written: Document | None = document
                outcomes[item_id] = "updated"
                extra = self._review_fields(document.review)
                extra["fetched_at"] = _iso(document.fetched_at)
            else:
                written, outcomes[item_id] = rewrite(
                    self._document(before["_source"]), document, now
                )
                extra = {}
            if written is None:
                continue
            # Conditional on the version read: a reviewer's claim in between makes it a 409,
            # and the item is read and judged again below.
            actions.append(
                {
                    "_op_type": "update",
                    "_index": before["_index"],
                    "_id": item_id,
                    "if_seq_no": before["_seq_no"],
                    "if_primary_term": before["_primary_term"],
                    "doc": self._fields(written) | extra,
                }
            )
        conflicted = self._bulk(actions)
        result = UpsertResult.of({k: v for k, v in outcomes.items() if k not in conflicted})
        if conflicted:
            # Written moments ago and not yet searchable (or by another worker), or changed
            # since it was read: now that it is, compare and write it like any stored item.
            self.client.indices.refresh(index=self.read_alias)
            result += self._upsert([batch[item_id] for item_id in conflicted], keep_review)
        return result

    def _stream(self, actions: list[dict[str, Any]], refresh: bool | str) -> Iterator[tuple]:
        if not actions:
            return iter(())
        return helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=self.settings.bulk_chunk,
            max_retries=5,
            initial_backoff=1,
            raise_on_error=False,
            raise_on_exception=True,
            refresh=refresh,
        )

    def _bulk(self, actions: list[dict[str, Any]], refresh: bool | str | None = None) -> set[str]:
        """Retries 429s with backoff; any item that still fails is reported, never dropped.

        A create answered 409 found the item already there (a retried request, another
        worker, or a write not yet searchable), a conditional update answered 409 found it
        changed since it was read: their ids are returned for the caller to handle. Items
        refused for 429/5xx mean "not now" (StoreUnavailable: the caller spools the batch,
        and idempotent upserts make the replay harmless); any other refusal is a real error.
        """
        if not actions:
            return set()
        failures = []
        transient = 0
        existed: set[str] = set()
        # With refresh_writes, only the last request waits for a refresh: that makes
        # everything before it searchable too, without a refresh per chunk. ``refresh``
        # overrides that for the last request.
        if refresh is None:
            refresh = "wait_for" if self.settings.refresh_writes else False
        split = max(len(actions) - self.settings.bulk_chunk, 0)
        results = chain(
            self._stream(actions[:split], refresh=False),
            self._stream(actions[split:], refresh=refresh),
        )
        for ok, result in results:
            if ok:
                continue
            operation, outcome = next(iter(result.items()))
            status = outcome.get("status", 500)
            if operation in {"create", "update"} and status == 409:
                existed.add(outcome["_id"])
                continue
            failures.append(result)
            transient += status == 429 or status >= 500
        if transient:
            raise StoreUnavailable(
                f"{transient} of {len(actions)} writes refused for now (429/5xx), first: "
                f"{json.dumps(failures[0], ensure_ascii=False)[:500]}"
            )
        if failures:
            raise StoreError(
                f"{len(failures)} of {len(actions)} writes failed, first: "
                f"{json.dumps(failures[0], ensure_ascii=False)[:500]}"
            )
        return existed

    # -- reading -----------------------------------------------------------------------------

    @staticmethod
    def _document(source: dict) -> Document:
        data = dict(source["document"])
        data["fetched_at"] = source["fetched_at"]
        if source.get("review"):
            data["review"] = Review.model_validate(source["review"])
        else:  # written before the whole review was kept
            data["review"] = Review(
                state=source["review_state"],
                outcome=source.get("review_outcome"),
                reviewer=source.get("reviewer"),
                decided_at=source.get("decided_at"),
                note=source.get("review_note"),
                version=source["review_version"],
            )
        return Document.model_validate(data)

    def _hit(self, item_id: str) -> dict | None:
        response = self.client.search(
            index=self.read_alias,
            query={"ids": {"values": [item_id]}},
            size=1,
            seq_no_primary_term=True,
            ignore_unavailable=True,
        )
        hits = response["hits"]["hits"]
        return hits[0] if hits else None

    @_available
    def get(self, item_id: str) -> Document | None:
        hit = self._hit(item_id)
        return self._document(hit["_source"]) if hit else None

    @_available
    def find_by_content_hash(self, content_hash: str) -> str | None:
        """The original already chosen, else the earliest seen: the same rule as SQLite."""
        response = self.client.search(
            index=self.read_alias,
            query={"term": {"content_hash": content_hash}},
            size=1,
            sort=[
                {"duplicate_of": {"order": "asc", "missing": "_first"}},
                {"fetched_at": "asc"},
                {"id": "asc"},
            ],
            source_includes=["id"],
            ignore_unavailable=True,
        )
        hits = response["hits"]["hits"]
        return hits[0]["_id"] if hits else None

    def _iterate(
        self, query: dict, fields: list[str], index: str | None = None, sort: list | None = None
    ) -> Iterator[dict]:
        """Every match (all fields if ``fields`` is empty), in pages, through a point in time
        and search_after, so deep paging neither skips nor repeats."""
        try:
            pit = self.client.open_point_in_time(index=index or self.read_alias, keep_alive="2m")[
                "id"
            ]
        except NotFoundError:
            return
        search_after = None
        try:
            while True:
                response = self.client.search(
                    pit={"id": pit, "keep_alive": "2m"},
                    query=query,
                    size=1000,
                    sort=sort or [{"id": "asc"}],
                    search_after=search_after,
                    source_includes=fields or None,
                )
                hits = response["hits"]["hits"]
                if not hits:
                    return
                pit = response.get("pit_id", pit)
                yield from (hit["_source"] for hit in hits)
                search_after = hits[-1]["sort"]
        finally:
            self.client.close_point_in_time(id=pit)

    @_available
    def known_ids(self, source_ids: Iterable[str], since: datetime) -> set[str]:
        sources = list(source_ids)
        if not sources:
            return set()
        query = {
            "bool": {
                "filter": [
                    {"terms": {"source_id": sources}},
                    {"range": {"fetched_at": {"gte": _iso(since)}}},
                ],
                "must_not": [{"term": {"extractor": "feed-summary"}}],
            }
        }
        return {source["id"] for source in self._iterate(query, ["id"])}

    @_available
    def search(self, query: SearchQuery) -> SearchPage:
        must: list[dict] = []
        filters: list[dict] = []
        terms = query_terms(query.text)
        must += _phrases(query.text)
        time_range = {}
        if query.since:
            time_range["gte"] = _iso(query.since)
        if query.until:
            time_range["lt"] = _iso(query.until)
        if time_range:
            filters.append({"range": {"event_time": time_range}})
        for field, values in (
            ("topics", query.topics),
            ("source_id", query.source_ids),
            ("sentiment", [s.value for s in query.sentiments]),
            ("review_outcome", [outcome.value for outcome in query.review_outcomes]),
        ):
            if values:
                filters.append({"terms": {field: values}})
        if query.min_risk is not None:
            filters.append({"range": {"risk": {"gte": query.min_risk}}})
        if query.review_state:
            filters.append({"term": {"review_state": query.review_state.value}})
        must_not = [] if query.include_duplicates else [{"exists": {"field": "duplicate_of"}}]
        sort = {
            "newest": [{"event_time": "desc"}, {"id": "asc"}],
            "risk": [{"risk": "desc"}, {"event_time": "desc"}, {"id": "asc"}],
            "relevance": ([{"_score": "desc"}] if terms else [])
            + [{"event_time": "desc"}, {"id": "asc"}],
        }[query.sort]
        body = {"bool": {"must": must, "filter": filters, "must_not": must_not}}
        if query.cursor is not None:
            return self._cursor_page(body, sort, query)
        return self._page(body, sort, query.limit, query.offset, query.text)

    def _cursor_page(self, body: dict, sort: list, query: SearchQuery) -> SearchPage:
        """Deep paging on a point in time: every page sees the same snapshot."""
        if query.cursor == CURSOR_START:
            try:
                pit = self.client.open_point_in_time(
                    index=self.read_alias, keep_alive=CURSOR_KEEP_ALIVE
                )["id"]
            except NotFoundError:  # nothing indexed yet
                return SearchPage(total=0, limit=query.limit, offset=0, hits=[])
            after = None
        else:
            fields = _CURSOR_FIELDS[query.sort]
            cursor = cursor_position(query.cursor or "", fields, snapshot=True)
            pit, after = cursor.snapshot, cursor.after
        try:
            response = self.client.search(
                pit={"id": pit, "keep_alive": CURSOR_KEEP_ALIVE},
                query=body,
                sort=sort,
                size=query.limit,
                search_after=after,
                track_total_hits=True,
            )
        except NotFoundError as error:
            raise CursorExpired(
                f"the cursor's snapshot expired after {CURSOR_KEEP_ALIVE}; start again"
            ) from error
        page = self._to_page(response, query.limit, 0, query.text)
        raw_hits = response["hits"]["hits"]
        if len(raw_hits) == query.limit:
            page.next_cursor = encode_cursor(
                Cursor(after=raw_hits[-1]["sort"], snapshot=response.get("pit_id", pit))
            )
        else:
            self.client.options(ignore_status=404).close_point_in_time(id=pit)
        return page

    def _page(
        self, body: dict, sort: list, limit: int, offset: int, text: str | None
    ) -> SearchPage:
        response = self.client.search(
            index=self.read_alias,
            query=body,
            sort=sort,
            size=limit,
            from_=offset,
            track_total_hits=True,
            ignore_unavailable=True,
        )
        return self._to_page(response, limit, offset, text)

    def _to_page(self, response: Any, limit: int, offset: int, text: str | None) -> SearchPage:
        terms = query_terms(text)
        hits = []
        for hit in response["hits"]["hits"]:
            document = self._document(hit["_source"])
            hits.append(SearchHit(document=document, snippet=snippet(document.text, terms)))
        return SearchPage(
            total=response["hits"]["total"]["value"], limit=limit, offset=offset, hits=hits
        )

    @staticmethod
    def _queue_filters(threshold: float) -> dict:
        return {
            "filter": [
                {
                    "bool": {
                        "should": [
                            {"range": {"risk": {"gte": threshold}}},
                            {"exists": {"field": "claim_ids"}},
                        ],
                        "minimum_should_match": 1,
                    }
                }
            ],
            "must_not": [{"exists": {"field": "duplicate_of"}}],
        }

    @staticmethod
    def _overdue(now: datetime, rules: ReviewSettings) -> dict:
        """Past the target time; an item nobody touched is due a first look from when we
        first saw it (the SQLite store and workflow.effective_due say the same)."""
        deadlines = rules.deadlines

        def first_look(risk: dict, minutes: int) -> dict:
            since = _iso(now - timedelta(minutes=minutes))
            return {
                "bool": {
                    "filter": [{"range": {"risk": risk}}, {"range": {"fetched_at": {"lt": since}}}]
                }
            }

        untouched = {
            "bool": {
                "must_not": [{"exists": {"field": "due_at"}}],
                "filter": [{"term": {"review_state": "new"}}],
                "should": [
                    first_look({"gte": rules.high_risk}, deadlines.first_look_high_risk),
                    first_look({"lt": rules.high_risk}, deadlines.first_look),
                ],
                "minimum_should_match": 1,
            }
        }
        return {
            "bool": {
                "should": [{"range": {"due_at": {"lt": _iso(now)}}}, untouched],
                "minimum_should_match": 1,
            }
        }

    @_available
    def review_queue(self, query: QueueQuery, now: datetime, rules: ReviewSettings) -> SearchPage:
        body = self._queue_filters(query.threshold)
        for field, values in (
            ("review_state", [state.value for state in query.states]),
            ("topics", query.topics),
            ("places", query.places),
            ("source_id", query.source_ids),
        ):
            if values:
                body["filter"].append({"terms": {field: values}})
        if query.assignee:
            body["filter"].append({"term": {"assignee": query.assignee}})
        if query.overdue:
            body["filter"].append(self._overdue(now, rules))
        sort = [{"risk": "desc"}, {"reach": "desc"}, {"fetched_at": "asc"}, {"id": "asc"}]
        return self._page({"bool": body}, sort, query.limit, query.offset, None)

    @_available
    def queue_stats(self, threshold: float, now: datetime, rules: ReviewSettings) -> QueueStats:
        response = self.client.search(
            index=self.read_alias,
            size=0,
            ignore_unavailable=True,
            query={"bool": self._queue_filters(threshold)},
            aggs={
                "states": {
                    "terms": {"field": "review_state", "size": 10},
                    "aggs": {"overdue": {"filter": self._overdue(now, rules)}},
                },
                "open": {
                    "filter": {"terms": {"review_state": [s.value for s in OPEN_STATES]}},
                    "aggs": {"oldest": {"min": {"field": "fetched_at"}}},
                },
            },
        )
        aggregations = response.get("aggregations", {})
        buckets = aggregations.get("states", {}).get("buckets", [])
        oldest = aggregations.get("open", {}).get("oldest", {}).get("value_as_string")
        return QueueStats(
            by_state={b["key"]: b["doc_count"] for b in buckets},
            overdue={
                b["key"]: b["overdue"]["doc_count"] for b in buckets if b["overdue"]["doc_count"]
            },
            oldest_waiting=oldest,
        )

    @staticmethod
    def _trend_filters(query: TrendQuery) -> dict:
        """A trend query's window and filters as a bool query."""
        filters: list[dict] = [
            {"range": {"event_time": {"gte": _iso(query.since), "lt": _iso(query.until)}}}
        ]
        for field, values in (
            ("topics", query.topics),
            ("places", query.places),
            ("source_id", query.source_ids),
            ("source_tier", [tier.value for tier in query.tiers]),
            ("sentiment", [s.value for s in query.sentiments]),
        ):
            if values:
                filters.append({"terms": {field: values}})
        return {"bool": {"filter": filters + _phrases(query.text)}}

    @_available
    def trend_counts(self, query: TrendQuery, timezone: str) -> list[TrendBucket]:
        """A composite aggregation, paged by after_key: exact however many hours times keys,
        where date_histogram × terms would hit search.max_buckets."""
        zone = ZoneInfo(timezone)
        sources = [
            {
                "start": {
                    "date_histogram": {
                        "field": "event_time",
                        "calendar_interval": query.interval,
                        "time_zone": timezone,
                    }
                }
            },
            {"key": {"terms": {"field": _TREND_FIELDS[query.dimension]}}},
        ]
        buckets: list[TrendBucket] = []
        after = None
        while True:
            composite: dict[str, Any] = {"size": 1000, "sources": sources}
            if after:
                composite["after"] = after
            response = self.client.search(
                index=self.read_alias,
                size=0,
                ignore_unavailable=True,
                query=self._trend_filters(query),
                aggs={"buckets": {"composite": composite}},
            )
            result = response.get("aggregations", {}).get("buckets", {})
            buckets += [
                TrendBucket(
                    start=datetime.fromtimestamp(bucket["key"]["start"] / 1000, tz=zone),
                    key=bucket["key"]["key"],
                    count=bucket["doc_count"],
                )
                for bucket in result.get("buckets", [])
            ]
            after = result.get("after_key")
            if not after or not result.get("buckets"):
                return buckets

    @_available
    def top_stories(self, query: TrendQuery, limit: int = 10) -> list[StorySummary]:
        response = self.client.search(
            index=self.read_alias,
            size=0,
            ignore_unavailable=True,
            query=self._trend_filters(query),
            aggs={
                "stories": {
                    "terms": {
                        "field": "story_id",
                        "size": limit,
                        "shard_size": max(limit * 20, 1000),
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    },
                    "aggs": {
                        "sources": {"cardinality": {"field": "source_id"}},
                        "first": {"min": {"field": "event_time"}},
                        "last": {"max": {"field": "event_time"}},
                        "title": {
                            "top_hits": {
                                "size": 1,
                                "sort": [{"event_time": "asc"}, {"id": "asc"}],
                                "_source": {"includes": ["document.title"]},
                            }
                        },
                    },
                }
            },
        )
        stories = response.get("aggregations", {}).get("stories", {}).get("buckets", [])
        return [
            StorySummary(
                story_id=story["key"],
                items=story["doc_count"],
                sources=story["sources"]["value"],
                first_seen=datetime.fromtimestamp(story["first"]["value"] / 1000, tz=UTC),
                last_seen=datetime.fromtimestamp(story["last"]["value"] / 1000, tz=UTC),
                title=story["title"]["hits"]["hits"][0]["_source"]["document"]["title"],
            )
            for story in stories
        ]

    @_available
    def source_day_counts(self, since: datetime, until: datetime, timezone: str) -> list[DayCount]:
        response = self.client.search(
            index=self.read_alias,
            size=0,
            ignore_unavailable=True,
            query={"range": {"fetched_at": {"gte": _iso(since), "lt": _iso(until)}}},
            aggs={
                "days": {
                    "date_histogram": {
                        "field": "fetched_at",
                        "calendar_interval": "day",
                        "time_zone": timezone,
                        "min_doc_count": 1,
                        "format": "yyyy-MM-dd",
                    },
                    "aggs": {"sources": {"terms": {"field": "source_id", "size": 10_000}}},
                }
            },
        )
        buckets = response.get("aggregations", {}).get("days", {}).get("buckets", [])
        return [
            DayCount(day=bucket["key_as_string"], key=source["key"], count=source["doc_count"])
            for bucket in buckets
            for source in sorted(bucket["sources"]["buckets"], key=lambda b: b["key"])
        ]

    # -- reviewing ---------------------------------------------------------------------------

    @_available
    def apply_review(
        self,
        item_id: str,
        command: ReviewCommand,
        actor: str,
        rules: ReviewSettings,
        override: bool = False,
        now: datetime | None = None,
    ) -> Document:
        """Compare-and-set on _seq_no. A lost race (a rival's step, or a re-crawl, which
        also bumps _seq_no) reads the item again and lets the workflow judge afresh: a
        rival's claim or decision then refuses with who holds the item.

        The step's log entry is part of the same compare-and-set (``review_entry``), so a
        committed step always has its entry and a lost race never leaves one; it is then
        copied to the review log. If that copy fails the step stands and its entry waits
        on the item: the next step, review_log and export_review_log copy it first.

        Review steps come at a person's pace, so each refreshes its shard at once
        (refresh=true) rather than waiting up to a refresh interval: the page the reviewer
        lands on next, the queue and the history already show the step."""
        located = self._hit(item_id)
        if located is None:
            raise ItemNotFound(item_id)
        for _attempt in range(5):
            # A realtime get: a search could still show the state before a rival's step.
            hit = self.client.get(index=located["_index"], id=item_id)
            source = hit["_source"]
            if source.get("review_entry"):  # this step replaces it: it must be in the log
                self._bulk([self._log_action(source["review_entry"])], refresh=True)
            current = self._document(source)
            transition = next_review(
                item_id,
                current.review,
                command,
                actor,
                now or utc_now(),
                source.get("risk") or 0.0,
                current.fetched_at,
                rules,
                override,
            )
            entry = log_entry(transition.entry)
            try:
                written = self.client.update(
                    index=hit["_index"],
                    id=item_id,
                    if_seq_no=hit["_seq_no"],
                    if_primary_term=hit["_primary_term"],
                    refresh=True,
                    doc=self._review_fields(transition.review)
                    | {"review_entry": entry, "unlogged": entry["version"]},
                )
                break
            except ConflictError:
                continue
        else:
            raise StoreUnavailable(f"item {item_id} kept changing; try again")
        try:
            self._publish_entry(hit["_index"], item_id, entry, written)
        except (StoreError, ApiError, ElasticTransportError) as error:
            log.warning(
                "elastic.review_entry_kept_on_item",
                item_id=item_id,
                version=entry["version"],
                error=str(error)[:300],
            )
        return current.model_copy(update={"review": transition.review})

    def _publish_entry(self, index: str, item_id: str, entry: dict, written: Any) -> None:
        """Copy a step's entry from the item to the review log (create: idempotent), then
        clear it from the item unless the item changed since ``written`` (its _seq_no):
        a later step carries its own entry, and copying this one again is harmless."""
        self._bulk([self._log_action(entry)], refresh=True)
        with suppress(ConflictError):
            self.client.update(
                index=index,
                id=item_id,
                if_seq_no=written["_seq_no"],
                if_primary_term=written["_primary_term"],
                refresh=True,  # so review_log's search does not find it waiting still
                doc={"review_entry": None, "unlogged": None},
            )

    def _publish_pending(self, query: dict) -> None:
        """Copy to the review log every entry still waiting on an item matching ``query``."""
        pending = {"bool": {"filter": [query, {"exists": {"field": "unlogged"}}]}}
        after = None
        while True:
            response = self.client.search(
                index=self.read_alias,
                query=pending,
                size=BACKFILL_BATCH,
                sort=[{"id": "asc"}],
                search_after=after,
                seq_no_primary_term=True,
                source_includes=["review_entry"],
                ignore_unavailable=True,
            )
            hits = response["hits"]["hits"]
            if not hits:
                return
            for hit in hits:
                self._publish_entry(hit["_index"], hit["_id"], hit["_source"]["review_entry"], hit)
            after = hits[-1]["sort"]

    def _log_action(self, entry: dict) -> dict[str, Any]:
        """One id per item and review version: a repeated write (retry, re-run rebuild) is a
        409 on create, which _bulk takes as "already there"."""
        return {
            "_op_type": "create",
            "_index": self.log_index,
            "_id": review_entry_id(entry["item_id"], entry["version"]),
            "_source": log_entry(entry),
        }

    def export_documents(self) -> Iterator[Document]:
        # A generator runs after _available's guard has returned: guard its body itself.
        with _availability():
            self._ensure_ready()
            for source in self._iterate({"match_all": {}}, []):
                yield self._document(source)

    def export_review_log(self) -> Iterator[dict]:
        with _availability():
            self._ensure_ready()
            self._publish_pending({"match_all": {}})
            for source in self._iterate(
                {"match_all": {}},
                [],
                index=self.log_index,
                sort=[{"at": "asc"}, {"item_id": "asc"}, {"version": "asc"}],
            ):
                yield log_entry(source)

    def review_log_since(self, since: datetime) -> Iterator[dict]:
        with _availability():
            self._ensure_ready()
            self._publish_pending({"match_all": {}})  # steps whose entry waits on the item
            return iter(
                [
                    log_entry(source)
                    for source in self._iterate(
                        {"range": {"at": {"gte": since.astimezone(UTC).isoformat()}}},
                        [],
                        index=self.log_index,
                        sort=[{"at": "asc"}, {"item_id": "asc"}, {"version": "asc"}],
                    )
                ]
            )

    @_available
    def import_review_log(self, entries: Iterable[dict]) -> int:
        actions = [self._log_action(entry) for entry in entries]
        self._bulk(actions)
        return len(actions)

    @_available
    def review_log(self, item_id: str) -> list[dict]:
        self._publish_pending({"ids": {"values": [item_id]}})
        response = self.client.search(
            index=self.log_index,
            query={"term": {"item_id": item_id}},
            size=1000,
            sort=[{"version": "asc"}, {"at": "asc"}],
        )
        return [log_entry(hit["_source"]) for hit in response["hits"]["hits"]]
