"""POST /v1/imports (files, or URLs) → a job; GET /v1/imports/{id} → its progress;
GET /v1/imports → the import history."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from api.accounts.users import workspace_id as personal_workspace
from api.config import Settings
from api.http.dependencies import CallerDep, DbDep, ServicesDep, rate_limit
from api.http.schemas import ImportJob, ImportJobList, ImportUrls
from api.importers.fetch import FetchPolicy
from api.importers.inputs import Input, Limits, Upload, UrlItem
from api.importers.model import ItemError
from api.importers.options import ImportOptions
from api.pipeline import jobs
from api.providers import choice

# Room for the multipart framing and the workspace_id field around the files themselves.
MULTIPART_OVERHEAD = 64 * 1024
MAX_JSON_BYTES = 64 * 1024  # 20 URLs of 2,000 characters fit
COPY_CHUNK_BYTES = 1024 * 1024
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


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(
        prefix="/v1/imports", tags=["imports"], dependencies=[rate_limit(settings.rate_limit)]
    )

    @routes.post(
        "",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=ImportJob,
        summary="Import files or links",
        description="Multipart upload of one or more files (exports, notes, zips), or a JSON "
        "body with URLs. Returns the job at once; poll GET /v1/imports/{id} for progress.",
        openapi_extra=UPLOAD_SCHEMA,
        responses={413: {"description": "Too large"}, 415: {"description": "Unsupported type"}},
        # Above the app's limit for other bodies; each caller's own cap is checked below.
        max_body_size=max(settings.max_upload_bytes, settings.guest_max_upload_bytes)
        + MULTIPART_OVERHEAD,
    )
    async def create_import(
        request: Request, background: BackgroundTasks, caller: CallerDep, svc: ServicesDep
    ) -> ImportJob:
        guest = bool(caller.claims.get("is_anonymous"))
        cap = settings.guest_max_upload_bytes if guest else settings.max_upload_bytes
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > cap + MULTIPART_OVERHEAD:
            raise HTTPException(413, f"the upload is larger than {cap} bytes")
        content_type = request.headers.get("content-type", "")
        limits = Limits(max_file_bytes=cap, max_zip_total_bytes=cap * 20)
        # A fetched page or zip is held to the caller's cap as an upload is.
        options = ImportOptions(fetch=FetchPolicy(max_bytes=cap), limits=limits)
        inputs: list[Input | Upload | UrlItem | ItemError]
        folder = Path(tempfile.mkdtemp(prefix="knitter-upload-"))
        try:
            if content_type.startswith("multipart/form-data"):
                body = capped(request, cap + MULTIPART_OVERHEAD, f"larger than {cap} bytes")
                uploads, workspace = await _uploads(body, settings, cap, folder)
                inputs = list(uploads)
                files = [{"name": u.name, "size": u.path.stat().st_size} for u in uploads]
            elif content_type.startswith("application/json"):
                body = capped(request, MAX_JSON_BYTES, f"larger than {MAX_JSON_BYTES} bytes")
                try:
                    urls = ImportUrls.model_validate_json(await body.body())
                except ValidationError as exc:
                    # Without the input: it may be bytes (malformed JSON), which JSON
                    # cannot hold.
                    errors = exc.errors(
                        include_url=False, include_input=False, include_context=False
                    )
                    raise HTTPException(422, errors) from None
                workspace = urls.workspace_id
                options = replace(options, youtube_languages=tuple(urls.languages))
                # UrlItems directly, not collect(): a client's string is never a local path.
                inputs = [UrlItem(url) for url in urls.urls]
                files = [{"name": url, "size": None} for url in urls.urls]
            else:
                raise HTTPException(415, "send multipart/form-data files or a JSON body with urls")

            def start() -> dict[str, Any]:
                assert svc.pool is not None
                with svc.pool.connection() as conn:
                    ws = workspace or personal_workspace(conn, caller)
                    return jobs.create(conn, caller, ws, len(inputs), files)

            job = await run_in_threadpool(start)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        assert svc.pool is not None
        pool = svc.pool

        def key_for(provider: str) -> str:
            with pool.connection() as conn:
                return choice.api_key(conn, svc.keyring, settings, caller.user_id, provider)

        def run_job() -> None:
            # After the response: the uploads are read (and unpacked) here, not in the
            # request, and their files go when the job is done.
            try:
                jobs.run(
                    pool,
                    caller,
                    job["id"],
                    job["workspace_id"],
                    inputs,
                    settings,
                    key_for,
                    options,
                    settings.import_job_stale_seconds,
                )
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        async def run() -> None:
            # At most IMPORT_CONCURRENCY jobs at once; the others wait holding nothing.
            await anyio.to_thread.run_sync(run_job, limiter=svc.import_limiter)

        background.add_task(run)
        return ImportJob.model_validate(job)

    @routes.get("", response_model=ImportJobList, summary="The import history")
    def list_imports(
        caller: CallerDep,
        conn: DbDep,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> ImportJobList:
        """The import jobs of the caller's workspaces, newest first, each as GET
        /v1/imports/{id} gives it."""
        rows = jobs.recent(conn, caller, limit)
        return ImportJobList(jobs=[ImportJob.model_validate(j) for j in rows])

    @routes.get("/{job_id}", response_model=ImportJob, summary="An import's status and progress")
    def get_import(job_id: UUID, caller: CallerDep, conn: DbDep) -> ImportJob:
        job = jobs.get(conn, caller, job_id, settings.import_job_stale_seconds)
        if job is None:
            raise HTTPException(404, "no such import")
        return ImportJob.model_validate(job)

    return routes


def capped(request: Request, cap: int, message: str) -> Request:
    """The request, reading whose body stops with a 413 as soon as more than cap bytes
    have arrived (a chunked body declares no length to check beforehand)."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message_ = await request.receive()
        if message_["type"] == "http.request":
            received += len(message_.get("body", b""))
            if received > cap:
                raise HTTPException(413, f"the request body is {message}")
        return message_

    return Request(request.scope, receive)


async def _uploads(
    request: Request, settings: Settings, cap: int, folder: Path
) -> tuple[list[Upload], UUID | None]:
    """The uploaded files, copied to `folder` in pieces (never whole in memory)."""
    form = await request.form(max_files=settings.max_upload_files, max_fields=10)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not files:
        raise HTTPException(422, "no files: send them in the 'files' field")
    raw_workspace = form.get("workspace_id")
    try:
        workspace = UUID(raw_workspace) if isinstance(raw_workspace, str) else None
    except ValueError:
        raise HTTPException(422, "workspace_id is not a UUID") from None
    uploads: list[Upload] = []
    total = 0
    for i, upload in enumerate(files):
        path = folder / str(i)
        with path.open("wb") as out:
            while chunk := await upload.read(COPY_CHUNK_BYTES):
                total += len(chunk)
                if total > cap:
                    raise HTTPException(413, f"the upload is larger than {cap} bytes")
                out.write(chunk)
        uploads.append(Upload(upload.filename or "upload", path))
    return uploads, workspace
