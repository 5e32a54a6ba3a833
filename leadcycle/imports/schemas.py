"""API shapes of imports: jobs (their mapping, options, progress and outcome) and mappings."""

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class ImportOptions(Schema):
    """How rows are matched and written. Strategies by id or name; ``lead_strategy``
    ``"always"`` (the default) creates a lead for every row."""

    model_config = ConfigDict(extra="forbid")

    contact_strategy: int | str | None = None
    lead_strategy: int | str | None = None
    on_match: str | None = Field(None, description="update, skip or fill_empty")
    create_missing: bool | None = None
    react: bool | None = None
    default_topic: str | None = None
    default_campaign: str | None = None
    batch_size: int | None = None


class ImportPatch(ImportOptions):
    mapping: dict[str, str | None] | list[str | None] | None = Field(
        None, description='By header, e.g. {"E-mail": "contact.email", "Notes": null}.'
    )


class ColumnOut(Schema):
    header: str
    field: str | None
    sample: list[str]


class ImportOut(Schema):
    id: int
    entity: str
    file_name: str
    file_format: str
    encoding: str
    delimiter: str
    status: str
    columns: list[ColumnOut]
    fields: list[str] = Field(description="What this entity's columns may be mapped to.")
    problems: dict[str, str] = Field(description="What keeps the mapping from running.")
    contact_strategy: int | None
    lead_strategy: int | None
    on_match: str
    create_missing: bool
    react: bool
    default_topic: str
    default_campaign: str
    batch_size: int
    rows_total: int
    rows_done: int
    percent: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    contacts_created: int
    accounts_created: int
    dry_run: dict[str, Any] | None
    problem: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


class RowErrorOut(Schema):
    row: int
    column: str
    reason: str
    values: list[str]


class MappingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    entity: str
    columns: dict[str, str] = Field(
        examples=[{"E-mail": "contact.email", "Company": "account.name"}]
    )


class MappingOut(Schema):
    id: int
    name: str
    entity: str
    columns: dict[str, str]


class SaveMappingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
