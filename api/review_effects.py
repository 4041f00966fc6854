"""What follows a committed review step: its audit entry and its listeners' effects (the
claims register), each keyed by the step's review-log entry id (``item:version``).

The store commits a step together with its review-log entry; the rest is written after, in
other files. When that fails (audit.db locked past its wait, the process killed in between)
the step still stands, so the reviewer is told it is done and the deferral is logged;
``reconcile`` walks the review log since its checkpoint and writes what is missing: at every
start of the API, every ``review.reconcile_minutes`` where the scheduler runs beside it
(``mediawatch run``), and in this process after the next step that settles once one was
deferred (production API workers have no scheduler). It runs with the API's own audit log
and register: a worker with files of its own must not write them. Each effect is written once
whoever tries: the audit log skips an entry already there for the step, the register
remembers the steps it applied in the same transaction as their changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError

from api.security import Principal
from index.claims import ClaimRegister
from index.store import Store, review_entry_id
from mediawatch.accounts import Accounts
from mediawatch.audit import AuditLog
from mediawatch.model import Document, ReviewCommand, Role, utc_now

log = structlog.get_logger("mediawatch.review_effects")

CHECKPOINT = "review-effects"
# Walked again each time: steps committed while the last walk ran, or stamped by a host
# whose clock is a little behind. Effects are keyed, so walking a step twice adds nothing.
OVERLAP = timedelta(minutes=10)
RETRY_AFTER = timedelta(seconds=60)

# listener(document, command, principal, step id): applies the step once per step id.
Listener = Callable[[Document, ReviewCommand, Principal, str], object]


@dataclass(frozen=True)
class ReviewStep:
    """A committed step as its effects need it."""

    document: Document  # the item (its review may already be past this step)
    command: ReviewCommand
    principal: Principal
    version: int
    state: str
    at: datetime | None = None  # None: now, in the request that took the step

    @property
    def id(self) -> str:
        return review_entry_id(self.document.id, self.version)


class ReviewEffects:
    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        listeners: list[Listener],
        register: ClaimRegister,
        accounts: Accounts,
    ) -> None:
        self.store = store
        self.audit = audit
        self.listeners = listeners  # the app's list: listeners added later are heard too
        self.register = register  # keeps the reconciler's checkpoint
        self.accounts = accounts
        self._failed_at: datetime | None = None  # when a step's effects were last deferred
        self.retry_after = RETRY_AFTER

    def settle(self, step: ReviewStep) -> bool:
        """The step's effects, from the request that took it; False when they wait for the
        reconciler (logged: the step itself is committed and stands). After a failure,
        steps within ``retry_after`` defer at once instead of each waiting out a locked
        file (a bulk decision of 200 items would wait 30 s per item)."""
        where = {"item_id": step.document.id, "step": step.id, "action": step.command.action}
        if self._failed_at is not None and utc_now() - self._failed_at < self.retry_after:
            log.warning("review_effects_deferred", reason="failed moments ago", **where)
            return False
        try:
            self._apply(step)
        except Exception:
            log.exception("review_effects_deferred", **where)
            self._failed_at = utc_now()
            return False
        if self._failed_at is not None:  # the files answer again: catch up on the deferred
            self._failed_at = None
            try:
                self.reconcile()
            except Exception:
                self._failed_at = utc_now()
                log.exception("review_reconcile_failed")
        return True

    def _apply(self, step: ReviewStep) -> bool:
        """Audit entry, then each listener; whether the audit entry was missing."""
        principal, command = step.principal, step.command
        written = self.audit.record(
            principal.name,
            f"review.{command.action.value}",
            role=principal.role.value,
            via=principal.via,
            ip=principal.ip,
            target=step.document.id,
            detail={
                "version": step.version,
                "state": step.state,
                "outcome": command.outcome.value if command.outcome else None,
                "agency": command.agency,
                "reason": command.reason,
            },
            at=step.at,
            step=step.id,
        )
        for listener in self.listeners:
            listener(step.document, command, principal, step.id)
        return written

    def reconcile(self, now: datetime | None = None) -> int:
        """Write the audit entries and claims effects missing for steps of the review log
        since the checkpoint; how many steps lacked their audit entry. The first run only
        sets the checkpoint: older steps were audited before entries carried their step.
        Stops at the first failure (the checkpoint stays, the next run goes on from it)."""
        now = now or utc_now()
        since = self.register.checkpoint(CHECKPOINT)
        if since is None:
            self.register.set_checkpoint(CHECKPOINT, now)
            return 0
        missing = 0
        for entry in self.store.review_log_since(since - OVERLAP):
            step = self._step(entry)
            if step is None:
                continue
            try:
                missing += self._apply(step)
            except Exception:
                log.exception("review_reconcile_stopped", step=step.id, missing=missing)
                return missing
        self.register.set_checkpoint(CHECKPOINT, now)
        if missing:
            log.warning("review_effects_reconciled", steps=missing, since=since.isoformat())
        return missing

    def _step(self, entry: dict) -> ReviewStep | None:
        """A review-log entry as the step it records (None, logged, if it cannot be)."""
        document = self.store.get(entry["item_id"])
        fields = ("action", "outcome", "note", "evidence", "agency", "response", "reason")
        try:
            command = ReviewCommand.model_validate({name: entry[name] for name in fields})
        except ValidationError as error:
            log.warning("review_entry_unreadable", item_id=entry["item_id"], error=str(error))
            return None
        if document is None:
            log.warning("review_entry_item_missing", item_id=entry["item_id"])
            return None
        user = self.accounts.get(entry["reviewer"])
        # Written afterwards, on the reviewer's behalf: "reconcile" says so in the log.
        principal = Principal(entry["reviewer"], user.role if user else Role.REVIEWER, "reconcile")
        at = datetime.fromisoformat(entry["at"])
        return ReviewStep(document, command, principal, entry["version"], entry["state"], at)
