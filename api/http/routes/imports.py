"""POST /v1/imports (files, or URLs) → a job; GET /v1/imports/{id} → its progress;
GET /v1/imports → the import history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from pydantic import ValidationError
from slowapi import Limiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.accounts import keys
from api.accounts.users import workspace_id as personal_workspace
from api.config import Settings
from api.http.dependencies import CallerDep, DbDep, ServicesDep
from api.http.schemas import ImportJob, ImportJobList, ImportUrls
from api.importers.inputs import Input, Limits, UrlItem
from api.importers.model import ItemError
from api.pipeline import jobs

UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Exports, notes or zips; the format is detected.",
                        },
                        "workspace_id": {"type": "string", "format": "uuid"},
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": ImportUrls.model_json_schema()},
        },
    }
}


def router(limiter: Limiter, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/imports", tags=["imports"])

    @api.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=ImportJob,
        summary="Import files or links",
        description="Multipart upload of one or more files (exports, notes, zips), or a JSON "
        "body with URLs. Returns the job at once; poll GET /v1/imports/{id} for progress.",
        openapi_extra=UPLOAD_SCHEMA,
        responses={413: {"description": "Too large"}, 415: {"description": "Unsupported type"}},
    )
    @limiter.limit(settings.rate_limit)
    async def create_import(
        request: Request, background: BackgroundTasks, caller: CallerDep, svc: ServicesDep
    ) -> ImportJob:
        guest = bool(caller.claims.get("is_anonymous"))
        cap = settings.guest_max_upload_bytes if guest else settings.max_upload_bytes
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > cap + 64 * 1024:
            raise HTTPException(413, f"the upload is larger than {cap} bytes")
        content_type = request.headers.get("content-type", "")
        limits = Limits(max_file_bytes=cap, max_zip_total_bytes=cap * 20)
        if content_type.startswith("multipart/form-data"):
            inputs: list[Input | UrlItem | ItemError]
            inputs, workspace = await _uploads(request, settings, cap, limits)
        elif content_type.startswith("application/json"):
            try:
                body = ImportUrls.model_validate_json(await request.body())
            except ValidationError as exc:
                raise HTTPException(422, exc.errors(include_url=False)) from None
            workspace = body.workspace_id
            # UrlItems directly, not collect(): a string from a client is never a local path.
            inputs = [UrlItem(url) for url in body.urls]
        else:
            raise HTTPException(415, "send multipart/form-data files or a JSON body with urls")

        def start() -> dict[str, Any]:
            assert svc.pool is not None
            with svc.pool.connection() as conn:
                ws = workspace or personal_workspace(conn, caller)
                return jobs.create(conn, caller, ws, len(inputs))

        job = await run_in_threadpool(start)
        assert svc.pool is not None
        pool = svc.pool

        def key_for(provider: str) -> str:
            with pool.connection() as conn:
                return keys.resolve(conn, svc.keyring, settings, caller.user_id, provider)

        background.add_task(jobs.run, pool, caller, job["id"], job["workspace_id"], inputs, key_for)
        return ImportJob.model_validate(job)

    @api.get("", response_model=ImportJobList, summary="The import history")
    @limiter.limit(settings.rate_limit)
    def list_imports(
        request: Request,
        caller: CallerDep,
        conn: DbDep,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> ImportJobList:
        """The import jobs of the caller's workspaces, newest first, each as GET
        /v1/imports/{id} gives it."""
        rows = jobs.recent(conn, caller, limit)
        return ImportJobList(jobs=[ImportJob.model_validate(j) for j in rows])

    @api.get("/{job_id}", response_model=ImportJob, summary="An import's status and progress")
    @limiter.limit(settings.rate_limit)
    def get_import(request: Request, job_id: UUID, caller: CallerDep, conn: DbDep) -> ImportJob:
        job = jobs.get(conn, caller, job_id)
        if job is None:
            raise HTTPException(404, "no such import")
        return ImportJob.model_validate(job)

    return api


async def _uploads(
    request: Request, settings: Settings, cap: int, limits: Limits
) -> tuple[list[Input | UrlItem | ItemError], UUID | None]:
    form = await request.form(max_files=settings.max_upload_files, max_fields=10)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not files:
        raise HTTPException(422, "no files: send them in the 'files' field")
    raw_workspace = form.get("workspace_id")
    try:
        workspace = UUID(raw_workspace) if isinstance(raw_workspace, str) else None
    except ValueError:
        raise HTTPException(422, "workspace_id is not a UUID") from None
    inputs: list[Input | UrlItem | ItemError] = []
    total = 0
    for upload in files:
        data = await upload.read(cap + 1)
        total += len(data)
        if len(data) > cap or total > cap:
            raise HTTPException(413, f"the upload is larger than {cap} bytes")
        inputs.extend(jobs.upload_inputs(upload.filename or "upload", data, limits))
    return inputs, workspace
