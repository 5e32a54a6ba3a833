"""The core records of SPEC §1: accounts, contacts, leads, opportunities, tasks, interactions.

Invariants the business relies on are database constraints (unique normalised email, valid
statuses, non-negative values, one opportunity per lead, a task has an assignee or a queue),
so no code path — UI, API, import or a concurrent request — can break them.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from leadcycle.crm.normalize import normalize_domain, normalize_email


class TimestampedOwned(models.Model):
    """Created/updated timestamps and an owning user, shared by the records people work on."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Channel(models.TextChoices):
    """Where a contact or lead came from (SPEC §2)."""

    MANUAL = "manual", "Created by hand"
    API = "api", "API"
    IMPORT = "import", "File import"
    FORM = "form", "Marketing form / landing page"
    EVENT = "event", "Event"
    LINKEDIN = "linkedin", "LinkedIn Lead Gen form"
    JOURNEY = "journey", "Customer journey"


class Account(TimestampedOwned):
    """A company."""

    name = models.CharField(max_length=200)
    web_domain = models.CharField(
        max_length=200, blank=True, help_text="Normalised: contoso.com, no scheme or www."
    )
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    country = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["web_domain"], name="account_domain_idx"),
            models.Index(fields=["name"], name="account_name_idx"),
            # Channels find a company by its name in any capitals (``name__iexact``).
            models.Index(Upper("name"), name="account_name_upper_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0),
                name="account_revenue_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.web_domain = normalize_domain(self.web_domain)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Contact(TimestampedOwned):
    """A person; every marketing activity targets contacts."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", "Decision maker"
        INFLUENCER = "influencer", "Influencer"
        OTHER = "other", "Other"

    class Consent(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        GRANTED = "granted", "Granted"
        WITHDRAWN = "withdrawn", "Withdrawn"

    email = models.EmailField(max_length=254, blank=True)
    # Kept by save(): trimmed, NFKC, case-folded; NULL when there is no email (many allowed).
    email_normalized = models.CharField(max_length=254, null=True, blank=True, editable=False)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OTHER)
    phone = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=100, blank=True)
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,
    )
    marketing_only = models.BooleanField(
        default=False, help_text="Created for marketing; hidden from the sales contact view."
    )
    consent = models.CharField(max_length=20, choices=Consent.choices, default=Consent.UNKNOWN)
    origin_channel = models.CharField(
        max_length=20, choices=Channel.choices, default=Channel.MANUAL
    )
    # The file and row an import created the contact from: a re-run of the file (or a resumed
    # run) finds it instead of creating it again, even without an email to match on.
    import_key = models.CharField(max_length=40, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="contact_name_idx"),
            models.Index(fields=["account"], name="contact_account_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["email_normalized"], name="contact_email_unique"),
            models.UniqueConstraint(fields=["import_key"], name="contact_import_key_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["decision_maker", "influencer", "other"]),
                name="contact_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(consent__in=["unknown", "granted", "withdrawn"]),
                name="contact_consent_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Contact {self.pk}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = (self.email or "").strip()
        self.email_normalized = normalize_email(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = {*update_fields, "email_normalized"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Lead(TimestampedOwned):
    """One expression of interest of a contact (or account) in one campaign or activity.

    A contact may have several open leads at once, one per campaign or product.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        QUALIFIED = "qualified", "Qualified"
        DISQUALIFIED = "disqualified", "Disqualified"

    topic = models.CharField(max_length=200)
    source_channel = models.CharField(
        max_length=20, choices=Channel.choices, default=Channel.MANUAL
    )
    origin_ref = models.CharField(
        max_length=200,
        blank=True,
        help_text="The form, event, journey, import batch or LinkedIn form the lead came from.",
    )
    campaign = models.CharField(max_length=200, blank=True)
    # Who the lead is about, as entered before there is a contact (lead-first teams; SPEC §7:
    # the orphan-lead workflow makes the contact from these).
    first_name = models.CharField(max_length=100, blank=True, db_default="")
    last_name = models.CharField(max_length=100, blank=True, db_default="")
    email = models.EmailField(max_length=254, blank=True, db_default="")
    company_name = models.CharField(max_length=200, blank=True, db_default="")
    parent_contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    parent_account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # Bulk paths insert leads by hand-written SQL: the database fills new columns itself.
    status_reason = models.CharField(
        max_length=200, blank=True, default="", db_default="", help_text="Why it was disqualified."
    )
    sales_ready = models.BooleanField(default=False)
    telemarketing_ready = models.BooleanField(default=False)
    description = models.TextField(blank=True, max_length=10_000)
    # The file and row an import created the lead from (see ``Contact.import_key``).
    import_key = models.CharField(max_length=40, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["parent_contact", "status"], name="lead_contact_status_idx"),
            models.Index(fields=["parent_account"], name="lead_account_idx"),
            models.Index(fields=["status", "sales_ready"], name="lead_status_ready_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "qualified", "disqualified"]),
                name="lead_status_valid",
            ),
            models.UniqueConstraint(fields=["import_key"], name="lead_import_key_unique"),
        ]

    def __str__(self) -> str:
        return self.topic


