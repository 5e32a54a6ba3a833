"""Staff pages: the interactions list, custom kinds, and website/email tracking setup."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leadcycle.crm.listing import list_page
from leadcycle.crm.models import Interaction
from leadcycle.crm.selectors import INTERACTION_LIST
from leadcycle.errors import DomainError
from leadcycle.interactions import selectors, services
from leadcycle.interactions.models import InteractionKind
from leadcycle.users.permissions import can, require


def interaction_list(request: HttpRequest) -> HttpResponse:
    """Every recorded interaction, newest first, by kind, contact, lead or anonymous visitor."""
    require(request.user, "view", Interaction)
    errors: dict[str, list[str]] = {}
    try:
        page = list_page(INTERACTION_LIST, request.GET)
    except ValidationError as exc:
        errors = exc.message_dict
        page = list_page(INTERACTION_LIST, {})
    context = {
        "page": page,
        "errors": errors,
        "kinds": selectors.kinds_known(),
        "selected_kind": request.GET.get("kind", ""),
        "anonymous": request.GET.get("anonymous", ""),
    }
    return render(request, "interactions/list.html", context, status=400 if errors else 200)


class KindForm(forms.Form):
    key = forms.CharField(max_length=50, help_text="e.g. trial_started — used by the API.")
    label = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)


def kind_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view", InteractionKind)
    form = KindForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require(request.user, "add", InteractionKind)
        if form.is_valid():
            try:
                services.interaction_kind_create(by=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, messages)
            else:
                return redirect(reverse("interactions:kinds"))
        status = 422
    context = {
        "rows": selectors.kind_rows(),
        "form": form,
        "can_add": can(request.user, "add", InteractionKind),
        "can_delete": can(request.user, "delete", InteractionKind),
    }
    return render(request, "interactions/kinds.html", context, status=status)


@require_POST
def kind_delete(request: HttpRequest, key: str) -> HttpResponse:
    require(request.user, "delete", InteractionKind)
    kind = get_object_or_404(InteractionKind, key=key)
    try:
        services.interaction_kind_delete(kind=kind, by=request.user)
    except DomainError as exc:
        context = {
            "rows": selectors.kind_rows(),
            "form": KindForm(),
            "can_add": can(request.user, "add", InteractionKind),
            "can_delete": True,
            "refused": exc.message,
        }
        return render(request, "interactions/kinds.html", context, status=409)
    return redirect(reverse("interactions:kinds"))


class LinksForm(forms.Form):
    contact_id = forms.IntegerField(min_value=1, label="Contact id")
    url = forms.URLField(label="Link target", assume_scheme="https")
    message = forms.CharField(max_length=200, label="Email (subject or id)")
    campaign = forms.CharField(max_length=200, required=False)


def tracking(request: HttpRequest) -> HttpResponse:
    """The snippet for websites, and tracked click and open-pixel URLs for an email."""
    require(request.user, "view", Interaction)
    may_issue = can(request.user, "add", Interaction)
    form = LinksForm(request.POST or None)
    links: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        require(request.user, "add", Interaction)
        if form.is_valid():
            try:
                made = services.tracked_links(**form.cleaned_data)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, messages)
                status = 422
            else:
                links = {
                    "click_url": request.build_absolute_uri(made.click_path),
                    "open_pixel_url": request.build_absolute_uri(made.open_path),
                }
        else:
            status = 422
    context = {
        "script_url": request.build_absolute_uri(reverse("tracking_script")),
        "form": form,
        "links": links,
        "may_issue": may_issue,
    }
    return render(request, "interactions/tracking.html", context, status=status)
