"""Segments: audiences of contacts, by query (dynamic) or by list (static), their members
materialised in a table, and every join and leave kept as history."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Segment(models.Model):
    """An audience of contacts. A dynamic segment's members are the contacts its query finds
    (refreshed in full when it goes live or changes, and contact by contact as data changes);
    a static segment's are added and removed by hand, by query or by import."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (query)"
        STATIC = "static", "Static (list)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LIVE = "live", "Live"

    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=1000, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    query = models.JSONField(null=True, blank=True, help_text="The query tree (dynamic).")
    version = models.PositiveIntegerField(default=1)
    member_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["dynamic", "static"]), name="segment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "live"]), name="segment_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A contact in a segment, since ``added_at``. No database foreign keys: refreshes write
    these rows in bulk and contacts' deletion removes theirs by signal."""

    segment = models.ForeignKey(
        Segment,
        on_delete=models.CASCADE,
        related_name="members",
        db_constraint=False,
        db_index=False,
    )
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["segment", "contact"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segment_member_unique")
        ]
        indexes = [models.Index(fields=["contact"], name="segment_member_contact_idx")]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.contact_id}"


class MembershipChange(models.Model):
    """A contact joining or leaving a segment."""

    class Change(models.TextChoices):
        JOINED = "joined", "Joined"
        LEFT = "left", "Left"

    segment = models.ForeignKey(
        Segment,
        on_delete=models.CASCADE,
        related_name="changes",
        db_constraint=False,
        db_index=False,
    )
    contact_id = models.BigIntegerField()
    change = models.CharField(max_length=10, choices=Change.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["segment", "at"], name="segment_change_idx")]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.change} {self.segment_id}"
