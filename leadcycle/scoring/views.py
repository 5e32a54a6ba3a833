"""Staff pages for scoring models: list, editor (a rule builder, checked as you type), the
model's page with its rules in words, its score distribution, and going live or stopping."""

import datetime
import json
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from leadcycle.errors import DomainError
from leadcycle.interactions.selectors import kinds_known
from leadcycle.scoring import services
from leadcycle.scoring.builder import FREQUENCY_LABELS, Builder, describe, layout, slot
from leadcycle.scoring.compiler import ENTITIES
from leadcycle.scoring.models import LeadScore, ScoringModel
from leadcycle.scoring.schemas import RULES_EXAMPLE
from leadcycle.users.permissions import can, require

ENTITY_LABELS = {
    "lead": "The lead",
    "contact": "Its contact",
    "account": "The account",
    "interaction": "Interactions",
}
EXAMPLE_GRADES = [
    {"name": "Cold", "min": -1000, "max": 25},
    {"name": "Warm", "min": 26, "max": 60},
    {"name": "Hot", "min": 61, "max": 100000},
]


class ModelForm(forms.Form):
    """The model's own fields; its rules and grades come from the rule builder."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    target = forms.ChoiceField(
        choices=ScoringModel.Target.choices,
        widget=forms.Select(attrs={"data-rebuild": "true"}),
    )
    sales_ready_score = forms.IntegerField(label="Sales-ready score")


def _errors_from(exc: ValidationError | DomainError) -> dict[str, str]:
    if isinstance(exc, DomainError):
        return {**exc.fields, "model": exc.message} if exc.fields else {"model": exc.message}
    if hasattr(exc, "error_dict"):
        return {
            name: " ".join(e.messages)
            for name, errors in exc.error_dict.items()
            for e in errors[:1]
        }
    return {"model": " ".join(exc.messages)}


def _problems(builder: Builder) -> dict[str, str]:
    """What the compiler says of the rules and grades as written (empty when they compile)."""
    try:
        _compiled(builder)
    except ValidationError as exc:
        return _errors_from(exc)
    return {}


def _compiled(builder: Builder) -> list[Any]:
    probe = ScoringModel(target=builder.target, grades=builder.grades_json())
    return services.model_compile(probe, builder.rules_json()).rules


def _builder_context(builder: Builder, errors: Mapping[str, str]) -> dict[str, Any]:
    kinds = kinds_known()
    problems = {slot(path): message for path, message in errors.items()}
    tree, slots = layout(builder, problems)
    return {
        "compiled": [] if errors else _compiled(builder),
        "builder": builder,
        "tree": tree,
        "slot_messages": [(name, problems.get(name, "")) for name in slots],
        "summary": [(describe(path), message) for path, message in errors.items()],
        "entities": [(name, ENTITY_LABELS[name]) for name in ENTITIES[builder.target]],
        "kinds": sorted(kinds.items(), key=lambda item: item[1].lower()),
        "kind_keys": set(kinds),
        "frequencies": FREQUENCY_LABELS.items(),
        "rules_json": json.dumps(
            {"rules": builder.rules_json(), "grades": builder.grades_json()}, indent=2
        ),
    }


def model_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", ScoringModel)
    models = ScoringModel.objects.annotate(
        rule_count=Count("rules", distinct=True), scored=Count("scores", distinct=True)
    )
    return render(
        request,
        "scoring/list.html",
        {"models": models, "can_add": can(request.user, "add", ScoringModel)},
    )


def _editor(
    request: HttpRequest,
    form: ModelForm,
    builder: Builder,
    record: ScoringModel | None,
    errors: Mapping[str, str],
    status: int = 200,
) -> HttpResponse:
    """The editor page. ``errors`` are why a save failed (shown on top); the builder and the
    check show what the compiler says of the rules as they stand."""
    context = {
        "form": form,
        "record": record,
        "save_errors": [(describe(path), message) for path, message in errors.items()],
        **_builder_context(builder, _problems(builder)),
    }
    return render(request, "scoring/editor.html", context, status=status)


@require_http_methods(["GET", "POST"])
def model_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "add", ScoringModel)
    if request.method == "GET":
        form = ModelForm(initial={"target": "contact", "sales_ready_score": 60})
        builder = Builder.from_json("contact", RULES_EXAMPLE, EXAMPLE_GRADES)
        return _editor(request, form, builder, None, {})
    return _save(request, None)


@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", ScoringModel)
    record = get_object_or_404(ScoringModel, pk=pk)
    if request.method == "GET":
        form = ModelForm(
            initial={
                "name": record.name,
                "description": record.description,
                "target": record.target,
                "sales_ready_score": record.sales_ready_score,
            }
        )
        rules = [
            {"name": r.name, "points": r.points, "conditions": r.conditions}
            for r in record.rules.all()
        ]
        builder = Builder.from_json(record.target, rules, record.grades)
        return _editor(request, form, builder, record, {})
    return _save(request, record)


def _save(request: HttpRequest, record: ScoringModel | None) -> HttpResponse:
    form = ModelForm(request.POST)
    builder = Builder.from_post(request.POST)
    if request.POST.get("edit"):
        # An add or remove button, without JavaScript: the same page, changed, not saved.
        builder.edit(str(request.POST["edit"]))
        unbound = ModelForm(initial=request.POST.dict())
        return _editor(request, unbound, builder, record, {})
    errors: dict[str, str] = {}
    if form.is_valid():
        data = {**form.cleaned_data, "rules": builder.rules_json()}
        data["grades"] = builder.grades_json()
        try:
            if record is None:
                record = services.scoring_model_create(by=request.user, data=data)
                messages.success(request, f"Model “{record}” saved as a draft.")
            else:
                services.scoring_model_update(model=record, by=request.user, data=data)
                messages.success(request, f"Model “{record}” saved.")
        except (ValidationError, DomainError) as exc:
            errors = _errors_from(exc)
        else:
            return redirect(reverse("scoring:model_detail", args=[record.pk]))
    else:
        errors = {name: " ".join(str(m) for m in msgs) for name, msgs in form.errors.items()}
        errors.update(_problems(builder))
    return _editor(request, form, builder, record, errors, status=422)


@require_POST
def model_builder(request: HttpRequest) -> HttpResponse:
    """htmx: the rule builder again after an add or remove button, or a choice that changes
    which inputs it needs (the model's target, a condition's entity, a field, an operator)."""
    require(request.user, "add", ScoringModel)
    builder = Builder.from_post(request.POST)
    if request.POST.get("edit"):
        builder.edit(str(request.POST["edit"]))
    context = _builder_context(builder, _problems(builder))
    return render(request, "scoring/_builder.html", {**context, "oob_check": True})


@require_POST
def model_check(request: HttpRequest) -> HttpResponse:
    """htmx, while typing: the problems of the rules and grades, in words and next to the
    inputs at fault (out of band), or that they compile."""
    require(request.user, "add", ScoringModel)
    builder = Builder.from_post(request.POST)
    context = {**_builder_context(builder, _problems(builder)), "oob_slots": True}
    return render(request, "scoring/_check.html", context)


def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "view", ScoringModel)
    record = get_object_or_404(ScoringModel.objects.prefetch_related("rules"), pk=pk)
    rules: list[Any] = []
    problem = ""
    try:
        rules = services.model_compile(record).rules
    except ValidationError as exc:
        problem = "; ".join(f"{k}: {v}" for k, v in _errors_from(exc).items())
    distribution = list(
        LeadScore.objects.filter(model=record)
        .values("grade")
        .order_by("grade")
        .annotate(n=Count("id"))
    )
    context = {
        "record": record,
        "rules": rules,
        "problem": problem,
        "distribution": distribution,
        "scored": sum(row["n"] for row in distribution),
        "sales_ready": LeadScore.objects.filter(
            model=record, score__gte=record.sales_ready_score
        ).count(),
        "can_change": can(request.user, "change", ScoringModel),
        "can_delete": can(request.user, "delete", ScoringModel),
    }
    return render(request, "scoring/detail.html", context)


@require_POST
def model_backtest(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx (or a plain POST): the model tried on past data, as a fragment."""
    require(request.user, "view", ScoringModel)
    record = get_object_or_404(ScoringModel, pk=pk)
    context: dict[str, Any] = {"record": record}
    status = 200
    try:
        day = datetime.date.fromisoformat(request.POST.get("as_of", ""))
        as_of = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
        context["result"] = services.model_backtest(model=record, as_of=as_of)
    except ValueError:
        context["error"] = "Choose a date."
        status = 422
    except (ValidationError, DomainError) as exc:
        context["error"] = "; ".join(_errors_from(exc).values())
        status = 422
    return render(request, "scoring/_backtest.html", context, status=status)


@require_POST
def model_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    record = get_object_or_404(ScoringModel, pk=pk)
    require(request.user, "delete" if action == "delete" else "change", ScoringModel)
    try:
        if action == "go-live":
            services.scoring_model_go_live(model=record, by=request.user)
            messages.success(request, f"“{record}” is live; every eligible lead is being scored.")
        elif action == "stop":
            services.scoring_model_stop(model=record, by=request.user)
            messages.success(request, f"“{record}” is stopped.")
        elif action == "delete":
            services.scoring_model_delete(model=record, by=request.user)
            messages.success(request, f"“{record}” deleted.")
            return redirect(reverse("scoring:model_list"))
    except (ValidationError, DomainError) as exc:
        messages.error(request, "; ".join(_errors_from(exc).values()))
    return redirect(reverse("scoring:model_detail", args=[pk]))
