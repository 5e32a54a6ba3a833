"""API shapes of segments."""

import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

CONTOSO_EXAMPLE = {
    "all": [
        {"field": "role", "op": "eq", "value": "decision_maker"},
        {"lead": {"all": [{"field": "topic", "op": "eq", "value": "Contoso Ltd Conference"}]}},
    ]
}


class SegmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    kind: str = Field("dynamic", description="dynamic (query) or static (list)")
    query: dict[str, Any] | None = Field(None, examples=[CONTOSO_EXAMPLE])


class SegmentPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    kind: str | None = None
    query: dict[str, Any] | None = None


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    status: str
    query: dict[str, Any] | None
    version: int
    member_count: int
    refreshed_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    query: dict[str, Any] = Field(examples=[CONTOSO_EXAMPLE])


class PreviewOut(Schema):
    count: int


class RefreshOut(Schema):
    joined: int
    left: int
    member_count: int


class MemberOut(Schema):
    contact_id: int
    email: str
    first_name: str
    last_name: str
    added_at: datetime.datetime


class MembersPage(Schema):
    count: int
    results: list[MemberOut]


class MembersChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    contact_ids: list[int] = Field(default_factory=list)
    query: dict[str, Any] | None = Field(None, description="Add the contacts it finds now.")


class ChangedOut(Schema):
    changed: int
    member_count: int


class ImportedOut(Schema):
    added: int
    not_found: int = Field(description="Emails in the file that no contact has.")
    member_count: int
