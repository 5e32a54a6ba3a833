"""Interaction kinds beyond the built-in ones (SPEC §1), registered by administrators.

The interactions themselves are ``leadcycle.crm.models.Interaction``: every app records them
through ``leadcycle.interactions.services``.
"""

from django.core.validators import RegexValidator
from django.db import models

KIND_KEY = RegexValidator(
    r"^[a-z][a-z0-9_]{1,49}$",
    "Lower-case letters, digits and underscores, starting with a letter (2-50 characters).",
    code="invalid_key",
)


class InteractionKind(models.Model):
    """A custom kind of interaction, e.g. ``webinar_attended`` or ``trial_started``: something a
    contact did that an outside system reports and that scoring and segments can count."""

    key = models.CharField(max_length=50, unique=True, validators=[KIND_KEY])
    label = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label
