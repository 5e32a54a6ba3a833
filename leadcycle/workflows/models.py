"""Workflows (SPEC §7): when something happens to a record (trigger) and the record is as
described (conditions, the expression language of scoring and segments), do these things
(actions). Each run is logged once per (workflow, record, triggering event)."""

from django.db import models
from django.db.models import Q


class Workflow(models.Model):
    class Entity(models.TextChoices):
        LEAD = "lead", "Lead"
        CONTACT = "contact", "Contact"
        ACCOUNT = "account", "Account"

    class Trigger(models.TextChoices):
        CREATED = "created", "Record created"
        UPDATED = "updated", "Record changed"
        SAVED = "saved", "Record created or changed"
        FIELD_CHANGED = "field_changed", "A field changed"
        SCORE_CROSSED = "score_crossed", "Score reached a threshold"
        STAGE_ENTERED = "stage_entered", "Entered a process stage"
        INTERACTION = "interaction_recorded", "Interaction recorded"
        SCHEDULE = "schedule", "On a schedule"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, max_length=5_000)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    trigger = models.CharField(max_length=30, choices=Trigger.choices)
    trigger_config = models.JSONField(default=dict, blank=True)
    conditions = models.JSONField(default=list, blank=True, help_text="Expressions, all hold.")
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=False)
    enabled_at = models.DateTimeField(
        null=True, blank=True, help_text="Events before this do not run the workflow."
    )
    builtin = models.CharField(
        max_length=40, blank=True, help_text="Shipped with Leadcycle: adjustable, not deletable."
    )
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["builtin"], condition=~Q(builtin=""), name="workflow_builtin_unique"
            ),
        ]
        indexes = [models.Index(fields=["enabled", "trigger"], name="workflow_enabled_idx")]

    def __str__(self) -> str:
        return self.name


class WorkflowRun(models.Model):
    """One run of a workflow on one record for one event: unique, so a replayed event or a
    second dispatch of the same change does nothing."""

    class Status(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    record_id = models.BigIntegerField()
    event = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    detail = models.TextField(blank=True, help_text="What the actions did, or the error.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "record_id", "event"], name="workflow_run_once"
            ),
        ]
        indexes = [models.Index(fields=["workflow", "-created_at"], name="workflow_run_idx")]

    def __str__(self) -> str:
        return f"{self.workflow_id}:{self.record_id}:{self.event}"


class WebhookDelivery(models.Model):
    """A signed POST a run asked for; retried with backoff until delivered or given up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="deliveries")
    url = models.URLField(max_length=500)
    body = models.TextField()
    signature = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.url} ({self.status})"
