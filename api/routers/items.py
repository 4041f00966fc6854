"""Search and read items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from api.deps import ReaderDep, StoreDep, audit
from api.privacy import present, present_page
from index.query import SearchPage, SearchQuery
from index.store import CursorExpired, StoreError, StoreUnavailable
from mediawatch.model import Document

router = APIRouter(prefix="/api/items", tags=["items"])


@router.get("", response_model=SearchPage, summary="Tìm kiếm tin (search items)")
def search_items(
    request: Request, query: Annotated[SearchQuery, Query()], store: StoreDep, principal: ReaderDep
) -> SearchPage:
    """Full text over the folded text ("dat dai" finds "đất đai"), with filters and snippets.

    Page with offset, or walk everything with ``cursor=*`` and each page's ``next_cursor``.
    """
    try:
        page = store.search(query)
    except CursorExpired as error:
        raise HTTPException(status.HTTP_410_GONE, str(error)) from error
    except StoreUnavailable:
        raise
    except StoreError as error:  # e.g. a cursor tampered with: the store refused the query
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"Yêu cầu không hợp lệ (invalid request): {error}"
        ) from error
    audit(
        request,
        principal,
        "search",
        query=query.model_dump(mode="json", exclude_defaults=True, exclude={"cursor"}),
        total=page.total,
    )
    return present_page(request, principal, page)


@router.get("/{item_id}", response_model=Document, summary="Một tin (one item)")
def get_item(request: Request, item_id: str, store: StoreDep, principal: ReaderDep) -> Document:
    document = store.get(item_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Không có tin '{item_id}' (no such item)")
    audit(request, principal, "item.view", item_id)
    return present(request, principal, [document])[0]


@router.get("/{item_id}/review-log", summary="Lịch sử xử lý (review history)")
def get_review_log(item_id: str, store: StoreDep, _principal: ReaderDep) -> list[dict]:
    if store.get(item_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Không có tin '{item_id}' (no such item)")
    return store.review_log(item_id)
