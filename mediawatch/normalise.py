"""The normalise stage: clean text, folded forms, language, canonical identity."""

from __future__ import annotations

from mediawatch.identity import content_hash, item_id
from mediawatch.model import Document
from mediawatch.text import detect_language, fold, normalize


def normalise_document(document: Document) -> Document:
    """A copy of ``document`` ready to deduplicate, classify and store.

    The URL stays as the source published it (people click it); only the id is canonical.
    """
    title = normalize(document.title)
    text = normalize(document.text)
    return document.model_copy(
        update={
            "id": item_id(document.url) if document.id.startswith("web:") else document.id,
            "title": title,
            "text": text,
            "authors": [normalize(a) for a in document.authors if normalize(a)],
            "title_folded": fold(title),
            "text_folded": fold(text),
            "content_hash": content_hash(f"{title}\n{text}"),
            "language": detect_language(f"{title}\n{text}"),
        }
    )
