"""Decree 13/2023 on personal data: authors' identities only for the roles that need them.

Everything that hands documents to a caller (JSON, pages, exports) passes them through
``present``, and claims (who made each) through ``present_claims``: other roles get the
authors removed, and every showing to an allowed role is written to the audit log, so who saw
whose name can be answered later.
"""

from __future__ import annotations

from fastapi import Request

from api.deps import audit
from api.security import Principal
from index.claims import Claim
from index.query import SearchPage
from mediawatch.model import Document


def authors_visible(request: Request, principal: Principal) -> bool:
    return principal.role in request.app.state.settings.security.author_roles


def _versions_name_authors(document: Document) -> bool:
    return any(c.field == "authors" for v in document.content_versions for c in v.changes)


def _audit_shown(request: Request, principal: Principal, shown: list[str], key: str) -> None:
    """One ``author.view`` entry naming whose authors were shown (the one target, if one)."""
    if shown:
        target = shown[0] if len(shown) == 1 else None
        audit(request, principal, "author.view", target, **{key: shown})


def present(request: Request, principal: Principal, documents: list[Document]) -> list[Document]:
    """The documents as this caller may see them; an audit entry when authors were shown."""
    if not authors_visible(request, principal):
        return [d.without_authors() for d in documents]
    named = [d.id for d in documents if d.authors or _versions_name_authors(d)]
    _audit_shown(request, principal, named, "item_ids")
    return documents


def present_claims(request: Request, principal: Principal, claims: list[Claim]) -> list[Claim]:
    """The claims as this caller may see them: who made a claim (an imported fact-check's
    itemReviewed.author, a person and their profile) is an author's identity too."""
    if not authors_visible(request, principal):
        return [c.model_copy(update={"author": None}) if c.author else c for c in claims]
    _audit_shown(request, principal, [c.id for c in claims if c.author], "claim_ids")
    return claims


def present_page(request: Request, principal: Principal, page: SearchPage) -> SearchPage:
    documents = present(request, principal, [hit.document for hit in page.hits])
    hits = [
        hit.model_copy(update={"document": document})
        for hit, document in zip(page.hits, documents, strict=True)
    ]
    return page.model_copy(update={"hits": hits})
