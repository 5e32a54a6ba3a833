"""Staff pages for scoring models: list, editor (rules as JSON, checked as you type), the
model's page with its rules in words, its score distribution, and going live or stopping."""

import datetime
import json
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
from leadcycle.expressions import OPERATORS
from leadcycle.scoring import services
from leadcycle.scoring.models import LeadScore, ScoringModel
from leadcycle.scoring.schemas import RULES_EXAMPLE
from leadcycle.users.permissions import can, require

EXAMPLE_GRADES = [
    {"name": "Cold", "min": -1000, "max": 25},
    {"name": "Warm", "min": 26, "max": 60},
    {"name": "Hot", "min": 61, "max": 100000},
]


class ModelForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    target = forms.ChoiceField(choices=ScoringModel.Target.choices)
    sales_ready_score = forms.IntegerField(label="Sales-ready score")
    grades = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}), required=False
    )
    rules = forms.CharField(widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}))

    def clean_grades(self) -> Any:
        return _json(self.cleaned_data.get("grades") or "[]", "grades")

    def clean_rules(self) -> Any:
        return _json(self.cleaned_data["rules"], "rules")


def _json(text: str, name: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"Not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(value, list):
        raise ValidationError("A JSON list.", code="invalid")
    return value


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
    record: ScoringModel | None,
    errors: dict[str, str],
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "record": record, "errors": errors, "operators": OPERATORS}
    return render(request, "scoring/editor.html", context, status=status)


@require_http_methods(["GET", "POST"])
def model_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "add", ScoringModel)
    if request.method == "GET":
        initial = {
            "target": "contact",
            "sales_ready_score": 60,
            "grades": json.dumps(EXAMPLE_GRADES, indent=2),
            "rules": json.dumps(RULES_EXAMPLE, indent=2),
        }
        return _editor(request, ModelForm(initial=initial), None, {})
    return _save(request, None)


@require_http_methods(["GET", "POST"])
def model_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "change", ScoringModel)
    record = get_object_or_404(ScoringModel, pk=pk)
    if request.method == "GET":
        initial = {
            "name": record.name,
            "description": record.description,
            "target": record.target,
            "sales_ready_score": record.sales_ready_score,
            "grades": json.dumps(record.grades, indent=2),
            "rules": json.dumps(
                [
                    {"name": r.name, "points": r.points, "conditions": r.conditions}
                    for r in record.rules.all()
                ],
                indent=2,
            ),
        }
        return _editor(request, ModelForm(initial=initial), record, {})
    return _save(request, record)


def _save(request: HttpRequest, record: ScoringModel | None) -> HttpResponse:
    form = ModelForm(request.POST)
    errors: dict[str, str] = {}
    if form.is_valid():
        data = form.cleaned_data
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
    return _editor(request, form, record, errors, status=422)


@require_POST
def model_check(request: HttpRequest) -> HttpResponse:
    """htmx, while editing: the problems of the rules and grades as typed, or that they compile."""
    require(request.user, "add", ScoringModel)
    form = ModelForm(request.POST)
    errors: dict[str, str] = {}
    if form.is_valid():
        probe = ScoringModel(target=form.cleaned_data["target"], grades=form.cleaned_data["grades"])
        try:
            compiled = services.model_compile(probe, form.cleaned_data["rules"])
        except ValidationError as exc:
            errors = _errors_from(exc)
        else:
            return render(request, "scoring/_check.html", {"ok": True, "rules": compiled.rules})
    else:
        errors = {
            name: " ".join(str(m) for m in messages_)
            for name, messages_ in form.errors.items()
            if name in ("rules", "grades")
        }
    return render(request, "scoring/_check.html", {"ok": not errors, "errors": errors})


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
