"""LinkedIn Lead Gen Forms sync: the connector, its question mappings, the log of sync runs and
every form response received (SPEC §2.5, §3).

A response id is stored once (``linkedin_response_unique``): that row is the idempotency guard
that makes a replayed webhook, an overlapping sync or two concurrent syncs harmless.
"""

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q

from leadcycle.crm.models import Contact, Lead
from leadcycle.intake.fields import FIELDS
from leadcycle.intake.models import MatchingStrategy

DEFAULT_API_BASE_URL = "https://api.linkedin.com"
# LinkedIn keeps a Marketing API version for a year; the connector's setting wins.
DEFAULT_LINKEDIN_VERSION = "202610"
SPONSORED_ACCOUNT_URN = re.compile(r"^urn:li:sponsoredAccount:\d+$")
VERSION_RE = re.compile(r"^\d{6}(\.\d{2})?$")
FORM_ID_RE = re.compile(r"urn:li:leadGenForm:(\d+)")

# Record fields a LinkedIn answer may fill: the intake whitelist, minus what the sync sets
# itself (the origin is the LinkedIn form, the channel is LinkedIn).
MAPPABLE_FIELDS = tuple(
    path for path in FIELDS if path not in {"lead.origin_ref", "lead.source_channel"}
)


def form_id_of(value: str) -> str:
    """The LinkedIn form id in a form URN, a versioned form URN or a bare id; ``""`` if none.

    ``urn:li:versionedLeadGenForm:(urn:li:leadGenForm:123,2)`` → ``"123"``.
    """
    value = (value or "").strip()
    if value.isdigit():
        return value
    found = FORM_ID_RE.search(value)
    return found.group(1) if found else ""


class Connector(models.Model):
    """The LinkedIn Lead Sync connection and the one active strategy of SPEC §3: *always create
    lead* or *match on mapped fields*, and *enable contact creation* (off leaves orphan leads).

    The secrets are stored as given (there is no key store to encrypt them with) and are never
    shown again: pages and the API show them masked. The first connector is the one the UI
    edits; the sync and the webhook work with any number.
    """

    class Mode(models.TextChoices):
        ALWAYS_CREATE_LEAD = "always_create_lead", "Always create a lead"
        MATCH_ON_MAPPED_FIELDS = "match_on_mapped_fields", "Match on mapped fields"

    name = models.CharField(max_length=100, default="LinkedIn Lead Gen Forms")
    enabled = models.BooleanField(
        default=False, help_text="Sync on schedule and on LinkedIn's notifications."
    )
    api_base_url = models.URLField(
        "API address",
        default=DEFAULT_API_BASE_URL,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="LinkedIn's API; changing it forgets the stored access token.",
    )
    access_token = models.CharField(
        max_length=4000,
        blank=True,
        help_text="OAuth access token with r_marketing_leadgen_automation.",
    )
    client_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="The LinkedIn app's client secret: checks the webhook's signatures.",
    )
    sponsored_accounts = models.TextField(
        blank=True,
        help_text="Ad accounts whose leads are synced, one per line: urn:li:sponsoredAccount:123",
    )
    linkedin_version = models.CharField(
        "LinkedIn-Version",
        max_length=9,
        default=DEFAULT_LINKEDIN_VERSION,
        help_text="Marketing API version sent as LinkedIn-Version (YYYYMM).",
    )
    mode = models.CharField(
        "Lead strategy mode",
        max_length=30,
        choices=Mode.choices,
        default=Mode.ALWAYS_CREATE_LEAD,
    )
    lead_strategy = models.ForeignKey(
        MatchingStrategy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"target": "lead"},
        help_text="Finds the open lead to update in match mode (default: the intake default).",
    )
    contact_strategy = models.ForeignKey(
        MatchingStrategy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"target": "contact"},
        help_text="Finds the contact (default: the intake default).",
    )
    contact_creation_enabled = models.BooleanField(
        "Enable contact creation",
        default=True,
        help_text="Off: no contact is created or changed; a lead links to a contact only when "
        "one already matches, otherwise it stays an orphan lead.",
    )
    lead_topic = models.CharField(max_length=200, default="LinkedIn Lead Gen form")
    campaign = models.CharField(max_length=200, blank=True)
    cursor_submitted_at = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="submittedAt (epoch milliseconds) of the newest response synced; the next "
        "sync asks LinkedIn for responses from there on.",
    )
    last_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=["always_create_lead", "match_on_mapped_fields"]),
                name="linkedin_connector_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        bad = [urn for urn in self.sponsored_account_urns() if not SPONSORED_ACCOUNT_URN.match(urn)]
        if bad:
            errors["sponsored_accounts"] = (
                f"Not a sponsored account URN: {bad[0]!r} (expected urn:li:sponsoredAccount:123)."
            )
        if not VERSION_RE.match(self.linkedin_version or ""):
            errors["linkedin_version"] = "Give the version as YYYYMM, e.g. 202610."
        for name, target in (("lead_strategy", "lead"), ("contact_strategy", "contact")):
            strategy_id = getattr(self, f"{name}_id")
            found = MatchingStrategy.objects.filter(pk=strategy_id).values_list("target", flat=True)
            if strategy_id is not None and list(found) != [target]:
                errors[name] = f"Choose a strategy that targets {target}s."
        if errors:
            raise ValidationError(errors)

    def sponsored_account_urns(self) -> list[str]:
        return [line.strip() for line in self.sponsored_accounts.splitlines() if line.strip()]

    @property
    def cursor_time(self) -> datetime.datetime | None:
        """The cursor as a time (it is stored as LinkedIn gives it: epoch milliseconds)."""
        if self.cursor_submitted_at is None:
            return None
        return datetime.datetime.fromtimestamp(self.cursor_submitted_at / 1000, tz=datetime.UTC)


