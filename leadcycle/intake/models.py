"""Intake: matching strategies and their match keys, marketing forms and their submissions,
and the per-client rate limit of the public endpoints."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from leadcycle.crm.models import Contact, Lead
from leadcycle.intake.fields import FIELDS, MATCHABLE


class MatchingStrategy(models.Model):
    """How an automatic channel finds an existing contact or lead before creating one.

    A record matches only when **all** ``fields`` are equal after normalisation. When several
    records match, the oldest (lowest id) wins, so the choice is stable; the others are listed
    on the submission as possible duplicates.
    """

    class Target(models.TextChoices):
        CONTACT = "contact", "Contact"
        LEAD = "lead", "Lead"

    name = models.CharField(max_length=100, unique=True)
    target = models.CharField(max_length=10, choices=Target.choices)
    fields = models.JSONField(help_text='Field paths, e.g. ["contact.email", "lead.origin_ref"].')
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["target", "name"]
        verbose_name_plural = "matching strategies"
        constraints = [
            models.CheckConstraint(
                condition=Q(target__in=["contact", "lead"]), name="strategy_target_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        fields = self.fields
        if not isinstance(fields, list) or not fields:
            raise ValidationError({"fields": "List at least one field."})
        allowed = MATCHABLE.get(self.target, ())
        for path in fields:
            if path not in allowed:
                raise ValidationError(
                    {
                        "fields": f"{path!r} cannot be matched on for a {self.target}; "
                        f"choose from {', '.join(allowed)}."
                    }
                )
        if len(set(fields)) != len(fields):
            raise ValidationError({"fields": "A field is listed twice."})


class MatchKey(models.Model):
    """The normalised values a strategy compares, for one record; unique per strategy.

    Claimed with an upsert inside the submitting transaction, so two concurrent submissions of
    the same new person cannot both create a record: the second waits for the first to commit
    and then finds its record.
    """

    strategy = models.ForeignKey(
        MatchingStrategy, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=64, help_text="SHA-256 of the normalised values")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "key"], name="match_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy_id}:{self.key[:12]}"


class IntakeSettings(models.Model):
    """The single row of intake settings: the default strategy pair for new forms."""

    default_contact_strategy = models.ForeignKey(
        MatchingStrategy,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"target": "contact"},
    )
    default_lead_strategy = models.ForeignKey(
        MatchingStrategy,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"target": "lead"},
    )

    class Meta:
        verbose_name_plural = "intake settings"

    def __str__(self) -> str:
        return "Intake settings"

    def strategy_usage(self) -> str:
        return "the default pair in settings"


class MarketingForm(models.Model):
    """A marketing form / landing page: what it asks, what it updates and how it matches."""

    class UpdateMode(models.TextChoices):
        CONTACTS_AND_LEADS = "contacts_and_leads", "Contacts and leads"
        ONLY_CONTACTS = "only_contacts", "Only contacts"
        ONLY_LEADS = "only_leads", "Only leads"
        NO_UPDATE = "no_update", "No update (store the submission only)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200, help_text="Heading of the hosted page.")
    intro = models.TextField(blank=True, max_length=5000)
    update_mode = models.CharField(
        max_length=20, choices=UpdateMode.choices, default=UpdateMode.CONTACTS_AND_LEADS
    )
    generate_leads_without_matching = models.BooleanField(
        default=False, help_text="Create a new lead on every submission instead of matching."
    )
    contact_strategy = models.ForeignKey(
        MatchingStrategy,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"target": "contact"},
    )
    lead_strategy = models.ForeignKey(
        MatchingStrategy,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"target": "lead"},
    )
    lead_topic = models.CharField(max_length=200, help_text="Topic of the leads it creates.")
    campaign = models.CharField(max_length=200, blank=True)
    submit_label = models.CharField(max_length=60, default="Submit")
    thank_you_message = models.CharField(max_length=500, default="Thank you! We will be in touch.")
    redirect_url = models.URLField(blank=True, help_text="Where to send the visitor afterwards.")
    allowed_origins = models.TextField(
        blank=True,
        help_text="Sites that may embed the form (one origin per line, e.g. "
        "https://www.example.com) for the JSON endpoint's CORS.",
    )
    is_live = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    update_mode__in=[
                        "contacts_and_leads",
                        "only_contacts",
                        "only_leads",
                        "no_update",
                    ]
                ),
                name="form_update_mode_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def strategy_usage(self) -> str:
        return f"form “{self.name}”"

    @property
    def origin_ref(self) -> str:
        """How leads of this form name their origin (the lead strategy's form id)."""
        return f"form:{self.pk}"

    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.splitlines() if o.strip()]


# Set by the channel, never by an answer: the form's origin drives lead matching.
UNMAPPABLE = frozenset({"lead.origin_ref", "lead.source_channel"})


class FormField(models.Model):
    """One question of a form and the record field its answer fills."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        TEXTAREA = "textarea", "Long text"
        NUMBER = "number", "Number"
        CHOICE = "choice", "Choice"
        CONSENT = "consent", "Consent checkbox"

    form = models.ForeignKey(
        MarketingForm, on_delete=models.CASCADE, related_name="fields", db_index=False
    )
    key = models.SlugField(max_length=50, help_text="Name of the value in submissions.")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(default=False)
    maps_to = models.CharField(
        max_length=50,
        blank=True,
        help_text="Record field the answer fills, e.g. contact.email; empty keeps it only on "
        "the submission.",
    )
    choices = models.TextField(blank=True, help_text="For choice fields: one option per line.")
    help_text = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["form", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="form_field_key_unique"),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.maps_to and self.maps_to not in FIELDS and self.maps_to != "contact.consent":
            raise ValidationError({"maps_to": f"Unknown record field {self.maps_to!r}."})
        if self.kind == self.Kind.CONSENT and self.maps_to not in ("", "contact.consent"):
            raise ValidationError({"maps_to": "A consent checkbox maps to contact.consent."})
        if self.maps_to == "contact.consent" and self.kind != self.Kind.CONSENT:
            raise ValidationError({"maps_to": "Only a consent checkbox can fill contact.consent."})
        if self.maps_to in UNMAPPABLE:
            raise ValidationError(
                {"maps_to": f"{self.maps_to} is set by the form itself and cannot be asked."}
            )

    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]


class FormSubmission(models.Model):
    """Every submission, accepted or rejected, with its raw values and what it did."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    form = models.ForeignKey(MarketingForm, on_delete=models.CASCADE, related_name="submissions")
    status = models.CharField(max_length=10, choices=Status.choices)
    values = models.JSONField(default=dict)
    errors = models.JSONField(default=dict, blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_action = models.CharField(max_length=20, blank=True)  # created, updated, matched, none
    lead_action = models.CharField(max_length=20, blank=True)
    possible_duplicates = models.JSONField(default=list, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=10, default="page")  # page or api
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A replayed submission (same idempotency key) is answered from the first one.
            models.UniqueConstraint(
                fields=["form", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="submission_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} #{self.pk} ({self.status})"


class RateBucket(models.Model):
    """Requests of one client to one public endpoint in one time window."""

    key = models.CharField(max_length=100)
    window = models.BigIntegerField(help_text="Window start, seconds since the epoch")
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="rate_bucket_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window}: {self.hits}"
