"""Intake staff pages: marketing forms and their field builder with a live preview, the
submissions of a form, matching strategies and the default strategy pair.

Every view checks the role with the permissions the API uses, calls one service or selector and
renders; when htmx asks, it answers with the fragment that changed (the builder and the preview,
a table, a form with its errors) and otherwise with the whole page, so everything also works
without JavaScript.
"""

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadcycle.crm.models import Contact, Lead
from leadcycle.errors import DomainError
from leadcycle.intake import selectors, services
from leadcycle.intake.fields import FIELDS
from leadcycle.intake.forms import (
    FormFieldForm,
    IntakeSettingsForm,
    MarketingFormForm,
    StrategyForm,
    strategy_slots,
)
from leadcycle.intake.models import (
    FormField,
    FormSubmission,
    IntakeSettings,
    MarketingForm,
    MatchingStrategy,
)
from leadcycle.intake.services import HONEYPOT_FIELD
from leadcycle.users.permissions import can, require


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if _htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _add_errors(form: forms.BaseForm, exc: ValidationError | DomainError) -> None:
    """Service errors next to the fields they name (``contact_strategy_id`` → its select)."""
    if isinstance(exc, DomainError):
        form.add_error(None, exc.message)
        return
    for name, errors in exc.message_dict.items():
        target = name.removesuffix("_id")
        form.add_error(target if target in form.fields else None, errors)


# Forms -----------------------------------------------------------------------------------------


def form_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", MarketingForm)
    errors: dict[str, list[str]] = {}
    try:
        page = selectors.forms_page(params=request.GET)
    except ValidationError as exc:
        errors = exc.message_dict
        page = selectors.forms_page(params={})
    context = {
        "page": page,
        "errors": errors,
        "can_add": can(request.user, "add", MarketingForm),
        "can_view_submissions": can(request.user, "view", FormSubmission),
        "update_modes": MarketingForm.UpdateMode.choices,
    }
    template = "intake/staff/_form_table.html" if _htmx(request) else "intake/staff/form_list.html"
    return render(request, template, context, status=400 if errors else 200)


def _render_settings(
    request: HttpRequest, form: MarketingFormForm, record: MarketingForm | None
) -> HttpResponse:
    context = {"form": form, "record": record}
    template = (
        "intake/staff/_settings_form.html" if _htmx(request) else "intake/staff/form_settings.html"
    )
    return render(request, template, context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def form_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "add", MarketingForm)
    if request.method == "GET":
        defaults = selectors.intake_settings()
        initial = {
            "contact_strategy": defaults.default_contact_strategy if defaults else None,
            "lead_strategy": defaults.default_lead_strategy if defaults else None,
        }
        return _render_settings(request, MarketingFormForm(initial=initial), None)
    form = MarketingFormForm(request.POST)
    if form.is_valid():
        try:
            record = services.form_create(by=request.user, data=form.service_data())
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Form “{record}” created. Now add its questions.")
            return _done(request, reverse("intake:form_detail", args=[record.pk]))
    return _render_settings(request, form, None)


@require_http_methods(["GET", "POST"])
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", MarketingForm)
    record = get_object_or_404(MarketingForm, pk=pk)
    if request.method == "GET":
        return _render_settings(request, MarketingFormForm(instance=record), record)
    # The form validates a copy, so the service still sees the values before the change.
    form = MarketingFormForm(request.POST, instance=MarketingForm.objects.get(pk=pk))
    if form.is_valid():
        try:
            services.form_update(
                form=record, by=request.user, data=form.service_data(form.changed_data)
            )
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Form “{record}” saved.")
            return _done(request, reverse("intake:form_detail", args=[pk]))
    return _render_settings(request, form, record)


