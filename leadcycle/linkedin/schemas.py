"""API schemas of the LinkedIn connector. Fields are explicit; unknown fields are refused;
secrets are write-only (shown masked)."""

import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

ModeT = Literal["always_create_lead", "match_on_mapped_fields"]
TriggerT = Literal["webhook", "schedule", "manual"]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class ConnectorOut(Schema):
    id: int
    name: str
    enabled: bool
    api_base_url: str
    access_token_set: bool
    access_token_masked: str
    client_secret_set: bool
    client_secret_masked: str
    sponsored_accounts: list[str]
    linkedin_version: str
    mode: ModeT
    lead_strategy_id: int | None
    contact_strategy_id: int | None
    contact_creation_enabled: bool
    lead_topic: str
    campaign: str
    cursor_submitted_at: int | None
    last_sync_at: datetime.datetime | None
    webhook_path: str


class ConnectorPatch(StrictSchema):
    """Give only what changes. ``access_token`` / ``client_secret``: a value replaces the
    stored secret, ``""`` removes it. A new ``api_base_url`` without a token forgets the token."""

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    enabled: bool | None = None
    api_base_url: Annotated[str, Field(max_length=200)] | None = None
    access_token: Annotated[str, Field(max_length=4000)] | None = None
    client_secret: Annotated[str, Field(max_length=200)] | None = None
    sponsored_accounts: list[Annotated[str, Field(max_length=100)]] | None = Field(
        None, max_length=50, description="URNs like urn:li:sponsoredAccount:123"
    )
    linkedin_version: Annotated[str, Field(max_length=9)] | None = None
    mode: ModeT | None = None
    lead_strategy_id: int | None = None
    contact_strategy_id: int | None = None
    contact_creation_enabled: bool | None = None
    lead_topic: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    campaign: Annotated[str, Field(max_length=200)] | None = None


class MappingIn(StrictSchema):
    form_urn: Annotated[str, Field(max_length=200)] = Field(
        "", description="urn:li:leadGenForm:123, or empty for every form"
    )
    question_id: Annotated[str, Field(min_length=1, max_length=30)] | int
    maps_to: Annotated[str, Field(max_length=50)] = Field(
        ..., description="Record field, e.g. contact.email"
    )


class MappingPatch(StrictSchema):
    form_urn: Annotated[str, Field(max_length=200)] | None = None
    question_id: Annotated[str, Field(min_length=1, max_length=30)] | int | None = None
    maps_to: Annotated[str, Field(max_length=50)] | None = None


class MappingOut(Schema):
    id: int
    form_urn: str
    question_id: str
    maps_to: str


class SyncRunOut(Schema):
    id: int
    trigger: TriggerT
    status: Literal["queued", "running", "succeeded", "failed"]
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    requested_by_id: int | None
    fetched: int
    created: int
    updated: int
    skipped: int
    rejected: int
    cursor_before: int | None
    cursor_after: int | None
    http_status: int | None
    error: str


class SyncRunPage(Schema):
    items: list[SyncRunOut]
    count: int
    page: int
    page_size: int


class ReceivedResponseOut(Schema):
    id: int
    response_id: str
    form_urn: str
    submitted_at: datetime.datetime | None
    received_at: datetime.datetime
    test_lead: bool
    outcome: Literal["pending", "created", "updated", "rejected"]
    contact_action: str
    lead_action: str
    contact_id: int | None
    lead_id: int | None
    values: dict[str, str]
    errors: dict[str, dict[str, str]]
    sync_run_id: int | None


class ReceivedResponsePage(Schema):
    items: list[ReceivedResponseOut]
    count: int
    page: int
    page_size: int
