"""What writing an item again does to the stored one: the store rule both backends apply.

Once a reviewer has taken an item up (claimed, decided, escalated, answered), its content is
what was judged: content that arrives again — a re-crawl, a re-sent URL — is recorded as a
version for the reviewers to see and never replaces it. An item still new takes the new
content, and the change is recorded all the same.
"""

from __future__ import annotations

from datetime import datetime

from index.store import WriteOutcome, published_content
from mediawatch.model import ContentChange, ContentVersion, Document, ReviewState

# What a source publishes and a reviewer judges; the rest is derived from it.
JUDGED_FIELDS = (
    "title",
    "text",
    "source_tier",
    "source_id",
    "url",
    "authors",
    "published_at",
    "language",
)
# Versions kept per item, newest last: enough to show what changed, bounded so a sender
# repeating edits cannot grow an item without end (the audit log keeps every ingest).
MAX_VERSIONS = 20


def content_changes(stored: Document, incoming: Document) -> list[ContentChange]:
    """The judged fields that differ, with their stored and incoming values as JSON."""
    before = stored.model_dump(mode="json", include=set(JUDGED_FIELDS))
    after = incoming.model_dump(mode="json", include=set(JUDGED_FIELDS))
    return [
        ContentChange(field=name, before=before[name], after=after[name])
        for name in JUDGED_FIELDS
        if before[name] != after[name]
    ]


def _arrived(changes: list[ContentChange]) -> list[tuple[str, object]]:
    """What an arrival brought, whether or not its version kept a ``before`` (older ones did)."""
    return [(change.field, change.after) for change in changes]


def rewrite(
    stored: Document, incoming: Document, now: datetime
) -> tuple[Document | None, WriteOutcome]:
    """The document to write over ``stored`` (None: nothing to write) and what it amounts
    to. Review fields are the store's to keep; this decides only the content."""
    incoming = incoming.model_copy(update={"content_versions": stored.content_versions})
    changes = content_changes(stored, incoming)
    judged = stored.review.state is not ReviewState.NEW
    if not changes:
        if judged or published_content(incoming) == published_content(stored):
            return None, "unchanged"
        return incoming, "updated"  # derived fields only (a new model, a new claim link)
    if judged:
        # The judged content is the item itself, unchanged while judged: a pending version
        # keeps only what arrived, not a copy of the judged text per version (20 × 200k).
        changes = [change.model_copy(update={"before": None}) for change in changes]
        pending = [_arrived(v.changes) for v in stored.content_versions if not v.applied]
        if _arrived(changes) in pending:
            return None, "unchanged"  # the same arrival again: already waiting for reviewers
    version = ContentVersion(
        at=now,
        sent_by=incoming.sent_by,
        source_id=incoming.source_id,
        extractor=incoming.extractor,
        applied=not judged,
        changes=changes,
    )
    versions = [*stored.content_versions, version][-MAX_VERSIONS:]
    if judged:
        return stored.model_copy(update={"content_versions": versions}), "versioned"
    return incoming.model_copy(update={"content_versions": versions}), "updated"