@require_POST
def form_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "delete", MarketingForm)
    record = get_object_or_404(MarketingForm, pk=pk)
    try:
        services.form_delete(form=record, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("intake:form_detail", pk=pk)
    messages.success(request, f"Form “{record}” deleted.")
    return redirect("intake:form_list")


def _form_for_builder(pk: int) -> MarketingForm:
    return get_object_or_404(
        MarketingForm.objects.select_related("contact_strategy", "lead_strategy"), pk=pk
    )


def _public_urls(request: HttpRequest, form: MarketingForm) -> dict[str, str]:
    return {
        "hosted_url": request.build_absolute_uri(reverse("hosted_form", args=[form.slug])),
        "submit_url": request.build_absolute_uri(f"/api/v1/public/forms/{form.slug}/submissions"),
    }


_EXAMPLES = {
    "contact.email": "ada.lovelace@example.com",
    "contact.first_name": "Ada",
    "contact.last_name": "Lovelace",
    "contact.job_title": "CTO",
    "contact.phone": "+46 70 123 45 67",
    "contact.country": "Sweden",
    "account.name": "Analytical Engines AB",
    "account.web_domain": "analytical-engines.example",
}


def _example_answers(questions: list[FormField]) -> dict[str, Any]:
    """A plausible answer per question, for the embed snippet."""
    answers: dict[str, Any] = {}
    for q in questions:
        if q.kind == FormField.Kind.CONSENT:
            answers[q.key] = True
        elif q.kind == FormField.Kind.CHOICE:
            answers[q.key] = (q.choice_list() or [""])[0]
        elif q.kind == FormField.Kind.NUMBER:
            answers[q.key] = 42
        else:
            answers[q.key] = _EXAMPLES.get(q.maps_to, q.label[:40])
    return answers


def _builder_context(
    request: HttpRequest,
    form: MarketingForm,
    editor: FormFieldForm | None = None,
    editing: FormField | None = None,
) -> dict[str, Any]:
    questions = selectors.form_questions(form)
    can_change = can(request.user, "change", MarketingForm)
    if editor is None and can_change:
        editor = FormFieldForm(auto_id="id_q_%s")
    answers = _example_answers(questions)
    return {
        "record": form,
        "questions": questions,
        "editor": editor,
        "editing": editing,
        "can_change": can_change,
        "can_delete": can(request.user, "delete", MarketingForm),
        "can_view_submissions": can(request.user, "view", FormSubmission),
        "warnings": selectors.form_warnings(form, questions),
        "field_labels": {path: spec.label for path, spec in FIELDS.items()},
        "example_json": json.dumps(answers, indent=2, ensure_ascii=False),
        # Inside single quotes in a shell: a quote closes, escapes and reopens.
        "example_json_shell": json.dumps(answers, ensure_ascii=False).replace("'", "'\\''"),
        **_public_urls(request, form),
        **_preview_context(form, questions),
    }


def _preview_context(
    form: MarketingForm, questions: list[FormField], draft: bool = False
) -> dict[str, Any]:
    # The names the hosted page's partial (intake/public/_fields.html) expects.
    return {
        "form": form,
        "questions": questions,
        "values": {},
        "errors": {},
        "honeypot": HONEYPOT_FIELD,
        "draft": draft,
    }


def _render_builder(
    request: HttpRequest,
    form: MarketingForm,
    editor: FormFieldForm | None = None,
    editing: FormField | None = None,
) -> HttpResponse:
    context = _builder_context(request, form, editor, editing)
    status = 422 if editor is not None and editor.errors else 200
    if _htmx(request) and request.headers.get("HX-Target") == "builder":
        return render(request, "intake/staff/_builder_swap.html", context, status=status)
    return render(request, "intake/staff/form_detail.html", context, status=status)


def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The form's page: its field builder, the live preview and the embed snippet."""
    require(request.user, "view", MarketingForm)
    return _render_builder(request, _form_for_builder(pk))


@require_POST
def field_add(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", MarketingForm)
    form = _form_for_builder(pk)
    editor = FormFieldForm(request.POST, auto_id="id_q_%s")
    if editor.is_valid():
        try:
            question = services.form_field_create(
                form=form, by=request.user, data=editor.service_data()
            )
        except (ValidationError, DomainError) as exc:
            _add_errors(editor, exc)
        else:
            if not _htmx(request):
                messages.success(request, f"Question “{question}” added.")
                return redirect("intake:form_detail", pk=pk)
            return _render_builder(request, form)
    return _render_builder(request, form, editor)


@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    require(request.user, "change", MarketingForm)
    form = _form_for_builder(pk)
    question = get_object_or_404(FormField, pk=field_pk, form=form)
    if request.method == "GET":
        editor = FormFieldForm(instance=question, auto_id="id_q_%s")
        return _render_builder(request, form, editor, question)
    editor = FormFieldForm(
        request.POST, instance=FormField.objects.get(pk=field_pk), auto_id="id_q_%s"
    )
    if editor.is_valid():
        try:
            services.form_field_update(field=question, by=request.user, data=editor.service_data())
        except (ValidationError, DomainError) as exc:
            _add_errors(editor, exc)
        else:
            if not _htmx(request):
                messages.success(request, f"Question “{question}” saved.")
                return redirect("intake:form_detail", pk=pk)
            return _render_builder(request, form)
    return _render_builder(request, form, editor, question)


@require_POST
def field_delete(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    require(request.user, "change", MarketingForm)
    form = _form_for_builder(pk)
    question = get_object_or_404(FormField, pk=field_pk, form=form)
    services.form_field_delete(field=question, by=request.user)
    if not _htmx(request):
        messages.success(request, f"Question “{question}” removed.")
        return redirect("intake:form_detail", pk=pk)
    return _render_builder(request, form)


@require_POST
def field_move(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    require(request.user, "change", MarketingForm)
    form = _form_for_builder(pk)
    question = get_object_or_404(FormField, pk=field_pk, form=form)
    questions = selectors.form_questions(form)
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    services.form_field_move(field=question, by=request.user, to=index + step)
    if not _htmx(request):
        return redirect("intake:form_detail", pk=pk)
    return _render_builder(request, form)


@require_GET
def form_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview as the hosted page shows it. With the builder's editor values in the query
    (``draft=1``), the question being written appears in it before it is saved."""
    require(request.user, "view", MarketingForm)
    form = _form_for_builder(pk)
    questions = selectors.form_questions(form)
    draft = request.GET.get("draft") == "1"
    if draft:
        editing = request.GET.get("editing", "")
        unsaved = FormField(
            form=form,
            key=request.GET.get("key", "").strip() or "new_question",
            label=request.GET.get("label", "").strip()[:200] or "New question",
            kind=request.GET.get("kind", FormField.Kind.TEXT),
            required=request.GET.get("required") in ("on", "true", "1"),
            choices=request.GET.get("choices", "")[:5000],
            help_text=request.GET.get("help_text", "").strip()[:300],
        )
        if any(str(q.pk) == editing for q in questions):
            questions = [unsaved if str(q.pk) == editing else q for q in questions]
        else:
            questions = [*questions, unsaved]
    return render(request, "intake/staff/_preview.html", _preview_context(form, questions, draft))


def submissions(request: HttpRequest, pk: int) -> HttpResponse:
    """A form's submissions with what each one did: contact and lead found, created or updated."""
    require(request.user, "view", FormSubmission)
    form = get_object_or_404(MarketingForm, pk=pk)
    errors: dict[str, list[str]] = {}
    try:
        page = selectors.form_submissions_page(form=form, params=request.GET)
    except ValidationError as exc:
        errors = exc.message_dict
        page = selectors.form_submissions_page(form=form, params={})
    context = {
        "record": form,
        "page": page,
        "errors": errors,
        "statuses": FormSubmission.Status.choices,
        "can_view_form": can(request.user, "view", MarketingForm),
        "can_view_contacts": can(request.user, "view", Contact),
        "can_view_leads": can(request.user, "view", Lead),
    }
    name = "_submissions_table.html" if _htmx(request) else "submissions.html"
    return render(request, f"intake/staff/{name}", context, status=400 if errors else 200)


# Matching strategies and settings ---------------------------------------------------------------


def strategy_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", MatchingStrategy)
    strategies = list(MatchingStrategy.objects.order_by("target", "name"))
    usage = selectors.strategy_usage()
    defaults = selectors.intake_settings()
    default_ids = (
        {defaults.default_contact_strategy_id, defaults.default_lead_strategy_id}
        if defaults
        else set()
    )
    rows = [
        {
            "strategy": s,
            "fields": [FIELDS[p].label if p in FIELDS else p for p in s.fields],
            "used_by": usage.get(s.pk, 0),
            "is_default": s.pk in default_ids,
        }
        for s in strategies
    ]
    context = {
        "rows": rows,
        "defaults": defaults,
        "can_add": can(request.user, "add", MatchingStrategy),
        "can_change": can(request.user, "change", MatchingStrategy),
    }
    return render(request, "intake/staff/strategy_list.html", context)


def _render_strategy(
    request: HttpRequest, form: StrategyForm, record: MatchingStrategy | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "record": record,
        "can_delete": record is not None and can(request.user, "delete", MatchingStrategy),
        "used_by": services.strategy_users(record) if record is not None else [],
    }
    template = (
        "intake/staff/_strategy_form.html" if _htmx(request) else "intake/staff/strategy_form.html"
    )
    return render(request, template, context, status=422 if form.errors else status)


def _strategy_post(request: HttpRequest, record: MatchingStrategy | None) -> HttpResponse:
    """Save, or (``_refresh``: the target changed or a field place was asked for) show the
    form again with the places and field choices of the chosen target."""
    target = request.POST.get("target", "")
    if "_refresh" in request.POST or "_add_field" in request.POST:
        allowed = {p for p, _ in selectors.matchable_choices(target)}
        chosen = [
            request.POST[name]
            for name in sorted(
                (k for k in request.POST if k.startswith("field_")),
                key=lambda k: int(k.removeprefix("field_") or 0),
            )
            if request.POST[name] in allowed
        ]
        slots = strategy_slots(request.POST, target) + ("_add_field" in request.POST)
        initial = {
            "name": request.POST.get("name", ""),
            "target": target,
            "description": request.POST.get("description", ""),
            "fields": chosen,
        }
        return _render_strategy(request, StrategyForm(initial=initial, slots=slots), record)
    form = StrategyForm(request.POST, slots=strategy_slots(request.POST, target))
    if form.is_valid():
        try:
            if record is None:
                saved = services.strategy_create(by=request.user, data=form.service_data())
            else:
                saved = services.strategy_update(
                    strategy=record, by=request.user, data=form.service_data()
                )
        except (ValidationError, DomainError) as exc:
            if isinstance(exc, ValidationError):
                # The field places share one message, shown under them.
                others = {k: v for k, v in exc.message_dict.items() if k != "fields"}
                form.fields_errors = exc.message_dict.get("fields", [])
                if form.fields_errors:
                    form.add_error(None, "Check the fields the strategy compares.")
                if others:
                    _add_errors(form, ValidationError(others))
            else:
                _add_errors(form, exc)
        else:
            messages.success(request, f"Strategy “{saved}” saved.")
            return _done(request, reverse("intake:strategy_list"))
    return _render_strategy(request, form, record)


@require_http_methods(["GET", "POST"])
def strategy_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "add", MatchingStrategy)
    if request.method == "GET":
        target = request.GET.get("target", "contact")
        return _render_strategy(request, StrategyForm(initial={"target": target}), None)
    return _strategy_post(request, None)


@require_http_methods(["GET", "POST"])
def strategy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", MatchingStrategy)
    record = get_object_or_404(MatchingStrategy, pk=pk)
    if request.method == "GET":
        initial = {
            "name": record.name,
            "target": record.target,
            "description": record.description,
            "fields": record.fields,
        }
        return _render_strategy(request, StrategyForm(initial=initial), record)
    return _strategy_post(request, record)


@require_POST
def strategy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "delete", MatchingStrategy)
    record = get_object_or_404(MatchingStrategy, pk=pk)
    try:
        services.strategy_delete(strategy=record, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("intake:strategy_edit", pk=pk)
    messages.success(request, f"Strategy “{record}” deleted.")
    return redirect("intake:strategy_list")


@require_http_methods(["GET", "POST"])
def intake_settings(request: HttpRequest) -> HttpResponse:
    """The default strategy pair that new forms start with (administrators)."""
    require(request.user, "change", MatchingStrategy)
    current = services.intake_defaults_ensure()
    if request.method == "GET":
        form = IntakeSettingsForm(instance=current)
    else:
        form = IntakeSettingsForm(request.POST, instance=IntakeSettings.objects.get(pk=current.pk))
        if form.is_valid():
            try:
                services.intake_settings_update(by=request.user, data=form.service_data())
            except (ValidationError, DomainError) as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Default strategies saved. New forms start with them.")
                return redirect("intake:strategy_list")
    return render(
        request,
        "intake/staff/settings.html",
        {"form": form},
        status=422 if form.errors else 200,
    )
