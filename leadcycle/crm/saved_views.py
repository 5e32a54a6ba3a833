"""List views (SPEC §8): the presets every user has, and the views users save for themselves or
share with a role. A view is a set of list parameters (filters, ``q``, ``sort``) plus the
columns to show; ``view=<key>`` on a list page or list endpoint applies it, and parameters
given beside it win. ``owner=me`` means the user looking."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leadcycle.crm.listing import ListSpec, filtered_queryset
from leadcycle.crm.models import SavedView
from leadcycle.errors import DomainError


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    params: dict[str, str]
    description: str


PRESETS: dict[str, list[Preset]] = {
    "contact": [
        Preset("marketing", "Marketing", {}, "Every contact, marketing-only ones included."),
        Preset(
            "sales",
            "Sales",
            {"marketing_only": "false"},
            "Marketing-only contacts hidden: the people sellers work with.",
        ),
    ],
    "lead": [
        Preset(
            "sales_ready",
            "Sales-ready",
            {"sales_ready": "true", "status": "open"},
            "Open leads marked sales-ready, for sellers.",
        ),
        Preset(
            "telemarketing",
            "Telemarketing queue",
            {"queue": "telemarketing"},
            "Open leads at the telemarketing stages.",
        ),
        Preset("mine", "My open leads", {"owner": "me", "status": "open"}, "Open leads you own."),
    ],
}


def _roles(user: User | AnonymousUser) -> set[str]:
    from leadcycle.users.roles import ROLES

    if not user.is_authenticated:
        return set()
    return {g for g in user.groups.values_list("name", flat=True) if g in ROLES}


def views_for(user: User | AnonymousUser, entity: str) -> list[dict[str, Any]]:
    """The presets, then the user's own views and those shared with the user's role."""
    views: list[dict[str, Any]] = [
        {"key": p.key, "name": p.name, "params": p.params, "columns": [], "preset": True,
         "shared_role": "", "mine": False, "id": None, "description": p.description}
        for p in PRESETS.get(entity, [])
    ]  # fmt: skip
    if user.is_authenticated:
        from django.db.models import Q

        mine_or_shared = Q(user_id=user.pk) | Q(shared_role__in=_roles(user) - {""})
        saved = SavedView.objects.filter(mine_or_shared, entity=entity).select_related("user")
        for view in saved:
            views.append({
                "key": str(view.pk), "name": view.name, "params": view.params,
                "columns": view.columns, "preset": False, "shared_role": view.shared_role,
                "mine": view.user_id == user.pk, "id": view.pk,
                "description": f"Saved by {view.user.username}",
            })  # fmt: skip
    return views


def view_params_raw(
    user: User | AnonymousUser, entity: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """``params`` with the view it names applied underneath, ``owner=me`` left as it is (what a
    saved view keeps, so that "me" is whoever opens it)."""
    merged = {k: v for k, v in params.items()}
    key = str(merged.pop("view", "") or "")
    if key:
        view = next((v for v in views_for(user, entity) if v["key"] == key), None)
        if view is None:
            raise ValidationError({"view": ValidationError(f"No view {key!r}.", code="invalid")})
        merged = {**view["params"], **{k: v for k, v in merged.items() if v not in (None, "")}}
    return merged


def view_params(
    user: User | AnonymousUser, entity: str, params: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``params`` with the view it names (``view``) applied underneath, and ``owner=me``
    resolved; also the view. An unknown view is a ``ValidationError`` on ``view``."""
    key = str(params.get("view", "") or "")
    merged = view_params_raw(user, entity, params)
    view = next((v for v in views_for(user, entity) if v["key"] == key), None) if key else None
    if merged.get("owner") == "me":
        merged["owner"] = str(user.pk) if user.is_authenticated else "none"
    return merged, view


@transaction.atomic
def saved_view_create(
    *, user: User, entity: str, spec: ListSpec[Any], data: Mapping[str, Any], columns: list[str]
) -> SavedView:
    """Save the list as it is now (``data``: its parameters) under a name; the parameters are
    checked by running them once."""
    from leadcycle.users.roles import ROLES

    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ValidationError("A name of 1 to 100 characters.")})
    role = str(data.get("shared_role") or "")
    if role and role not in ROLES:
        raise ValidationError({"shared_role": ValidationError(f"One of: {', '.join(ROLES)}.")})
    wanted = {"q", "sort", *spec.filters}
    raw = data.get("params") or {}
    if not isinstance(raw, Mapping):
        raise ValidationError({"params": ValidationError("An object of list parameters.")})
    params = {k: str(v) for k, v in raw.items() if k in wanted and v not in (None, "")}
    unknown = sorted(set(raw) - wanted - {"view", "page", "page_size"})
    if unknown:
        raise ValidationError({f"params.{unknown[0]}": ValidationError("Not a list parameter.")})
    checked, _ = view_params(user, entity, params)
    filtered_queryset(spec, checked)  # raises naming a bad value
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                user=user, entity=entity, name=name, params=params, columns=columns,
                shared_role=role,
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError(
            {"name": ValidationError("You have a view of this name already.", code="duplicate")}
        ) from None


def saved_view_delete(*, user: User, view_id: int) -> None:
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None or view.user_id != user.pk:
        raise DomainError("not_found", "No view of yours with this id.", status=404)
    view.delete()
