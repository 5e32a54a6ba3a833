"""Import endpoints: upload a file (its columns mapped by suggestion, template or as given),
adjust the mapping and options, dry-run it, run it in the background and follow its progress,
cancel or resume it, and fetch the rejected rows (JSON, or CSV ready to fix and re-import).

Marketers, sales managers and administrators import; the others see nothing here.
"""

import csv
import io
import json
import re
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from leadcycle.imports import schemas, selectors, services
from leadcycle.imports.models import ImportJob, ImportRowError, MappingTemplate
from leadcycle.users.permissions import require

router = Router(tags=["imports"])


def _job(job_id: int) -> ImportJob:
    return get_object_or_404(ImportJob, pk=job_id)


def _json_field(text: str | None, name: str) -> Any:
    if text in (None, ""):
        return None
    try:
        return json.loads(str(text))
    except ValueError:
        raise ValidationError(
            {name: ValidationError("Not valid JSON.", code="invalid_json")}
        ) from None


@router.post("/imports", response={201: schemas.ImportOut}, operation_id="import_create")
def import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    entity: Form[str],
    mapping: Form[str | None] = None,
    template: Form[str | None] = None,
    options: Form[str | None] = None,
) -> Status[dict[str, Any]]:
    """Upload a CSV or XLSX file of ``accounts``, ``contacts`` or ``leads`` (multipart). Its
    columns are mapped from ``template`` (a saved mapping's name), else suggested from the
    headers; ``mapping`` (JSON, by header) and ``options`` (JSON) adjust that. Nothing is
    imported until ``/run``."""
    require(request.user, "add", ImportJob)
    chosen = None
    if template:
        chosen = MappingTemplate.objects.filter(name=template, entity=entity).first()
        if chosen is None:
            raise ValidationError(
                {"template": ValidationError("No such mapping.", code="unknown_template")}
            )
    job = services.import_create(
        by=request.user,
        entity=entity,
        upload=cast(IO[bytes], file),
        file_name=file.name or "upload",
        mapping=_json_field(mapping, "mapping"),
        template=chosen,
        options=_json_field(options, "options"),
    )
    return Status(201, selectors.job_view(job))


@router.get("/imports", response=list[schemas.ImportOut], operation_id="import_list")
def import_list(request: HttpRequest) -> list[dict[str, Any]]:
    require(request.user, "view", ImportJob)
    return [selectors.job_view(job) for job in ImportJob.objects.all()[:100]]


@router.get("/imports/{job_id}", response=schemas.ImportOut, operation_id="import_get")
def import_get(request: HttpRequest, job_id: int) -> dict[str, Any]:
    """The job: its progress (``rows_done`` of ``rows_total``, ``percent``) and counts."""
    require(request.user, "view", ImportJob)
    return selectors.job_view(_job(job_id))


@router.patch("/imports/{job_id}", response=schemas.ImportOut, operation_id="import_update")
def import_update(
    request: HttpRequest, job_id: int, payload: schemas.ImportPatch
) -> dict[str, Any]:
    """Change the mapping or options before the import starts."""
    require(request.user, "change", ImportJob)
    data = payload.dict(exclude_unset=True)
    mapping = data.pop("mapping", None)
    job = services.import_update(job=_job(job_id), by=request.user, mapping=mapping, options=data)
    return selectors.job_view(job)


def _action(request: HttpRequest, job_id: int, action: str) -> Status[dict[str, Any]]:
    require(request.user, "change", ImportJob)
    job = _job(job_id)
    if action == "dry-run":
        services.import_start(job=job, by=request.user, dry_run=True)
    elif action == "run":
        services.import_start(job=job, by=request.user)
    elif action == "resume":
        services.import_resume(job=job, by=request.user)
    else:
        services.import_cancel(job=job, by=request.user)
    return Status(202, selectors.job_view(_job(job_id)))


