"""Bulk CSV upload: POST a file, poll its job. The body is streamed, never buffered whole."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.accounts.deps import AdminUser, ContextDep, get_admin_user
from app.bulk_import import service
from app.bulk_import.schemas import BulkJobAccepted, BulkJobListed, BulkJobStatus
from app.platform.responses import ErrorOut, errors

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(get_admin_user)],
    responses=errors(401, 403, 503),
)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV, UTF-8 (BOM allowed), header "
                            "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/flights/bulk-upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BulkJobAccepted,
    openapi_extra=_UPLOAD_BODY,
    responses={
        413: {"model": ErrorOut, "description": "File over MAX_UPLOAD_MB"},
        422: {"model": ErrorOut, "description": "Not a flights CSV"},
    },
)
async def bulk_upload(request: Request, context: ContextDep, admin: AdminUser) -> BulkJobAccepted:
    length = request.headers.get("content-length")
    return await service.start_upload(
        context,
        request.stream(),
        content_type=request.headers.get("content-type", ""),
        content_length=int(length) if length and length.isdigit() else None,
        user_id=admin.id,
    )


@router.get(
    "/flights/bulk-upload/status/{job_id}",
    response_model=BulkJobStatus,
    responses=errors(404, e404="Unknown job"),
)
async def bulk_upload_status(job_id: uuid.UUID, context: ContextDep) -> BulkJobStatus:
    return await service.status(context, job_id)


@router.get("/flights/bulk-upload/jobs", response_model=list[BulkJobListed])
async def bulk_upload_jobs(
    context: ContextDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[BulkJobListed]:
    """Recent jobs, newest first."""
    return await service.recent(context, limit)


@router.get(
    "/flights/bulk-upload/status/{job_id}/errors.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **errors(404, e404="Unknown job"),
    },
)
async def bulk_upload_errors(job_id: uuid.UUID, context: ContextDep) -> Response:
    body = await service.errors_csv(context, job_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bulk-{job_id}-errors.csv"'},
    )
