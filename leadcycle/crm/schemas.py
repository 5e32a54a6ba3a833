"""API schemas for the CRM records. Fields are explicit; unknown fields are refused."""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

Str100 = Annotated[str, Field(max_length=100)]
Str10000 = Annotated[str, Field(max_length=10_000)]
Str150 = Annotated[str, Field(max_length=150)]
Str200 = Annotated[str, Field(max_length=200)]
Str254 = Annotated[str, Field(max_length=254)]
Str50 = Annotated[str, Field(max_length=50)]
RoleT = Literal["decision_maker", "influencer", "other"]
ConsentT = Literal["unknown", "granted", "withdrawn"]
ChannelT = Literal["manual", "api", "import", "form", "event", "linkedin", "journey"]
LeadStatusT = Literal["open", "qualified", "disqualified"]
StageT = Literal["qualify", "develop", "propose", "won", "lost"]
TaskKindT = Literal["call", "email", "meeting", "follow_up", "other"]
QueueT = Literal["telemarketing", "sales", ""]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# Accounts


class AccountIn(StrictSchema):
    name: Str200
    web_domain: Str200 = ""
    industry: Str100 = ""
    employees: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    annual_revenue: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None
    country: Str100 = ""
    owner_id: int | None = None


class AccountPatch(StrictSchema):
    name: Str200 | None = None
    web_domain: Str200 | None = None
    industry: Str100 | None = None
    employees: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    annual_revenue: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None
    country: Str100 | None = None
    owner_id: int | None = None


class AccountOut(Schema):
    id: int
    name: str
    web_domain: str
    industry: str
    employees: int | None
    annual_revenue: Decimal | None
    country: str
    owner_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


# Contacts


class ContactIn(StrictSchema):
    email: Str254 = ""
    first_name: Str100 = ""
    last_name: Str100 = ""
    job_title: Str150 = ""
    role: RoleT = "other"
    phone: Str50 = ""
    country: Str100 = ""
    account_id: int | None = None
    marketing_only: bool = False
    consent: ConsentT = "unknown"
    origin_channel: ChannelT = "api"
    owner_id: int | None = None


class ContactPatch(StrictSchema):
    email: Str254 | None = None
    first_name: Str100 | None = None
    last_name: Str100 | None = None
    job_title: Str150 | None = None
    role: RoleT | None = None
    phone: Str50 | None = None
    country: Str100 | None = None
    account_id: int | None = None
    marketing_only: bool | None = None
    consent: ConsentT | None = None
    owner_id: int | None = None


class ContactOut(Schema):
    id: int
    email: str
    email_normalized: str | None
    first_name: str
    last_name: str
    job_title: str
    role: str
    phone: str
    country: str
    account_id: int | None
    marketing_only: bool
    consent: str
    origin_channel: str
    owner_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


# Leads


class LeadIn(StrictSchema):
    topic: Str200
    source_channel: ChannelT = "api"
    origin_ref: Str200 = ""
    campaign: Str200 = ""
    first_name: Str100 = ""
    last_name: Str100 = ""
    email: Str254 = ""
    company_name: Str200 = ""
    parent_contact_id: int | None = None
    parent_account_id: int | None = None
    contact: ContactIn | None = Field(
        None,
        description="Create the parent contact in the same call (or link the existing "
        "contact with the same email).",
    )
    status: LeadStatusT = "open"
    sales_ready: bool = False
    telemarketing_ready: bool = False
    description: Str10000 = ""
    owner_id: int | None = None


class LeadPatch(StrictSchema):
    topic: Str200 | None = None
    source_channel: ChannelT | None = None
    origin_ref: Str200 | None = None
    campaign: Str200 | None = None
    first_name: Str100 | None = None
    last_name: Str100 | None = None
    email: Str254 | None = None
    company_name: Str200 | None = None
    parent_contact_id: int | None = None
    parent_account_id: int | None = None
    status: LeadStatusT | None = None
    status_reason: Annotated[str, Field(max_length=200)] | None = None
    sales_ready: bool | None = None
    telemarketing_ready: bool | None = None
    description: Str10000 | None = None
    owner_id: int | None = None


class LeadOut(Schema):
    id: int
    topic: str
    source_channel: str
    origin_ref: str
    campaign: str
    first_name: str
    last_name: str
    email: str
    company_name: str
    parent_contact_id: int | None
    parent_account_id: int | None
    status: str
    status_reason: str
    sales_ready: bool
    telemarketing_ready: bool
    description: str
    owner_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class LeadCreatedOut(LeadOut):
    contact_created: bool = Field(False, description="True when the call created the contact.")


# Opportunities


class OpportunityIn(StrictSchema):
    name: Str200
    lead_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] = Decimal(0)
    stage: StageT = "qualify"
    campaign: Annotated[str, Field(max_length=200)] = ""
    expected_close: datetime.date | None = None
    owner_id: int | None = None


class OpportunityPatch(StrictSchema):
    name: Str200 | None = None
    contact_id: int | None = None
    account_id: int | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    stage: StageT | None = None
    expected_close: datetime.date | None = None
    owner_id: int | None = None


class OpportunityOut(Schema):
    id: int
    name: str
    lead_id: int | None
    contact_id: int | None
    account_id: int | None
    value: Decimal
    stage: str
    campaign: str
    expected_close: datetime.date | None
    owner_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


# Tasks


class TaskIn(StrictSchema):
    kind: TaskKindT = "call"
    subject: Str200
    lead_id: int | None = None
    contact_id: int | None = None
    assignee_id: int | None = None
    queue: QueueT = ""
    due_at: datetime.datetime | None = None
    done: bool = False


class TaskPatch(StrictSchema):
    kind: TaskKindT | None = None
    subject: Str200 | None = None
    lead_id: int | None = None
    contact_id: int | None = None
    assignee_id: int | None = None
    queue: QueueT | None = None
    due_at: datetime.datetime | None = None
    done: bool | None = None


class TaskOut(Schema):
    id: int
    kind: str
    subject: str
    lead_id: int | None
    contact_id: int | None
    assignee_id: int | None
    queue: str
    due_at: datetime.datetime | None
    done: bool
    done_at: datetime.datetime | None
    owner_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class InteractionOut(Schema):
    id: int
    kind: str
    occurred_at: datetime.datetime
    contact_id: int | None
    lead_id: int | None
    campaign: str
    attributes: dict
    visitor_id: str
    idempotency_key: str | None


class AuditEntryOut(Schema):
    id: int
    action: str
    actor: str | None = Field(None, alias="actor.username")
    at: datetime.datetime
    changes: dict


class ListQuery(Schema):
    q: str | None = Field(None, max_length=200, description="Search text")
    sort: str | None = Field(None, description="Field to sort by; prefix - to reverse")
    page: int = Field(1, ge=1)
    page_size: int = Field(25, ge=1, le=500)
