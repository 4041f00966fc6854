"""Decree 13/2023 on personal data: authors' identities only for the roles that need them.

Everything that hands documents to a caller (JSON, pages, exports) passes them through
``present``: other roles get the authors removed, and every showing to an allowed role is
written to the audit log, so who saw whose name can be answered later.
"""

from __future__ import annotations

from fastapi import Request

from api.deps import audit
from api.security import Principal
from index.query import SearchPage
from mediawatch.model import Document


def authors_visible(request: Request, principal: Principal) -> bool:
    return principal.role in request.app.state.settings.security.author_roles


def _versions_name_authors(document: Document) -> bool:
    return any(c.field == "authors" for v in document.content_versions for c in v.changes)


def present(request: Request, principal: Principal, documents: list[Document]) -> list[Document]:
    """The documents as this caller may see them; an audit entry when authors were shown."""
    if not authors_visible(request, principal):
        return [d.without_authors() for d in documents]
    shown = [d.id for d in documents if d.authors or _versions_name_authors(d)]
    if shown:
        target = shown[0] if len(shown) == 1 else None
        audit(request, principal, "author.view", target, item_ids=shown)
    return documents


def present_page(request: Request, principal: Principal, page: SearchPage) -> SearchPage:
    documents = present(request, principal, [hit.document for hit in page.hits])
    hits = [
        hit.model_copy(update={"document": document})
        for hit, document in zip(page.hits, documents, strict=True)
    ]
    return page.model_copy(update={"hits": hits})
