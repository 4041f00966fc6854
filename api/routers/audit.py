"""The audit log for admins: read it, filter it, export it. Nothing here writes to it except
the record that an export was taken; nothing anywhere edits it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import AdminDep, AuditDep, audit
from mediawatch.audit import AuditEntry, as_utc, export_lines, iter_entries

router = APIRouter(prefix="/api/audit", tags=["audit"])


class AuditFilters(BaseModel):
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    target: str | None = None

    def given(self, timezone: str = "UTC") -> dict[str, str | datetime]:
        """The filters for ``AuditLog``; a time typed without a zone is in ``timezone``."""
        try:
            since, until = as_utc(self.since, timezone), as_utc(self.until, timezone)
        except OverflowError as error:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "Thời điểm ngoài phạm vi (date out of range)"
            ) from error
        update = {"since": since, "until": until}
        return self.model_copy(update=update).model_dump(exclude_none=True)


class AuditPage(BaseModel):
    total: int
    entries: list[AuditEntry]


def audit_filters(
    since: Annotated[datetime | None, Query(description="From (inclusive), ISO 8601")] = None,
    until: Annotated[datetime | None, Query(description="Until (exclusive), ISO 8601")] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="'review.' matches the whole family")
    ] = None,
    target: Annotated[str | None, Query(max_length=500)] = None,
) -> AuditFilters:
    """Times without a zone are UTC here, as the log stores them; the page reads them in the
    province's time."""
    return AuditFilters(since=since, until=until, actor=actor, action=action, target=target)


FiltersDep = Annotated[AuditFilters, Depends(audit_filters)]


@router.get("", response_model=AuditPage, summary="Nhật ký kiểm toán (audit log)")
def read_audit(
    request: Request,
    log: AuditDep,
    principal: AdminDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """Oldest first, a page at a time; who read the log is itself logged."""
    given = filters.given()
    audit(request, principal, "audit.view", None, offset=offset, filters=given)
    return AuditPage(
        total=log.count(**given), entries=log.entries(limit=limit, offset=offset, **given)
    )


@router.get(
    "/export",
    summary="Xuất nhật ký kiểm toán (export the audit log as CSV or JSON Lines)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export_audit(
    request: Request,
    log: AuditDep,
    principal: AdminDep,
    filters: FiltersDep,
    format: Literal["csv", "jsonl"] = "csv",
) -> StreamingResponse:
    """Streamed, so a long log never sits in memory; taking it is itself audited."""
    given = filters.given()
    audit(request, principal, "audit.export", None, format=format, filters=given)
    media_type = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        export_lines(iter_entries(log, **given), format),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="mediawatch-audit.{format}"'},
    )
