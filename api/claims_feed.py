"""Review decisions feed the claims register; changes to it are audited.

The review workflow calls each of ``app.state.review_listeners`` after a successful action,
and the reconciler (api/review_effects.py) again for a step whose effects were not all
recorded. ``ClaimsFeed`` is the register's: a false or misleading decision creates a claim (or
extends the one the item is already linked to), an official response becomes the claim's
rebuttal, and reopening an item takes it off its claims (a decision replayed only after the
item was reopened makes no claim at all: the reopen withdrew it). Each step is applied once: its
changes, their audit entries and the step's review-log id commit in one transaction.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import structlog

from api.security import Principal
from classifier.claim_matching import ClaimMatcher, matching_form
from index.claims import Claim, ClaimDraft, ClaimRegister, Verdict
from index.query import SearchQuery
from index.store import Store, StoreError, review_entry_id
from mediawatch.audit import AuditLog
from mediawatch.claim_match import document_text
from mediawatch.config import Settings
from mediawatch.model import JUDGED_FALSE, Document, ReviewAction, ReviewCommand, utc_now

log = structlog.get_logger("mediawatch.claims")

STATEMENT_CHARS = 300
# How far back a new claim looks for items that repeat it, and how many searches it runs.
SCAN_DAYS = 30
SCAN_QUERIES = 5
SCAN_HITS = 50


def statement_of(document: Document) -> str:
    """A claim's first wording: the item's title, else its first sentence."""
    text = document.title.strip() or document.text.strip().split("\n")[0].split(". ")[0]
    return text if len(text) <= STATEMENT_CHARS else text[: STATEMENT_CHARS - 1] + "…"


def changes_register(command: ReviewCommand) -> bool:
    """Whether a step of this command changes the register (and is remembered there as
    applied): claims, releases, escalations and other outcomes leave it be."""
    action = command.action
    return (
        (action is ReviewAction.DECIDE and command.outcome in JUDGED_FALSE)
        or (action is ReviewAction.RESPOND and command.response is not None)
        or action is ReviewAction.REOPEN
    )


class ClaimsFeed:
    def __init__(
        self, register: ClaimRegister, store: Store, settings: Settings, audit: AuditLog
    ) -> None:
        self.register = register
        self.store = store
        self.settings = settings
        self.audit_log = audit

    def audit(
        self, principal: Principal, action: str, target: str, step: str | None, **detail: Any
    ) -> None:
        self.audit_log.record(
            principal.name,
            action,
            role=principal.role.value,
            via=principal.via,
            ip=principal.ip,
            target=target,
            detail=detail,
            step=step,
        )

    def __call__(
        self, document: Document, command: ReviewCommand, principal: Principal, step: str
    ) -> None:
        """Apply review step ``step`` (its review-log entry id) to the register, once."""
        if not changes_register(command):
            return
        with self.register.applying(step) as fresh:
            if not fresh:
                return
            created = self._apply(document, command, principal, step)
        if created is not None:  # offered to reviewers after the step is safely in
            self.suggest_recent(created, exclude={document.id})

    def _apply(
        self, document: Document, command: ReviewCommand, principal: Principal, step: str
    ) -> Claim | None:
        """The step's changes and their audit entries; the claim it created, if any."""
        if command.action is ReviewAction.DECIDE:
            return self._judged(document, command, principal, step)
        if command.action is ReviewAction.RESPOND and command.response is not None:
            for claim_id in self.register.claims_of_item(document.id):
                self.register.set_rebuttal(claim_id, command.response, principal.name)
                self.audit(
                    principal,
                    "claim.update",
                    claim_id,
                    step,
                    rebuttal=command.response.url,
                    item_id=document.id,
                )
        elif command.action is ReviewAction.REOPEN:
            for claim_id in self.register.claims_of_item(document.id):
                if self.register.unlink(claim_id, document.id):
                    self.audit(
                        principal,
                        "claim.unlink",
                        claim_id,
                        step,
                        item_id=document.id,
                        reason=command.reason,
                    )
        return None

    def _judged(
        self, document: Document, command: ReviewCommand, principal: Principal, step: str
    ) -> Claim | None:
        if self._reopened_after(document.id, step):
            log.info("claim_decision_withdrawn", item_id=document.id, step=step)
            return None  # replayed late: the reopen withdrew it, no claim to make or link
        evidence = [e for e in [command.note, *command.evidence] if e]
        existing = self.register.claims_of_item(document.id)
        text = document_text(document)
        if existing:
            for claim_id in existing:
                self.register.link(claim_id, document.id, text, principal.name)
                self.register.add_evidence(claim_id, evidence, principal.name)
                self.audit(principal, "claim.update", claim_id, step, item_id=document.id)
            return None
        draft = ClaimDraft(
            statement=statement_of(document),
            verdict=Verdict(command.outcome.value),
            evidence=evidence,
        )
        claim, created = self.register.create(draft, principal.name)
        if created:
            self.audit(principal, "claim.create", claim.id, step, item_id=document.id)
        self.register.link(claim.id, document.id, text, principal.name)
        self.audit(principal, "claim.link", claim.id, step, item_id=document.id)
        return claim

    def _reopened_after(self, item_id: str, step: str) -> bool:
        """Whether the item's review log reopens it after step ``step``."""
        later = False
        for entry in self.store.review_log(item_id):
            if later and entry["action"] == ReviewAction.REOPEN.value:
                return True
            later = later or review_entry_id(item_id, entry["version"]) == step
        return False

    def suggest_recent(self, claim: Claim, exclude: set[str] | None = None) -> int:
        """Offer reviewers the recent stored items that repeat a new claim; how many."""
        matcher = ClaimMatcher({claim.id: [claim.statement]}, self.settings.claims)
        words = matching_form(claim.statement).split()
        # The longest word pairs are the rarest: each is one phrase search of the store.
        pairs = sorted({f"{a} {b}" for a, b in pairwise(words)}, key=len)
        since = utc_now() - timedelta(days=SCAN_DAYS)
        seen = set(exclude or ()) | {item.item_id for item in claim.items}
        offered = 0
        for pair in pairs[-SCAN_QUERIES:]:
            query = SearchQuery(text=f'"{pair}"', since=since, limit=SCAN_HITS, sort="newest")
            try:
                hits = self.store.search(query).hits
            except StoreError as error:
                log.warning("claim_scan_failed", claim_id=claim.id, error=str(error))
                return offered
            for hit in hits:
                document = hit.document
                if document.id in seen:
                    continue
                seen.add(document.id)
                for link in matcher.match(document_text(document)):
                    offered += self.register.suggest(
                        claim.id, document.id, document_text(document), link.similarity
                    )
        return offered
