"""Exports of any search or trend as CSV or XLSX: small ones at once, large ones in the
background. Every export is audited with its query and row count."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, model_validator

from api.deps import ExporterDep, StoreDep, audit
from api.export_jobs import ExportJob, ExportJobs, ExportQuotaExceeded
from api.exports import MEDIA_TYPES, ExportFormat, Table, item_table, trend_table, walk, write
from api.privacy import authors_visible, present
from api.security import Principal
from index.query import SearchQuery, TrendQuery
from mediawatch.model import utc_now

router = APIRouter(prefix="/api/exports", tags=["exports"])
MAX_DIRECT_ROWS = 5_000
Progress = Callable[[int, int], None]  # (rows done, rows in all)


class ExportRequest(BaseModel):
    """A background export: exactly one of ``search`` and ``trend``."""

    model_config = ConfigDict(extra="forbid")

    format: ExportFormat
    search: SearchQuery | None = None
    trend: TrendQuery | None = None

    @model_validator(mode="after")
    def _one_query(self) -> ExportRequest:
        if (self.search is None) == (self.trend is None):
            raise ValueError("give exactly one of 'search' and 'trend'")
        return self


def get_jobs(request: Request) -> ExportJobs:
    return request.app.state.export_jobs


JobsDep = Annotated[ExportJobs, Depends(get_jobs)]


def _table(
    request: Request,
    principal: Principal,
    query: SearchQuery | TrendQuery,
    progress: Progress | None = None,
) -> Table:
    """The rows a query exports; items pass the Decree 13 gate page by page."""
    store = request.app.state.store
    if isinstance(query, TrendQuery):
        timezone = request.app.state.settings.timezone
        return trend_table(query.dimension, store.trend_counts(query, timezone))
    return item_table(
        walk(store, query), lambda documents: present(request, principal, documents), progress
    )


def _export(
    request: Request,
    principal: Principal,
    query: SearchQuery | TrendQuery,
    fmt: ExportFormat,
    out: IO[bytes],
    progress: Progress | None = None,
) -> int:
    rows = write(
        _table(request, principal, query, progress),
        fmt,
        out,
        request.app.state.settings.timezone,
    )
    audit(
        request,
        principal,
        "export",
        kind="items" if isinstance(query, SearchQuery) else "trends",
        format=fmt,
        query=query.model_dump(mode="json", exclude_defaults=True),
        rows=rows,
    )
    return rows


def _download(content: bytes, kind: str, fmt: ExportFormat) -> Response:
    name = f"mediawatch-{kind}-{utc_now():%Y%m%d-%H%M}.{fmt}"
    return Response(
        content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/items.{fmt}", summary="Xuất kết quả tìm kiếm (export a search)")
def export_items(
    fmt: ExportFormat,
    query: Annotated[SearchQuery, Query()],
    request: Request,
    store: StoreDep,
    principal: ExporterDep,
) -> Response:
    """Every item the search matches (its limit and offset are ignored), up to
    MAX_DIRECT_ROWS; more is a background export (POST /api/exports)."""
    total = store.search(query.model_copy(update={"limit": 1, "offset": 0, "cursor": None})).total
    if total > MAX_DIRECT_ROWS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{total} tin vượt quá {MAX_DIRECT_ROWS}: hãy dùng POST /api/exports để xuất nền "
            "(too many rows for a direct export; use a background export)",
        )
    out = io.BytesIO()
    _export(request, principal, query, fmt, out)
    return _download(out.getvalue(), "items", fmt)


@router.get("/trends.{fmt}", summary="Xuất xu hướng (export a trend)")
def export_trends(
    fmt: ExportFormat,
    query: Annotated[TrendQuery, Query()],
    request: Request,
    principal: ExporterDep,
) -> Response:
    out = io.BytesIO()
    _export(request, principal, query, fmt, out)
    return _download(out.getvalue(), "trends", fmt)


@router.post(
    "",
    response_model=ExportJob,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Xuất nền (start a background export)",
    responses={429: {"description": "Too many exports open or today (settings.exports)"}},
)
def start_export(
    body: ExportRequest, request: Request, jobs: JobsDep, principal: ExporterDep
) -> ExportJob:
    """Returns the job at once; poll GET /api/exports/{id}, then download the file. Past
    one's limits, 429 with Retry-After."""
    query: SearchQuery | TrendQuery = body.search if body.search is not None else body.trend
    kind = "items" if isinstance(query, SearchQuery) else "trends"
    try:
        return jobs.submit(
            principal.name,
            kind,
            body.format,
            query.model_dump_json(exclude_defaults=True),
            lambda out, progress: _export(request, principal, query, body.format, out, progress),
            authors=kind == "items" and authors_visible(request, principal),
        )
    except ExportQuotaExceeded as error:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(error),
            headers={"Retry-After": str(error.retry_after)},
        ) from error


def _owned_job(jobs: ExportJobs, job_id: str, principal: Principal) -> ExportJob:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"Không có yêu cầu xuất '{job_id}' (no such export)"
        )
    if job.owner != principal.name:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Đây không phải yêu cầu xuất của bạn (not your export)"
        )
    return job


@router.get("/{job_id}", response_model=ExportJob, summary="Tiến độ xuất (export status)")
def get_export(job_id: str, jobs: JobsDep, principal: ExporterDep) -> ExportJob:
    return _owned_job(jobs, job_id, principal)


@router.get("/{job_id}/download", summary="Tải tệp xuất (download an export)")
def download_export(
    job_id: str, request: Request, jobs: JobsDep, principal: ExporterDep
) -> FileResponse:
    job = _owned_job(jobs, job_id, principal)
    if job.state == "expired":
        raise HTTPException(
            status.HTTP_410_GONE,
            "Tệp đã được xoá sau thời hạn lưu; hãy xuất lại (export expired; start it again)",
        )
    if job.state != "done":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"Tệp chưa sẵn sàng: {job.state} (export not ready)"
            + (f": {job.error}" if job.error else ""),
        )
    if job.authors and not authors_visible(request, principal):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Tệp này có tên tác giả mà vai trò hiện tại của bạn không được xem; hãy xuất lại "
            "(this export holds authors' names, which you may no longer see; export again)",
        )
    audit(request, principal, "export.download", job.id, rows=job.rows, authors=job.authors)
    return FileResponse(
        jobs.file(job),
        media_type=MEDIA_TYPES[job.format],
        filename=f"mediawatch-{job.kind}-{job.created_at:%Y%m%d-%H%M}.{job.format}",
    )