class Opportunity(TimestampedOwned):
    """What a qualified lead becomes."""

    class Stage(models.TextChoices):
        QUALIFY = "qualify", "Qualify"
        DEVELOP = "develop", "Develop"
        PROPOSE = "propose", "Propose"
        WON = "won", "Closed won"
        LOST = "lost", "Closed lost"

    name = models.CharField(max_length=200)
    lead = models.OneToOneField(
        Lead, null=True, blank=True, on_delete=models.PROTECT, related_name="opportunity"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    value = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUALIFY)
    campaign = models.CharField(max_length=200, blank=True, default="", db_default="")
    expected_close = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0), name="opportunity_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["qualify", "develop", "propose", "won", "lost"]),
                name="opportunity_stage_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Task(TimestampedOwned):
    """Work for a telemarketer or seller: assigned to a person, or waiting in a queue."""

    class Kind(models.TextChoices):
        CALL = "call", "Phone call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"
        FOLLOW_UP = "follow_up", "Follow-up"
        OTHER = "other", "Other"

    class Queue(models.TextChoices):
        TELEMARKETING = "telemarketing", "Telemarketing"
        SALES = "sales", "Sales"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CALL)
    subject = models.CharField(max_length=200)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
        db_index=False,
    )
    queue = models.CharField(max_length=20, choices=Queue.choices, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["done", "due_at", "id"]
        indexes = [models.Index(fields=["assignee", "done", "due_at"], name="task_assignee_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(assignee__isnull=False) | ~Q(queue=""),
                name="task_has_assignee_or_queue",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["call", "email", "meeting", "follow_up", "other"]),
                name="task_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(done=False) | Q(done_at__isnull=False), name="task_done_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Interaction(models.Model):
    """Something a contact did. Append-only; indexed for (contact, kind, time)."""

    class Kind(models.TextChoices):
        EMAIL_SENT = "email_sent", "Email sent"
        EMAIL_OPENED = "email_opened", "Email opened"
        EMAIL_CLICKED = "email_clicked", "Email clicked"
        FORM_SUBMITTED = "form_submitted", "Form submitted"
        WEBSITE_VISITED = "website_visited", "Website visited"
        EVENT_REGISTERED = "event_registered", "Event registered"
        EVENT_CHECKED_IN = "event_checked_in", "Event checked in"
        EVENT_CANCELLED = "event_cancelled", "Event registration cancelled"
        LINKEDIN_FORM_SUBMITTED = "linkedin_form_submitted", "LinkedIn form submitted"
        CUSTOM = "custom", "Custom"

    kind = models.CharField(max_length=50, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
        db_index=False,
    )
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        db_index=False,
    )
    campaign = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="Set by the sender of an event; a second event with the same key is ignored.",
    )
    visitor_id = models.CharField(
        max_length=64,
        blank=True,
        db_default="",  # raw bulk inserts that do not name the column stay valid
        help_text="The anonymous website visitor, until the visitor becomes a known contact.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["contact", "kind", "occurred_at"], name="interaction_contact_kind_idx"
            ),
            models.Index(fields=["lead", "occurred_at"], name="interaction_lead_idx"),
            models.Index(fields=["kind", "occurred_at"], name="interaction_kind_time_idx"),
            # Anonymous visits waiting for their visitor to become known.
            models.Index(
                fields=["visitor_id"],
                name="interaction_anonymous_idx",
                condition=Q(contact__isnull=True) & ~Q(visitor_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    """A user's list view: filters, search and sort (as list parameters) and the columns shown,
    kept under a name; shared with a role, its members see it too. The preset views of SPEC §8
    are in code (``crm.saved_views.PRESETS``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        db_index=False,
    )
    entity = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    shared_role = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "entity", "name"], name="saved_view_unique"),
        ]

    def __str__(self) -> str:
        return self.name
