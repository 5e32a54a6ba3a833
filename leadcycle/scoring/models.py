"""Scoring models (SPEC §4): rules that give leads points, grades and a sales-ready score."""

from django.core.validators import MinValueValidator
from django.db import models


class ScoringModel(models.Model):
    """A set of condition → points rules for contact-based or account-based leads.

    Drafted, then live (it scores every eligible open lead, and follows new interactions and
    changed fields), then stopped. ``version`` grows with every change of a live model's
    rules, grades or threshold; each score records the version that computed it.
    """

    class Target(models.TextChoices):
        CONTACT = "contact", "Contact-based leads"
        ACCOUNT = "account", "Account-based leads"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LIVE = "live", "Live"
        STOPPED = "stopped", "Stopped"

    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=1000, blank=True)
    target = models.CharField(max_length=10, choices=Target.choices, default=Target.CONTACT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    sales_ready_score = models.IntegerField(
        default=100, help_text="A lead reaching this score becomes sales-ready."
    )
    grades = models.JSONField(
        default=list,
        blank=True,
        help_text='Continuous score ranges: [{"name": "Cold", "min": 0, "max": 25}, …]',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    live_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "live", "stopped"]),
                name="scoring_model_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(target__in=["contact", "account"]),
                name="scoring_model_target_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScoringRule(models.Model):
    """Condition → action: when every child condition holds, add ``points`` (negative to
    subtract), once or, for an *each* interaction condition, per occurrence.

    ``conditions`` is a list of child conditions, joined by AND::

        {"entity": "contact", "where": [{"field": "role", "op": "eq", "value": "decision_maker"}]}
        {"entity": "interaction", "kind": "email_clicked", "frequency": "each",
         "within_days": 30, "where": [...]}
    """

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    points = models.IntegerField()
    conditions = models.JSONField(default=list)

    class Meta:
        ordering = ["model", "position", "id"]

    def __str__(self) -> str:
        return self.name


# Scores and their history are derived data, written hundreds of thousands of rows at a time
# by a full recompute: their references carry no database constraint (checking two foreign
# keys per row at commit cost more than computing the scores). Deleting a lead or a model
# through the application deletes its scores (on_delete), and a recompute rewrites them.


class LeadScore(models.Model):
    """A lead's current score under one model."""

    lead = models.ForeignKey(
        "crm.Lead",
        on_delete=models.CASCADE,
        related_name="scores",
        db_constraint=False,
        db_index=False,
    )
    model = models.ForeignKey(
        ScoringModel,
        on_delete=models.CASCADE,
        related_name="scores",
        db_constraint=False,
        db_index=False,
    )
    score = models.IntegerField()
    grade = models.CharField(max_length=50, blank=True)
    model_version = models.PositiveIntegerField()
    previous_score = models.IntegerField(null=True, blank=True)
    computed_at = models.DateTimeField()
    changed_at = models.DateTimeField(help_text="When the score last changed.")

    class Meta:
        ordering = ["model", "-score", "lead"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "model"], name="lead_score_unique"),
        ]
        indexes = [models.Index(fields=["model", "score"], name="lead_score_model_idx")]

    def __str__(self) -> str:
        return f"{self.score} ({self.model_id})"


class LeadScoreChange(models.Model):
    """Every change of a lead's score under a model: the history behind the score chart."""

    lead = models.ForeignKey(
        "crm.Lead",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    model = models.ForeignKey(
        ScoringModel, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    old_score = models.IntegerField(null=True, blank=True)
    new_score = models.IntegerField()
    model_version = models.PositiveIntegerField()
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["lead", "model", "changed_at", "id"]
        indexes = [
            models.Index(fields=["lead", "model", "changed_at"], name="lead_score_change_idx")
        ]

    def __str__(self) -> str:
        return f"{self.old_score} → {self.new_score}"


class ScoringSettings(models.Model):
    """What scores do to leads (SPEC §4); one row, all on by default."""

    auto_sales_ready = models.BooleanField(
        default=True, help_text="A lead reaching a model's sales-ready score becomes sales-ready."
    )
    auto_qualification = models.BooleanField(
        default=True,
        help_text="A lead that receives a score moves to Automated marketing qualification.",
    )
    remove_scores_when_stopped = models.BooleanField(
        default=True, help_text="Stopping a model removes its scores (their history stays)."
    )
    rescore_batch_size = models.PositiveIntegerField(
        default=50_000, validators=[MinValueValidator(100)]
    )

    class Meta:
        verbose_name_plural = "scoring settings"

    def __str__(self) -> str:
        return "Scoring settings"
