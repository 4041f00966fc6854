"""New items that repeat an item reviewers judged false or misleading.

The judged items are read from the store (decisions live there) and kept as MinHash
signatures in an LSH index, the same signatures the story index uses, so a copy that lost its
diacritics, punctuation or a sentence still matches. The index is rebuilt when the store's
judged items change, checked at most every ``refresh_s`` seconds. The claims register (issue
6) will feed the same matching with canonical statements.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import structlog
from datasketch import MinHash, MinHashLSH

from classifier.risk import ClaimMatch
from index.query import MAX_PAGE, SearchQuery
from index.store import Store, StoreError
from mediawatch.model import JUDGED_FALSE, Document
from mediawatch.stories import MIN_WORDS, NUM_PERM, collapsed_signature
from mediawatch.text import collapse

log = structlog.get_logger("mediawatch.claims")

# Estimated Jaccard of shingles above which an item repeats a judged one (the stories' bar).
MATCH_THRESHOLD = 0.4
STATEMENT_CHARS = 200
# After a failed read of the judged items, try again this soon rather than a full period on.
RETRY_S = 30.0


def _text(document: Document) -> str:
    return f"{document.title}\n{document.text}"


def _statement(document: Document) -> str:
    text = document.title or document.text
    return text if len(text) <= STATEMENT_CHARS else text[: STATEMENT_CHARS - 1] + "…"


class JudgedClaimIndex:
    def __init__(self, refresh_s: float = 300.0) -> None:
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._next_read = float("-inf")
        self._refreshing = threading.Lock()
        self._judged: dict[str, tuple[str, MinHash]] = {}  # item id → statement, signature
        self._lsh = MinHashLSH(threshold=MATCH_THRESHOLD, num_perm=NUM_PERM)

    def load(self, documents: Iterable[Document]) -> None:
        """Index exactly these judged items (those too short to match are left out)."""
        judged = {}
        for document in documents:
            joined = collapse(_text(document))
            if joined.count(" ") + 1 >= MIN_WORDS:
                judged[document.id] = (_statement(document), collapsed_signature(joined))
        lsh = MinHashLSH(threshold=MATCH_THRESHOLD, num_perm=NUM_PERM)
        with lsh.insertion_session() as session:
            for item_id, (_statement_text, minhash) in judged.items():
                session.insert(item_id, minhash)
        with self._lock:
            self._judged, self._lsh = judged, lsh

    def refresh(self, store: Store, now: float | None = None) -> None:
        """Re-read the judged items once ``refresh_s`` has passed since the last good read
        (``RETRY_S`` after a failed one); keep the old ones meanwhile. One thread reads;
        the others go on with what is there."""
        now = time.monotonic() if now is None else now
        if now < self._next_read or not self._refreshing.acquire(blocking=False):
            return
        try:
            try:
                judged = list(_judged_items(store))
            except StoreError as error:
                self._next_read = now + RETRY_S
                log.warning("judged_claims_unreadable", error=str(error), retry_s=RETRY_S)
                return
            self._next_read = now + self.refresh_s
            if {d.id for d in judged} != set(self._judged):
                self.load(judged)
                log.info("judged_claims_loaded", items=len(self._judged))
        finally:
            self._refreshing.release()

    def match(self, document: Document) -> ClaimMatch | None:
        """The judged item this one repeats most closely, if any (never itself)."""
        if not self._judged:
            return None
        joined = collapse(_text(document))
        if joined.count(" ") + 1 < MIN_WORDS:
            return None
        minhash = collapsed_signature(joined)
        with self._lock:
            candidates = [
                (self._judged[key][1].jaccard(minhash), key)
                for key in self._lsh.query(minhash)
                if key != document.id
            ]
            best = max(candidates, default=None)
            if best is None or best[0] < MATCH_THRESHOLD:
                return None
            similarity, item_id = best
            return ClaimMatch(item_id, self._judged[item_id][0], round(similarity, 4))


def _judged_items(store: Store) -> Iterable[Document]:
    """Every decided item whose outcome is false or misleading, by deep paging."""
    query = SearchQuery(
        review_outcomes=sorted(JUDGED_FALSE), sort="newest", limit=MAX_PAGE, cursor="*"
    )
    while True:
        page = store.search(query)
        for hit in page.hits:
            yield hit.document
        if not page.next_cursor or not page.hits:
            return
        query = query.model_copy(update={"cursor": page.next_cursor})
