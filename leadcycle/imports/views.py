"""The import wizard: upload a file → check its column mapping and options → dry run → run
with a live progress bar → summary and the rejected rows to download, fix and re-import."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.errors import DomainError
from leadcycle.imports import selectors, services
from leadcycle.imports.api import errors_csv_response
from leadcycle.imports.fields import TARGETS
from leadcycle.imports.models import Entity, ImportJob, ImportRowError, MappingTemplate
from leadcycle.intake.models import MatchingStrategy
from leadcycle.users.permissions import can, require

ERRORS_SHOWN = 50


class UploadForm(forms.Form):
    file = forms.FileField(label="File (CSV or XLSX)")
    entity = forms.ChoiceField(label="The rows are", choices=Entity.choices, initial="leads")
    template = forms.ModelChoiceField(
        label="Saved mapping",
        queryset=MappingTemplate.objects.all(),
        required=False,
        empty_label="Suggest from the headers",
    )


def _messages_of(exc: ValidationError | DomainError) -> dict[str, str]:
    if isinstance(exc, DomainError):
        return {"import": exc.message}
    if hasattr(exc, "error_dict"):
        return {k: " ".join(e.messages) for k, errs in exc.error_dict.items() for e in errs[:1]}
    return {"import": " ".join(exc.messages)}


def import_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", ImportJob)
    context = {
        "jobs": ImportJob.objects.select_related("created_by")[:100],
        "templates": MappingTemplate.objects.all(),
        "can_add": can(request.user, "add", ImportJob),
    }
    return render(request, "imports/list.html", context)


@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    require(request.user, "add", ImportJob)
    form = UploadForm(request.POST or None, request.FILES or None)
    errors: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_create(
                by=request.user,
                entity=form.cleaned_data["entity"],
                upload=upload,
                file_name=upload.name,
                template=form.cleaned_data["template"],
            )
        except (ValidationError, DomainError) as exc:
            errors = _messages_of(exc)
        else:
            return redirect(reverse("imports:job", args=[job.pk]))
    status = 422 if request.method == "POST" else 200
    return render(request, "imports/new.html", {"form": form, "errors": errors}, status=status)


def _job_context(request: HttpRequest, job: ImportJob, errors: dict[str, str]) -> dict[str, Any]:
    view = selectors.job_view(job)
    targets = TARGETS[job.entity]
    return {
        "job": job,
        "view": view,
        "errors": errors,
        "groups": [
            (label, [(path, t.label) for path, t in targets.items() if path.startswith(prefix)])
            for label, prefix in (
                ("Lead", "lead."),
                ("Contact", "contact."),
                ("Company", "account."),
            )
            if any(p.startswith(prefix) for p in targets)
        ],
        "contact_strategies": MatchingStrategy.objects.filter(target="contact"),
        "lead_strategies": MatchingStrategy.objects.filter(target="lead"),
        "on_match_choices": ImportJob.OnMatch.choices,
        "row_errors": ImportRowError.objects.filter(job=job)[:ERRORS_SHOWN],
        "running": job.status
        in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.CANCELLING),
        "dry": job.dry_run or {},
        "can_change": can(request.user, "change", ImportJob),
        "can_save_template": can(request.user, "add", MappingTemplate),
    }


def _options_from(post: Any, job: ImportJob) -> dict[str, Any]:
    options: dict[str, Any] = {
        "on_match": post.get("on_match", job.on_match),
        "create_missing": post.get("create_missing") == "on",
        "react": post.get("react") == "on",
        "default_topic": post.get("default_topic", ""),
        "default_campaign": post.get("default_campaign", ""),
    }
    if job.entity != Entity.ACCOUNTS:
        options["contact_strategy"] = post.get("contact_strategy") or None
    if job.entity == Entity.LEADS:
        options["lead_strategy"] = post.get("lead_strategy") or "always"
    return options


@require_http_methods(["GET", "POST"])
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The job: its mapping and options while it has not started, its progress while it
    runs, its summary and rejected rows once it has."""
    require(request.user, "view", ImportJob)
    job = get_object_or_404(ImportJob, pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        require(request.user, "change", ImportJob)
        action = request.POST.get("action", "save")
        try:
            if job.status == ImportJob.Status.DRAFT and action in ("save", "dry-run", "run"):
                mapping = [request.POST.get(f"column-{i}") or None for i in range(len(job.headers))]
                job = services.import_update(
                    job=job,
                    by=request.user,
                    mapping=mapping,
                    options=_options_from(request.POST, job),
                )
            if action == "dry-run":
                services.import_start(job=job, by=request.user, dry_run=True)
                messages.info(request, "Dry run: nothing is written.")
            elif action == "run":
                services.import_start(job=job, by=request.user)
                messages.success(request, "Import started.")
            elif action == "cancel":
                services.import_cancel(job=job, by=request.user)
            elif action == "resume":
                services.import_resume(job=job, by=request.user)
            elif action == "template":
                require(request.user, "add", MappingTemplate)
                template = services.job_template_save(
                    job=job, by=request.user, name=request.POST.get("template_name", "")
                )
                messages.success(request, f"Mapping saved as “{template}”.")
            elif action == "discard":
                services.import_discard(job=job, by=request.user)
                messages.success(request, "Import discarded.")
                return redirect(reverse("imports:list"))
        except (ValidationError, DomainError) as exc:
            errors = _messages_of(exc)
            job.refresh_from_db()
        else:
            return redirect(reverse("imports:job", args=[job.pk]))
    context = _job_context(request, job, errors)
    return render(request, "imports/job.html", context, status=422 if errors else 200)


def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx, every second while the job (or its dry run) runs: the progress card."""
    require(request.user, "view", ImportJob)
    job = get_object_or_404(ImportJob, pk=pk)
    return render(request, "imports/_progress.html", _job_context(request, job, {}))


def job_errors_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    require(request.user, "view", ImportJob)
    return errors_csv_response(get_object_or_404(ImportJob, pk=pk))


@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "delete", MappingTemplate)
    get_object_or_404(MappingTemplate, pk=pk).delete()
    messages.success(request, "Mapping deleted.")
    return redirect(reverse("imports:list"))