@router.post(
    "/imports/{job_id}/dry-run", response={202: schemas.ImportOut}, operation_id="import_dry_run"
)
def import_dry_run(request: HttpRequest, job_id: int) -> Status[dict[str, Any]]:
    """Count what the import would create, update, leave unchanged and reject, with the first
    errors, writing nothing (in the background: poll the job for ``dry_run``)."""
    return _action(request, job_id, "dry-run")


@router.post("/imports/{job_id}/run", response={202: schemas.ImportOut}, operation_id="import_run")
def import_run(request: HttpRequest, job_id: int) -> Status[dict[str, Any]]:
    """Start the import in the background; poll the job for its progress."""
    return _action(request, job_id, "run")


@router.post(
    "/imports/{job_id}/resume", response={202: schemas.ImportOut}, operation_id="import_resume"
)
def import_resume(request: HttpRequest, job_id: int) -> Status[dict[str, Any]]:
    """Continue a failed, cancelled or interrupted import from its last committed batch."""
    return _action(request, job_id, "resume")


@router.post(
    "/imports/{job_id}/cancel", response={202: schemas.ImportOut}, operation_id="import_cancel"
)
def import_cancel(request: HttpRequest, job_id: int) -> Status[dict[str, Any]]:
    """Stop after the batch in flight; what was imported stays."""
    return _action(request, job_id, "cancel")


@router.get(
    "/imports/{job_id}/errors", response=list[schemas.RowErrorOut], operation_id="import_errors"
)
def import_errors(
    request: HttpRequest, job_id: int, offset: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """The rejected rows: line in the file, column, reason and the row's values."""
    require(request.user, "view", ImportJob)
    limit = max(1, min(limit, 1000))
    rows = ImportRowError.objects.filter(job=_job(job_id))[max(0, offset) : max(0, offset) + limit]
    return [
        {"row": e.row_number, "column": e.column, "reason": e.reason, "values": e.values}
        for e in rows
    ]


@router.get("/imports/{job_id}/errors.csv", operation_id="import_errors_csv")
def import_errors_csv(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    """The rejected rows as the file had them plus a reason column: fix them and re-import."""
    require(request.user, "view", ImportJob)
    return errors_csv_response(_job(job_id))


def errors_csv_response(job: ImportJob) -> StreamingHttpResponse:
    def lines() -> Any:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
        for row in services.errors_csv_rows(job):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", job.file_name.rsplit(".", 1)[0]).strip("._") or "import"
    response["Content-Disposition"] = f'attachment; filename="{stem}-rejected.csv"'
    return response


@router.post(
    "/imports/{job_id}/mapping",
    response={201: schemas.MappingOut},
    operation_id="import_mapping_save",
)
def import_mapping_save(
    request: HttpRequest, job_id: int, payload: schemas.SaveMappingIn
) -> Status[MappingTemplate]:
    """Save the job's mapping under a name, to reuse for the next file like it."""
    require(request.user, "add", MappingTemplate)
    return Status(
        201, services.job_template_save(job=_job(job_id), by=request.user, name=payload.name)
    )


@router.get("/import-mappings", response=list[schemas.MappingOut], operation_id="mapping_list")
def mapping_list(request: HttpRequest) -> list[MappingTemplate]:
    require(request.user, "view", MappingTemplate)
    return list(MappingTemplate.objects.all())


@router.post("/import-mappings", response={201: schemas.MappingOut}, operation_id="mapping_create")
def mapping_create(request: HttpRequest, payload: schemas.MappingIn) -> Status[MappingTemplate]:
    require(request.user, "add", MappingTemplate)
    return Status(
        201,
        services.mapping_template_save(
            by=request.user, name=payload.name, entity=payload.entity, columns=payload.columns
        ),
    )


@router.delete("/import-mappings/{mapping_id}", response={204: None}, operation_id="mapping_delete")
def mapping_delete(request: HttpRequest, mapping_id: int) -> HttpResponse:
    require(request.user, "delete", MappingTemplate)
    get_object_or_404(MappingTemplate, pk=mapping_id).delete()
    return HttpResponse(status=204)
