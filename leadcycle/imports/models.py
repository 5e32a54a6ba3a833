"""Imports: a job per uploaded file (its mapping, options, progress and outcome), the rows it
rejected, and reusable column mappings."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Entity(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    LEADS = "leads", "Leads"


class MappingTemplate(models.Model):
    """A saved column mapping: which field each file header goes to, for files of one entity."""

    name = models.CharField(max_length=100)
    entity = models.CharField(max_length=10, choices=Entity.choices)
    columns = models.JSONField(help_text='Header → field, e.g. {"E-mail": "contact.email"}.')
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="mapping_template_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One file imported (or tried in a dry run) into accounts, contacts or leads.

    ``rows_done`` is the resume point: it moves forward in the same transaction as each batch
    of rows it covers, so after a crash the job continues from exactly the first row whose
    batch did not commit.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class OnMatch(models.TextChoices):
        UPDATE = "update", "Update the record"
        SKIP = "skip", "Leave the record as it is"
        FILL_EMPTY = "fill_empty", "Only fill its empty fields"

    entity = models.CharField(max_length=10, choices=Entity.choices)
    file = models.FileField(upload_to="imports/")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=10)  # csv, xlsx
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=list, help_text="The field of each column, or null.")
    contact_strategy = models.ForeignKey(
        "intake.MatchingStrategy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"target": "contact"},
    )
    lead_strategy = models.ForeignKey(
        "intake.MatchingStrategy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"target": "lead"},
        help_text="Empty: every row creates a lead.",
    )
    on_match = models.CharField(max_length=12, choices=OnMatch.choices, default=OnMatch.UPDATE)
    create_missing = models.BooleanField(
        default=True,
        help_text="Leads: create the missing contacts (marketing-only) and accounts.",
    )
    react = models.BooleanField(
        default=True, help_text="Let scoring react to the imported rows (after each batch)."
    )
    default_topic = models.CharField(max_length=200, blank=True)
    default_campaign = models.CharField(max_length=200, blank=True)
    # Rows per transaction: fewer, larger commits are faster (SQLite checkpoints its log as
    # it grows); a crash redoes at most one batch; memory grows with it (about 1 KB a row).
    batch_size = models.PositiveIntegerField(default=10_000)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    contacts_created = models.PositiveIntegerField(default=0)
    accounts_created = models.PositiveIntegerField(default=0)
    dry_run = models.JSONField(
        null=True, blank=True, help_text="The counts of the last dry run, and its first errors."
    )
    problem = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(entity__in=["accounts", "contacts", "leads"]),
                name="import_entity_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_entity_display().lower()})"

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.CANCELLED, self.Status.FAILED)

    @property
    def origin_ref(self) -> str:
        """The origin of the leads the file creates: the same for every run of the same file."""
        return f"import:{self.file_sha256[:16]}"


class ImportRowError(models.Model):
    """A row the import rejected: where, why, and the row as it was, to fix and re-import."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="errors", db_index=False
    )
    row_number = models.PositiveIntegerField(help_text="Line in the file, the header being 1.")
    column = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "row_number", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="import_error_row_unique")
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"
