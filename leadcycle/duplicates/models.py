"""Duplicate review and merge (SPEC §3): a merge that loses nothing and can be undone.

A ``Merge`` keeps the merged record as it was (every column) and what the merge did to the
survivor's fields; ``MergeMove`` keeps every row that was re-pointed from the merged record to
the survivor. Undoing a merge puts the record back under its own id and moves those rows back.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Entity(models.TextChoices):
    """The records that can be merged."""

    CONTACT = "contact", "Contact"
    ACCOUNT = "account", "Account"


class Merge(models.Model):
    """One record (``merged_id``) merged into another (``survivor_id``).

    Plain ids, not foreign keys: the merged record no longer exists, and the merge stays on
    record even if the survivor is deleted later.
    """

    entity = models.CharField(max_length=20, choices=Entity.choices)
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    merged_repr = models.CharField(max_length=200)
    # Every column of the merged record by attribute name (``account_id``), JSON values.
    merged_snapshot = models.JSONField(default=dict)
    # The survivor's fields the merge changed: name -> value before / value after.
    survivor_before = models.JSONField(default=dict)
    survivor_after = models.JSONField(default=dict)
    # Rows moved per reference ("crm.lead.parent_contact": 3) and memberships dropped because
    # the survivor already had them ([[segment_id, added_at], …]).
    moved = models.JSONField(default=dict)
    dropped_memberships = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["entity", "survivor_id"], name="merge_survivor_idx"),
            models.Index(fields=["entity", "merged_id"], name="merge_merged_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(entity__in=["contact", "account"]), name="merge_entity_valid"
            ),
            models.CheckConstraint(
                condition=~Q(survivor_id=models.F("merged_id")), name="merge_two_records"
            ),
            # A record is merged away once: only an undone merge lets it be merged again.
            models.UniqueConstraint(
                fields=["entity", "merged_id"],
                condition=Q(undone_at__isnull=True),
                name="merge_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity} #{self.merged_id} into #{self.survivor_id}"

    @property
    def undone(self) -> bool:
        return self.undone_at is not None

    @property
    def moved_total(self) -> int:
        return sum(int(n) for n in self.moved.values())


class MergeMove(models.Model):
    """One row a merge re-pointed from the merged record to the survivor (``ref`` names the
    table and column: ``crm.lead.parent_contact``); undo moves exactly these rows back."""

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="+", db_index=False)
    ref = models.CharField(max_length=100)
    row_id = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["merge", "ref", "row_id"], name="merge_move_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ref}#{self.row_id}"


class NotDuplicate(models.Model):
    """Two records a person said are different: the duplicate review no longer pairs them."""

    entity = models.CharField(max_length=20, choices=Entity.choices)
    low_id = models.BigIntegerField()
    high_id = models.BigIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "low_id", "high_id"], name="not_duplicate_unique"
            ),
            models.CheckConstraint(
                condition=Q(low_id__lt=models.F("high_id")), name="not_duplicate_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity} #{self.low_id} ≠ #{self.high_id}"
