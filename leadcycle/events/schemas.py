"""API schemas for events and registrations. Fields are explicit; unknown fields are refused."""

import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from leadcycle.crm.schemas import ListQuery

Str80 = Annotated[str, Field(max_length=80)]
Str200 = Annotated[str, Field(max_length=200)]
Str10000 = Annotated[str, Field(max_length=10_000)]
Capacity = Annotated[int, Field(ge=0, le=1_000_000)]
MatchingT = Literal["email", "name", "email_and_name"]
RegistrationStatusT = Literal["registered", "waitlisted", "cancelled", "checked_in"]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class EventIn(StrictSchema):
    name: Str200
    slug: Str80 = Field("", description="Empty: made from the name.")
    description: Str10000 = ""
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    location: Str200 = ""
    capacity: Capacity | None = Field(None, description="Seats; null for no limit.")
    waitlist_enabled: bool = True
    create_leads: bool = True
    lead_topic: Str200 = Field("", description='Empty: "Event: <name>".')
    campaign: Str200 = ""
    registrant_matching: MatchingT = "email"
    is_published: bool = True


class EventPatch(StrictSchema):
    name: Str200 | None = None
    slug: Str80 | None = None
    description: Str10000 | None = None
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    location: Str200 | None = None
    capacity: Capacity | None = None
    waitlist_enabled: bool | None = None
    create_leads: bool | None = None
    lead_topic: Str200 | None = None
    campaign: Str200 | None = None
    registrant_matching: MatchingT | None = None
    is_published: bool | None = None


class EventOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    location: str
    capacity: int | None
    waitlist_enabled: bool
    create_leads: bool
    lead_topic: str
    campaign: str
    registrant_matching: str
    is_published: bool
    public_url: str
    registered_count: int
    waitlisted_count: int
    checked_in_count: int
    cancelled_count: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_public_url(obj: Any) -> str:
        return f"/e/{obj.slug}/"


class EventListQuery(ListQuery):
    when: Literal["upcoming", "past", "all"] = Field(
        "upcoming", description="upcoming (not ended yet), past or all"
    )
    is_published: bool | None = None


class EventPage(Schema):
    items: list[EventOut]
    count: int
    page: int
    page_size: int


class RegistrationOut(Schema):
    id: int
    event_id: int
    contact_id: int | None
    lead_id: int | None
    status: str
    first_name: str
    last_name: str
    email: str
    answers: dict[str, Any]
    channel: str
    registered_at: datetime.datetime
    promoted_at: datetime.datetime | None
    checked_in_at: datetime.datetime | None
    checked_in_by_id: int | None
    cancelled_at: datetime.datetime | None


class RegistrationListQuery(ListQuery):
    status: RegistrationStatusT | None = None


class RegistrationPage(Schema):
    items: list[RegistrationOut]
    count: int
    page: int
    page_size: int


class StaffRegistrationIn(StrictSchema):
    """A registration recorded by staff (a walk-in, a phone call): the same values as the
    public form."""

    email: Annotated[str, Field(max_length=254)] = ""
    first_name: Annotated[str, Field(max_length=100)] = ""
    last_name: Annotated[str, Field(max_length=100)] = ""
    company: Str200 = ""
    job_title: Annotated[str, Field(max_length=150)] = ""
    phone: Annotated[str, Field(max_length=50)] = ""
    country: Annotated[str, Field(max_length=100)] = ""
    consent: bool = False
    answers: dict[str, Any] | None = None
    check_in: bool = Field(False, description="Check the person in at once (a walk-in).")


class StaffRegistrationOut(RegistrationOut):
    created: bool
