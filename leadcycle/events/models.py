"""Events and their registrations (SPEC §2.4, §3).

A registration ties one person (a contact, matched or created by the event's registrant
matching) to one event. The database keeps the invariants concurrent requests could break:
one active (not cancelled) registration per person and event, valid statuses, an end that is
not before the start, and a time on every check-in and cancellation.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from leadcycle.crm.models import Contact, Lead


def new_cancel_token() -> str:
    """256 random bits, URL-safe: the secret in a registrant's cancellation link."""
    return secrets.token_urlsafe(32)


class Event(models.Model):
    """Something people register for: a conference, a webinar, a meetup.

    ``capacity`` empty means unlimited. When the seats are taken, new registrants join the
    waitlist (``waitlist_enabled``) or are refused; a cancellation frees a seat for the oldest
    waitlisted registrant. With ``create_leads`` every registration creates a new lead.
    """

    class Matching(models.TextChoices):
        EMAIL = "email", "Email"
        NAME = "name", "First and last name"
        EMAIL_AND_NAME = "email_and_name", "Email, first and last name"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="The public page is /e/<slug>/.")
    description = models.TextField(blank=True, max_length=10_000)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seats; leave empty for no limit."
    )
    waitlist_enabled = models.BooleanField(
        default=True, help_text="When full, put new registrants on a waitlist instead of refusing."
    )
    create_leads = models.BooleanField(
        default=True, help_text="Create a new lead for every registration."
    )
    lead_topic = models.CharField(
        max_length=200, blank=True, help_text='Topic of those leads; empty gives "Event: <name>".'
    )
    campaign = models.CharField(max_length=200, blank=True)
    registrant_matching = models.CharField(
        max_length=20,
        choices=Matching.choices,
        default=Matching.EMAIL,
        help_text="How a registrant is matched to an existing contact.",
    )
    is_published = models.BooleanField(
        default=True, help_text="Published events take registrations on their public page."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["starts_at"], name="event_starts_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(registrant_matching__in=["email", "name", "email_and_name"]),
                name="event_matching_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def origin_ref(self) -> str:
        """How this event's leads name their origin."""
        return f"event:{self.pk}"

    @property
    def topic(self) -> str:
        return self.lead_topic or f"Event: {self.name}"[:200]


class Registration(models.Model):
    """One person's registration for one event, with what they submitted.

    ``registered`` and ``checked_in`` hold a seat; ``waitlisted`` waits for one; ``cancelled``
    keeps the record (and lets the person register again).
    """

    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        WAITLISTED = "waitlisted", "Waitlisted"
        CANCELLED = "cancelled", "Cancelled"
        CHECKED_IN = "checked_in", "Checked in"

    SEATED = (Status.REGISTERED, Status.CHECKED_IN)

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="registrations", db_index=False
    )
    # Null only after the contact was deleted; the submitted names and email stay here.
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="event_registrations",
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REGISTERED)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    answers = models.JSONField(default=dict, blank=True, help_text="Everything else submitted.")
    channel = models.CharField(max_length=10, default="page")  # page, api, staff, demo
    cancel_token = models.CharField(max_length=64, unique=True, default=new_cancel_token)
    idempotency_key = models.CharField(max_length=100, blank=True)
    registered_at = models.DateTimeField()
    promoted_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["registered_at", "id"]
        indexes = [
            models.Index(
                fields=["event", "status", "registered_at"], name="registration_event_status_idx"
            ),
        ]
        constraints = [
            # Registering twice gives back the first registration, never a second seat.
            models.UniqueConstraint(
                fields=["event", "contact"],
                condition=~Q(status="cancelled"),
                name="registration_one_active_per_contact",
            ),
            models.UniqueConstraint(
                fields=["event", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="registration_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["registered", "waitlisted", "cancelled", "checked_in"]),
                name="registration_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="checked_in") | Q(checked_in_at__isnull=False),
                name="registration_checked_in_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="registration_cancelled_has_time",
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or self.email
        return f"{name or 'Registration'} (event {self.event_id})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class RejectedRegistration(models.Model):
    """A public registration that was refused (invalid values or the bot trap), kept for
    review. Nothing else is written for it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10)
    values = models.JSONField(default=dict)
    errors = models.JSONField(default=dict)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Rejected registration for event {self.event_id}"
