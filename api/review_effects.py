"""What follows a committed review step: its audit entry and its listeners' effects (the
claims register), each keyed by the step's review-log entry id (``item:version``).

The store commits a step together with its review-log entry; the rest is written after, in
other files. When that fails (audit.db locked past its wait, the process killed in between)
the step still stands, so the reviewer is told it is done and the deferral is logged;
``reconcile`` walks the review log since its checkpoint and writes what is missing: at every
start of the API, every ``review.reconcile_minutes`` (by the scheduler where it runs beside
the API, ``mediawatch run``; else by each API process's own ``Reconciling`` thread, as in
production's uvicorn workers), and in this process at the next step once one was deferred
or while an earlier step of the same item waits. It runs with the API's own audit log
and register: a worker with files of its own must not write them. Each effect is written once
whoever tries: the audit log skips an entry already there for the step, the register
remembers the steps it applied in the same transaction as their changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError

from api.claims_feed import changes_register
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
        file (a bulk decision of 200 items would wait 30 s per item). Effects land in log
        order: while a deferred step waits (this process's, or an earlier step of the item
        that another worker left unsettled), the log is walked first, so a reopen is never
        applied before the decision it withdraws."""
        where = {"item_id": step.document.id, "step": step.id, "action": step.command.action}
        if self._failed_at is not None and utc_now() - self._failed_at < self.retry_after:
            log.warning("review_effects_deferred", reason="failed moments ago", **where)
            return False
        try:
            if not self._caught_up(step):
                log.warning("review_effects_deferred", reason="earlier steps wait", **where)
                self._failed_at = utc_now()
                return False
            self._apply(step)  # already done by the walk when it ran: nothing more then
        except Exception:
            log.exception("review_effects_deferred", **where)
            self._failed_at = utc_now()
            return False
        self._failed_at = None
        return True

    def _caught_up(self, step: ReviewStep) -> bool:
        """Whether no earlier step waits for its effects: none deferred here nor left
        unsettled on the item, or a walk of the log settled them all, in order."""
        if self._failed_at is None and not self._unsettled_before(step):
            return True
        return self._walk(utc_now())[1]  # False: stopped at a failure (logged)

    def _unsettled_before(self, step: ReviewStep) -> bool:
        """Whether an earlier step of the item, one the reconciler still walks, lacks its
        audit entry or its claims effect (its worker deferred it, died, or is writing it)."""
        since = self.register.checkpoint(CHECKPOINT)
        if since is None:
            return False
        earlier = [
            entry
            for entry in self.store.review_log(step.document.id)
            if entry["version"] < step.version
            and datetime.fromisoformat(entry["at"]) >= since - OVERLAP
        ]
        if not earlier:
            return False
        audited = {
            entry.detail.get("review_entry")
            for entry in self.audit.entries(target=step.document.id, action="review.")
        }
        for entry in earlier:
            entry_id = review_entry_id(entry["item_id"], entry["version"])
            command = _command(entry)
            if command is None:
                continue  # the reconciler skips it too
            if entry_id not in audited or (
                changes_register(command) and not self.register.applied(entry_id)
            ):
                return True
        return False

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
        return self._walk(now or utc_now())[0]

    def _walk(self, now: datetime) -> tuple[int, bool]:
        """``reconcile``'s walk: how many steps lacked their audit entry, and whether it
        reached the end (False: stopped at a failure, logged)."""
        since = self.register.checkpoint(CHECKPOINT)
        if since is None:
            self.register.set_checkpoint(CHECKPOINT, now)
            return 0, True
        missing = 0
        for entry in self.store.review_log_since(since - OVERLAP):
            step = self._step(entry)
            if step is None:
                continue
            try:
                missing += self._apply(step)
            except Exception:
                log.exception("review_reconcile_stopped", step=step.id, missing=missing)
                return missing, False
        self.register.set_checkpoint(CHECKPOINT, now)
        if missing:
            log.warning("review_effects_reconciled", steps=missing, since=since.isoformat())
        return missing, True

    def _step(self, entry: dict) -> ReviewStep | None:
        """A review-log entry as the step it records (None, logged, if it cannot be)."""
        command = _command(entry)
        if command is None:
            return None
        document = self.store.get(entry["item_id"])
        if document is None:
            log.warning("review_entry_item_missing", item_id=entry["item_id"])
            return None
        user = self.accounts.get(entry["reviewer"])
        # Written afterwards, on the reviewer's behalf: "reconcile" says so in the log.
        principal = Principal(entry["reviewer"], user.role if user else Role.REVIEWER, "reconcile")
        at = datetime.fromisoformat(entry["at"])
        return ReviewStep(document, command, principal, entry["version"], entry["state"], at)


def _command(entry: dict) -> ReviewCommand | None:
    """The command a review-log entry records (None, logged, if it cannot be read)."""
    fields = ("action", "outcome", "note", "evidence", "agency", "response", "reason")
    try:
        return ReviewCommand.model_validate({name: entry[name] for name in fields})
    except ValidationError as error:
        log.warning("review_entry_unreadable", item_id=entry["item_id"], error=str(error))
        return None


class Reconciling:
    """``reconcile`` every ``minutes`` on a thread of its own, for an API served without the
    scheduler: a deferred step's effects are written within that time, not at the next
    restart or the next step this process happens to take."""

    def __init__(self, effects: ReviewEffects, minutes: float) -> None:
        self._effects = effects
        self._seconds = minutes * 60
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="review-reconcile", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._seconds):
            try:
                self._effects.reconcile()
            except Exception:  # the store away for now: the next round tries again
                log.exception("review_reconcile_failed")

    def stop(self) -> None:
        """Stop, after a round in progress (it writes into files closed next)."""
        self._stopped.set()
        self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