class FieldMapping(models.Model):
    """Which record field a LinkedIn question's answer fills (answers name questions by id).

    A mapping for one form wins over a mapping for every form (blank form) of the same question.
    """

    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="mappings", db_index=False
    )
    form_urn = models.CharField(
        "Form",
        max_length=200,
        blank=True,
        help_text="urn:li:leadGenForm:123 (a versioned form URN or the bare id is accepted); "
        "blank for every form.",
    )
    question_id = models.CharField(max_length=30, help_text="LinkedIn's questionId (a number).")
    maps_to = models.CharField(max_length=50, help_text="Record field, e.g. contact.email.")

    class Meta:
        ordering = ["form_urn", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "form_urn", "question_id"],
                name="linkedin_mapping_question_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_urn or 'every form'} question {self.question_id} → {self.maps_to}"

    def clean(self) -> None:
        self.question_id = (self.question_id or "").strip()
        if not self.question_id.isdigit():
            raise ValidationError({"question_id": "LinkedIn question ids are numbers."})
        if self.form_urn.strip():
            form_id = form_id_of(self.form_urn)
            if not form_id:
                raise ValidationError(
                    {"form_urn": "Give the form as urn:li:leadGenForm:123 (or leave it blank)."}
                )
            self.form_urn = f"urn:li:leadGenForm:{form_id}"
        else:
            self.form_urn = ""
        if self.maps_to not in MAPPABLE_FIELDS:
            raise ValidationError({"maps_to": f"Unknown record field {self.maps_to!r}."})

    @property
    def form_id(self) -> str:
        return form_id_of(self.form_urn)


class SyncRun(models.Model):
    """One pull of form responses from LinkedIn: why it ran, what it fetched and did, and the
    error when LinkedIn (or the network) refused. A failed run leaves the cursor unchanged."""

    class Trigger(models.TextChoices):
        WEBHOOK = "webhook", "LinkedIn notification"
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0, help_text="Responses that created a lead.")
    updated = models.PositiveIntegerField(
        default=0, help_text="Responses that updated (or matched) an existing lead."
    )
    skipped = models.PositiveIntegerField(default=0, help_text="Responses received before.")
    rejected = models.PositiveIntegerField(default=0, help_text="Responses with invalid values.")
    cursor_before = models.BigIntegerField(null=True, blank=True)
    cursor_after = models.BigIntegerField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger__in=["webhook", "schedule", "manual"]),
                name="linkedin_syncrun_trigger_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="linkedin_syncrun_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"LinkedIn sync #{self.pk} ({self.status})"

    def summary(self) -> str:
        return (
            f"fetched {self.fetched}, created {self.created}, updated {self.updated}, "
            f"skipped {self.skipped}, rejected {self.rejected}"
        )


class ReceivedResponse(models.Model):
    """A LinkedIn form response, stored once (its id is unique), with what it did."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Being applied"
        CREATED = "created", "Lead created"
        UPDATED = "updated", "Lead updated"
        REJECTED = "rejected", "Rejected"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="responses")
    sync_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    response_id = models.CharField(max_length=200, help_text="LinkedIn's form response id.")
    form_urn = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_at_ms = models.BigIntegerField(null=True, blank=True)
    test_lead = models.BooleanField(default=False)
    raw = models.JSONField(default=dict)
    values = models.JSONField(default=dict, blank=True, help_text="Answers by record field.")
    errors = models.JSONField(default=dict, blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    contact_action = models.CharField(
        max_length=10, blank=True
    )  # created/updated/matched/linked/none
    lead_action = models.CharField(max_length=10, blank=True)  # created/updated/matched
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # The idempotency guard: a response is applied once, however often it arrives.
            models.UniqueConstraint(fields=["response_id"], name="linkedin_response_unique"),
            models.CheckConstraint(
                condition=Q(outcome__in=["pending", "created", "updated", "rejected"]),
                name="linkedin_response_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"LinkedIn response {self.response_id}"

    @property
    def orphan(self) -> bool:
        return self.lead_id is not None and self.contact_id is None
