"""Role checks shared by the UI and the API."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import models


def can(user: User | AnonymousUser, action: str, model: type[models.Model]) -> bool:
    """Whether ``user`` may ``action`` (view/add/change/delete) records of ``model``."""
    opts = model._meta
    return bool(
        user.is_authenticated and user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
    )


def require(user: User | AnonymousUser, action: str, model: type[models.Model]) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may ``action`` records of ``model``."""
    if not can(user, action, model):
        raise PermissionDenied(f"Your role may not {action} {model._meta.verbose_name_plural}.")
