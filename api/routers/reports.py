"""Reports for the Department: the yearly report as XLSX."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response

from api.deps import ExporterDep, SettingsDep, StoreDep, audit
from api.exports import MEDIA_TYPES
from api.reports import write_yearly_report

router = APIRouter(prefix="/api/reports", tags=["reports"])
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # days a datetime can bound


@router.get("/yearly.xlsx", summary="Báo cáo năm (the yearly report, XLSX)")
def yearly_report(
    since: Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY, description="First local day")],
    until: Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY, description="Last local day")],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: ExporterDep,
) -> Response:
    """Items, decisions and response times by topic and agency for the period (due 30/11)."""
    if since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Ngày bắt đầu phải không sau ngày kết thúc (since must not be after until)",
        )
    out = io.BytesIO()
    items = write_yearly_report(
        store,
        since,
        until,
        out,
        threshold=settings.review_threshold,
        timezone=settings.timezone,
        topic_labels=request.app.state.topic_labels,
    )
    audit(
        request,
        principal,
        "export",
        kind="yearly-report",
        format="xlsx",
        query={"since": since.isoformat(), "until": until.isoformat()},
        rows=items,
    )
    return Response(
        out.getvalue(),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="bao-cao-nam-{since}-{until}.xlsx"'},
    )
