import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class InteractionIn(Schema):
    """One event. Name the contact by ``contact_id`` or ``email`` (or give only ``lead_id``:
    the lead's contact)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(..., examples=["email_clicked"])
    occurred_at: datetime.datetime | None = Field(None, description="Default: now.")
    contact_id: int | None = None
    email: str | None = None
    lead_id: int | None = None
    campaign: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(
        None, description="A second event with the same key is recorded once."
    )


class BatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    events: list[Any] = Field(..., description="Up to 10,000 events shaped like InteractionIn.")


class RowErrorOut(Schema):
    index: int
    field: str
    code: str
    message: str


class BatchOut(Schema):
    created: int
    duplicates: int
    rejected: int
    duplicate_indexes: list[int]
    errors: list[RowErrorOut]


class InteractionKindIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(..., examples=["trial_started"])
    label: str = Field(..., examples=["Trial started"])
    description: str = ""


class InteractionKindOut(Schema):
    key: str
    label: str
    description: str
    builtin: bool
    count: int | None


class TrackedLinksIn(Schema):
    model_config = ConfigDict(extra="forbid")

    contact_id: int
    url: str = Field(..., examples=["https://www.example.com/pricing"])
    message: str = Field(..., description="Which email, e.g. its subject or id.")
    lead_id: int | None = None
    campaign: str = ""


class TrackedLinksOut(Schema):
    click_url: str
    open_pixel_url: str
