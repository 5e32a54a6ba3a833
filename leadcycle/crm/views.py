"""The CRM pages: lists (search, filters, sort, pages; htmx swaps the table), record pages,
create/edit forms with inline errors, delete, and the record pickers used by forms.

Every view checks the user's role with the same permissions the API uses.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.audit.selectors import audit_trail
from leadcycle.crm import forms as crm_forms
from leadcycle.crm import saved_views, selectors, services
from leadcycle.crm.listing import ListSpec, list_page
from leadcycle.crm.models import Account, Contact, Interaction, Lead, Opportunity, Task
from leadcycle.errors import DomainError
from leadcycle.users.permissions import can, require
from leadcycle.users.roles import ROLE_LABELS


@dataclass(frozen=True)
class Column:
    label: str
    attr: str
    sort: str = ""
    link: bool = False


@dataclass(frozen=True)
class RecordUI:
    """How one record type appears in the UI."""

    key: str  # url name prefix: "contact"
    model: type[models.Model]
    spec: ListSpec[Any]
    form: type[forms.ModelForm]
    columns: tuple[Column, ...]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    detail_template: str
    detail_context: Callable[[Any], dict[str, Any]] = field(default=lambda record: {})

    @property
    def plural(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def singular(self) -> str:
        return str(self.model._meta.verbose_name)


def _contact_ctx(contact: Contact) -> dict[str, Any]:
    return {"view360": selectors.contact_360(contact=contact)}


def _lead_ctx(lead: Lead) -> dict[str, Any]:
    return selectors.lead_context(lead=lead)


def _account_ctx(account: Account) -> dict[str, Any]:
    return selectors.account_summary(account=account)


RECORDS: dict[str, RecordUI] = {
    ui.key: ui
    for ui in (
        RecordUI(
            "account",
            Account,
            selectors.ACCOUNT_LIST,
            crm_forms.AccountForm,
            (
                Column("Name", "name", "name", link=True),
                Column("Domain", "web_domain", "web_domain"),
                Column("Industry", "industry", "industry"),
                Column("Employees", "employees", "employees"),
                Column("Country", "country", "country"),
                Column("Owner", "owner"),
            ),
            services.account_create,
            services.account_update,
            services.account_delete,
            "crm/account_detail.html",
            _account_ctx,
        ),
        RecordUI(
            "contact",
            Contact,
            selectors.CONTACT_LIST,
            crm_forms.ContactForm,
            (
                Column("Name", "__str__", "last_name", link=True),
                Column("Email", "email", "email_normalized"),
                Column("Job title", "job_title", "job_title"),
                Column("Account", "account"),
                Column("Role", "get_role_display"),
                Column("Country", "country", "country"),
                Column("Marketing-only", "marketing_only"),
            ),
            services.contact_create,
            services.contact_update,
            services.contact_delete,
            "crm/contact_detail.html",
            _contact_ctx,
        ),
        RecordUI(
            "lead",
            Lead,
            selectors.LEAD_LIST,
            crm_forms.LeadForm,
            (
                Column("Topic", "topic", "topic", link=True),
                Column("Contact", "parent_contact"),
                Column("Account", "parent_account"),
                Column("Campaign", "campaign", "campaign"),
                Column("Status", "get_status_display", "status"),
                Column("Sales-ready", "sales_ready"),
                Column("Created", "created_at", "created_at"),
            ),
            services.lead_create,
            services.lead_update,
            services.lead_delete,
            "crm/lead_detail.html",
            _lead_ctx,
        ),
        RecordUI(
            "opportunity",
            Opportunity,
            selectors.OPPORTUNITY_LIST,
            crm_forms.OpportunityForm,
            (
                Column("Name", "name", "name", link=True),
                Column("Account", "account"),
                Column("Contact", "contact"),
                Column("Value", "value", "value"),
                Column("Stage", "get_stage_display", "stage"),
                Column("Expected close", "expected_close", "expected_close"),
            ),
            services.opportunity_create,
            services.opportunity_update,
            services.opportunity_delete,
            "crm/opportunity_detail.html",
        ),
        RecordUI(
            "task",
            Task,
            selectors.TASK_LIST,
            crm_forms.TaskForm,
            (
                Column("Subject", "subject", "subject", link=True),
                Column("Kind", "get_kind_display", "kind"),
                Column("Assignee", "assignee"),
                Column("Queue", "get_queue_display"),
                Column("Due", "due_at", "due_at"),
                Column("Done", "done", "done"),
            ),
            services.task_create,
            services.task_update,
            services.task_delete,
            "crm/task_detail.html",
        ),
    )
}


def _ui(key: str) -> RecordUI:
    return RECORDS[key]


def record_list(request: HttpRequest, key: str) -> HttpResponse:
    ui = _ui(key)
    require(request.user, "view", ui.model)
    errors: dict[str, list[str]] = {}
    view = None
    try:
        params, view = saved_views.view_params(request.user, key, request.GET.dict())
        page = list_page(ui.spec, params)
    except ValidationError as exc:
        errors = exc.message_dict
        page = list_page(ui.spec, {})
    wanted = set(view["columns"]) if view and view["columns"] else None
    columns = [c for c in ui.columns if wanted is None or c.label in wanted or c.link]
    rows = [(record, [_cell(record, col) for col in columns]) for record in page.items]
    context = {
        "ui": ui,
        "page": page,
        "rows": rows,
        "columns": columns,
        "views": saved_views.views_for(request.user, key),
        "current_view": view,
        "roles": ROLE_LABELS.items(),
        "errors": errors,
        "can_add": can(request.user, "add", ui.model),
        "filters": [
            (name, flt)
            for name, flt in ui.spec.filters.items()
            if flt.choices or flt.parse.__name__ == "_parse_bool"
        ],
        "querystring": request.GET.urlencode(),
    }
    template = "crm/_table.html" if request.htmx else "crm/list.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400 if errors else 200)


@require_POST
def view_save(request: HttpRequest, key: str) -> HttpResponse:
    """Save the list as it is shown now (its parameters, the ticked columns) as a view."""
    ui = _ui(key)
    require(request.user, "view", ui.model)
    params = dict(parse_qsl(request.POST.get("querystring", "")))
    params.pop("page", None)
    labels = [c.label for c in ui.columns]
    columns = [c for c in request.POST.getlist("columns") if c in labels]
    try:
        # The view's own parameters underneath, ``owner=me`` kept as "me" (whoever looks).
        base = saved_views.view_params_raw(request.user, key, params)
        view = saved_views.saved_view_create(
            user=request.user,  # type: ignore[arg-type]
            entity=key, spec=ui.spec, columns=columns,
            data={"name": request.POST.get("name", ""),
                  "shared_role": request.POST.get("shared_role", ""),
                  "params": {k: v for k, v in base.items() if k not in ("page", "page_size")}},
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(
            request, " ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        )
        return redirect(reverse(f"crm:{key}_list") + "?" + request.POST.get("querystring", ""))
    messages.success(request, f"View “{view.name}” saved.")
    return redirect(reverse(f"crm:{key}_list") + f"?view={view.pk}")


@require_POST
def view_delete(request: HttpRequest, key: str, view_id: int) -> HttpResponse:
    try:
        saved_views.saved_view_delete(user=request.user, view_id=view_id)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse(f"crm:{key}_list"))


def _cell(record: models.Model, column: Column) -> Any:
    value = getattr(record, column.attr)
    return value() if callable(value) else value


def _form_data(form: forms.ModelForm, names: list[str]) -> dict[str, Any]:
    """Service input from a valid form: foreign keys by id."""
    data: dict[str, Any] = {}
    model = form._meta.model
    for name in names:
        if name not in form.cleaned_data or name.startswith("new_contact_"):
            continue
        value = form.cleaned_data[name]
        model_field = model._meta.get_field(name)  # type: ignore[union-attr]
        if isinstance(model_field, models.ForeignKey):
            data[model_field.attname] = value.pk if value is not None else None
        else:
            data[name] = value
    return data


def _add_errors(form: forms.ModelForm, exc: ValidationError | DomainError) -> None:
    if isinstance(exc, DomainError):
        for name, message in exc.fields.items():
            form.add_error(name if name in form.fields else None, message)
        if not exc.fields:
            form.add_error(None, exc.message)
        return
    for name, errors in exc.message_dict.items():
        target = name.removesuffix("_id")
        if name.startswith("contact."):
            target = "new_contact_" + name.split(".", 1)[1]
        form.add_error(target if target in form.fields else None, errors)


def _render_form(
    request: HttpRequest, ui: RecordUI, form: forms.ModelForm, record: Any
) -> HttpResponse:
    context = {"ui": ui, "form": form, "record": record}
    template = "crm/_form.html" if request.htmx else "crm/form.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=422 if form.errors else 200)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_http_methods(["GET", "POST"])
def record_create(request: HttpRequest, key: str) -> HttpResponse:
    ui = _ui(key)
    require(request.user, "add", ui.model)
    if request.method == "GET":
        initial = {k: v for k, v in request.GET.items() if k in ui.form.base_fields}
        return _render_form(request, ui, ui.form(initial=initial), None)
    form = ui.form(request.POST)
    if form.is_valid():
        data = _form_data(form, list(form.fields))
        try:
            if isinstance(form, crm_forms.LeadForm):
                new_contact = form.new_contact()
                if new_contact is not None:
                    require(request.user, "add", Contact)
                    data.pop("parent_contact_id", None)
                record = services.lead_create(
                    by=request.user, data=data, new_contact=new_contact
                ).lead
            else:
                record = ui.create(by=request.user, data=data)
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{ui.singular.capitalize()} “{record}” created.")
            return _done(request, reverse(f"crm:{key}_detail", args=[record.pk]))
    return _render_form(request, ui, form, None)


@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ui = _ui(key)
    require(request.user, "change", ui.model)
    record = get_object_or_404(ui.model, pk=pk)
    if request.method == "GET":
        return _render_form(request, ui, ui.form(instance=record), record)
    # The form validates a copy, so the service still sees the values before the change.
    form = ui.form(request.POST, instance=ui.model._default_manager.get(pk=pk))
    if form.is_valid():
        try:
            ui.update(**{key: record}, by=request.user, data=_form_data(form, form.changed_data))
        except (ValidationError, DomainError) as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{ui.singular.capitalize()} “{record}” saved.")
            return _done(request, reverse(f"crm:{key}_detail", args=[pk]))
    return _render_form(request, ui, form, record)


@require_POST
def record_delete(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ui = _ui(key)
    require(request.user, "delete", ui.model)
    record = get_object_or_404(ui.model, pk=pk)
    try:
        ui.delete(**{key: record}, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse(f"crm:{key}_detail", args=[pk]))
    messages.success(request, f"{ui.singular.capitalize()} “{record}” deleted.")
    return redirect(reverse(f"crm:{key}_list"))


def record_detail(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ui = _ui(key)
    require(request.user, "view", ui.model)
    qs = ui.spec.model._default_manager.select_related(*ui.spec.select_related)
    record = qs.filter(pk=pk).first()
    if record is None and key in ("contact", "account"):
        from leadcycle.duplicates.selectors import survivor_id

        # An old link to a record merged since leads to the record it lives on as.
        now_id = survivor_id(entity=key, record_id=pk)
        if now_id is not None:
            messages.info(request, f"{ui.singular.capitalize()} #{pk} was merged into this one.")
            return redirect(reverse(f"crm:{key}_detail", args=[now_id]))
    if record is None:
        raise Http404
    context = {
        "ui": ui,
        "record": record,
        "audit": audit_trail(instance=record),
        "can_change": can(request.user, "change", ui.model),
        "can_delete": can(request.user, "delete", ui.model),
        "can_add_lead": can(request.user, "add", Lead),
        "can_add_task": can(request.user, "add", Task),
        "can_view_opportunities": can(request.user, "view", Opportunity),
        "can_view_interactions": can(request.user, "view", Interaction),
        **ui.detail_context(record),
    }
    if key in ("contact", "account"):
        from leadcycle.duplicates.selectors import merged_ids
        from leadcycle.duplicates.views import can_merge

        context["can_merge"] = can_merge(request.user, key)
        context["audit"] = audit_trail(
            instance=record, also_ids=merged_ids(entity=key, record_id=record.pk)
        )
    if key == "lead":
        from leadcycle.process.views import bar_context

        context["process_bar"] = bar_context(request, record)
    return render(request, ui.detail_template, context)


_PICKERS: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "contact": (Contact, ("first_name", "last_name", "email_normalized")),
    "account": (Account, ("name", "web_domain")),
    "lead": (Lead, ("topic", "parent_contact__email_normalized")),
}


def record_pick(request: HttpRequest, key: str) -> HttpResponse:
    """``<option>`` elements for a record picker: up to 20 matches of the search text."""
    model, fields = _PICKERS[key]
    if not can(request.user, "view", model):
        raise PermissionDenied
    condition = Q()
    for term in request.GET.get("q", "").split()[:5]:
        term_q = Q()
        for name in fields:
            term_q |= Q(**{f"{name}__icontains": term})
        condition &= term_q
    records = list(model._default_manager.filter(condition).order_by("pk")[:20])
    return render(request, "crm/_pick_options.html", {"records": records})
