"""New items against the claims register: each item's matches, and the best one for risk.

The register's claims (statements and the texts of their linked items) are held in a
``ClaimMatcher``; it is rebuilt only when the register's change counter has moved, so the
check before each batch is one small query, and a change made by the API (a decision, an
import) is seen by the worker's next batch.
"""

from __future__ import annotations

import threading

import structlog

from classifier.claim_matching import ClaimMatcher
from classifier.risk import ClaimMatch
from index.claims import AUTO, ClaimRegister
from mediawatch.config import ClaimSettings
from mediawatch.model import ClaimLink, ClaimLinkStatus, Document

log = structlog.get_logger("mediawatch.claims")


def document_text(document: Document) -> str:
    return f"{document.title}\n{document.text}"


class RegisterMatcher:
    def __init__(self, register: ClaimRegister, settings: ClaimSettings) -> None:
        self.register = register
        self.settings = settings
        self._lock = threading.Lock()
        self._version = -1
        self._matcher = ClaimMatcher({}, settings)
        self._statements: dict[str, str] = {}

    def refresh(self) -> None:
        """Re-read the register if anything changed since the last read."""
        version = self.register.version()
        with self._lock:
            if version == self._version:
                return
            texts = self.register.texts()
            self._matcher = ClaimMatcher(texts, self.settings, self.register.rejected_texts())
            self._statements = {claim_id: variants[0] for claim_id, variants in texts.items()}
            self._version = version
        log.info("claims_register_loaded", claims=len(texts), version=version)

    def matches(self, document: Document) -> list[ClaimLink]:
        """The claims the item repeats, best first (linked or suggested)."""
        return self._matcher.match(document_text(document))

    def best(self, links: list[ClaimLink]) -> ClaimMatch | None:
        """The risk scorer's view of the closest claim."""
        if not links:
            return None
        link = links[0]
        return ClaimMatch(link.claim_id, self._statements.get(link.claim_id, ""), link.similarity)

    def record(self, documents: list[Document]) -> None:
        """Write the stored items' matches into the register: links and suggestions."""
        for document in documents:
            for link in document.claim_matches:
                text = document_text(document)
                if link.status is ClaimLinkStatus.LINKED:
                    self.register.link(link.claim_id, document.id, text, AUTO, link.similarity)
                else:
                    self.register.suggest(link.claim_id, document.id, text, link.similarity)
