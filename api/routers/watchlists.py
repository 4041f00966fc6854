"""Each person's saved watchlists: the scopes their spike alerts are computed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status

from api.deps import WatchlistsDep, audit
from api.security import Permission, Principal
from mediawatch.watchlists import Watchlist, WatchlistInput, WatchlistNotFound, Watchlists

router = APIRouter(prefix="/api/watchlists", tags=["watchlists"])
WatchlistId = Annotated[int, Path(ge=1, le=2**63 - 1, description="As POST returned it")]


def get_watchlists(request: Request) -> Watchlists:
    return request.app.state.watchlists


WatchlistsStoreDep = Annotated[Watchlists, Depends(get_watchlists)]


def owned(
    watchlists: Watchlists, watchlist_id: int, principal: Principal, reading: bool = False
) -> Watchlist:
    """The watchlist if this caller owns it (or, ``reading``, is an admin); else 404 or 403."""
    try:
        watchlist = watchlists.get(watchlist_id)
    except WatchlistNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"Không có danh sách theo dõi {watchlist_id} (no such watchlist)",
        ) from None
    if watchlist.owner != principal.name and not (reading and principal.may(Permission.ADMIN)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Đây không phải danh sách theo dõi của bạn (not your watchlist)",
        )
    return watchlist


@router.get("", response_model=list[Watchlist], summary="Danh sách theo dõi (watchlists)")
def list_watchlists(watchlists: WatchlistsStoreDep, principal: WatchlistsDep) -> list[Watchlist]:
    """The caller's own watchlists; an admin sees everyone's."""
    everyone = principal.may(Permission.ADMIN)
    return watchlists.list(None if everyone else principal.name)


@router.post(
    "",
    response_model=Watchlist,
    status_code=status.HTTP_201_CREATED,
    summary="Tạo danh sách theo dõi (create a watchlist)",
)
def create_watchlist(
    data: WatchlistInput,
    request: Request,
    watchlists: WatchlistsStoreDep,
    principal: WatchlistsDep,
) -> Watchlist:
    watchlist = watchlists.create(principal.name, data)
    audit(request, principal, "watchlist.create", str(watchlist.id), name=data.name)
    return watchlist


@router.get("/{watchlist_id}", response_model=Watchlist, summary="Một danh sách (one watchlist)")
def get_watchlist(
    watchlist_id: WatchlistId, watchlists: WatchlistsStoreDep, principal: WatchlistsDep
) -> Watchlist:
    return owned(watchlists, watchlist_id, principal, reading=True)


@router.put("/{watchlist_id}", response_model=Watchlist, summary="Sửa (update a watchlist)")
def update_watchlist(
    watchlist_id: WatchlistId,
    data: WatchlistInput,
    request: Request,
    watchlists: WatchlistsStoreDep,
    principal: WatchlistsDep,
) -> Watchlist:
    owned(watchlists, watchlist_id, principal)
    watchlist = watchlists.update(watchlist_id, data)
    audit(request, principal, "watchlist.update", str(watchlist_id), name=data.name)
    return watchlist


@router.delete(
    "/{watchlist_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Xoá (delete a watchlist)",
)
def delete_watchlist(
    watchlist_id: WatchlistId,
    request: Request,
    watchlists: WatchlistsStoreDep,
    principal: WatchlistsDep,
) -> Response:
    owned(watchlists, watchlist_id, principal)
    watchlists.delete(watchlist_id)
    audit(request, principal, "watchlist.delete", str(watchlist_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
