"""Business processes as data (SPEC §6): a process is ordered stages, each with its fields
(steps, some required), and transition rules that move a lead on; each lead follows one process
at a time through an instance that keeps its stage history and step values."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from leadcycle.crm.models import Lead


class Process(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, max_length=5_000)
    is_default = models.BooleanField(default=False, help_text="New leads follow this process.")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "processes"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_process"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Queue(models.TextChoices):
        NONE = "", "No queue"
        TELEMARKETING = "telemarketing", "Telemarketing"
        SALES = "sales", "Sales"

    process = models.ForeignKey(
        Process, on_delete=models.CASCADE, related_name="stages", db_index=False
    )
    position = models.PositiveIntegerField()
    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=100)
    queue = models.CharField(
        max_length=20,
        choices=Queue.choices,
        blank=True,
        help_text="The queue (telemarketing or sales) whose people work leads at this stage.",
    )
    creates_task = models.BooleanField(
        default=False, help_text="A lead entering this stage gets a task in the stage's queue."
    )

    class Meta:
        ordering = ["process", "position"]
        constraints = [
            models.UniqueConstraint(fields=["process", "key"], name="stage_key_unique"),
            models.UniqueConstraint(fields=["process", "position"], name="stage_position_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class StageField(models.Model):
    """A step of a stage: one of ``steps.STEPS``."""

    stage = models.ForeignKey(
        Stage, on_delete=models.CASCADE, related_name="fields", db_index=False
    )
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=40)
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["stage", "position"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "name"], name="stage_field_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    """When ``trigger`` holds for a lead standing in one of ``from_stages`` (none: any stage
    before ``to_stage``), the lead moves to ``to_stage``. Rules apply in ``position`` order."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="transitions")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    trigger = models.CharField(max_length=60)
    from_stages = models.ManyToManyField(Stage, blank=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["process", "position"]

    def __str__(self) -> str:
        return self.name


class ProcessInstance(models.Model):
    """A lead on a process. A lead that switches process keeps its old instance (inactive)."""

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="process_instances", db_index=False
    )
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="instances")
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="instances", db_index=False
    )
    active = models.BooleanField(default=True)
    values = models.JSONField(default=dict, blank=True)
    entered_at = models.DateTimeField(help_text="When the lead entered its current stage.")
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    held = models.BooleanField(
        default=False,
        db_default=False,
        help_text="A person moved the lead back: the rules leave it until a person moves it on.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("accept_processinstance", "Can assign and accept leads for sales")]
        constraints = [
            models.UniqueConstraint(fields=["lead", "process"], name="instance_lead_process"),
            models.UniqueConstraint(
                fields=["lead"], condition=Q(active=True), name="one_active_instance"
            ),
        ]
        indexes = [models.Index(fields=["stage", "active"], name="instance_stage_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} at {self.stage_id}"


class StageVisit(models.Model):
    """One stay of a lead in a stage: who or which rule moved it there, and when it left."""

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="visits", db_index=False
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["instance", "entered_at", "id"]
        indexes = [models.Index(fields=["instance", "left_at"], name="visit_open_idx")]

    def __str__(self) -> str:
        return f"{self.stage_id} from {self.entered_at}"


class ProcessSettings(models.Model):
    """What qualifying a lead creates by default (SPEC §6); one row."""

    create_account = models.BooleanField(default=True)
    create_contact = models.BooleanField(default=True)
    create_opportunity = models.BooleanField(default=True)
    ask_each_time = models.BooleanField(
        default=True, help_text="The qualify form lets the user choose what to create."
    )

    class Meta:
        verbose_name_plural = "process settings"

    def __str__(self) -> str:
        return "Process settings"
