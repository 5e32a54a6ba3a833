"""API shapes of the business process."""

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BaseModel, StrictInt


class StageOut(Schema):
    id: int
    key: str
    name: str
    position: int
    queue: str
    creates_task: bool


class ProcessOut(Schema):
    id: int
    name: str
    description: str
    is_default: bool
    version: int


class ProcessDocument(Schema):
    """A whole process: see ``leadcycle.process.admin_services``."""

    name: str
    description: str = ""
    is_default: bool = False
    stages: list[dict[str, Any]]
    transitions: list[dict[str, Any]] = []


class CopyIn(Schema):
    name: str = ""


class VisitOut(Schema):
    stage: str
    process: str
    entered_at: datetime.datetime
    left_at: datetime.datetime | None
    by: str | None
    reason: str


class StepOut(Schema):
    name: str
    label: str
    kind: str
    required: bool
    value: Any


class StageStateOut(Schema):
    id: int
    key: str
    name: str
    state: Literal["done", "current", "ahead"]
    fields: list[StepOut]


class WaitingOut(Schema):
    rule: str
    to: str
    held: bool
    missing: list[str]


class LeadProcessOut(Schema):
    lead_id: int
    lead_status: str
    process: ProcessOut
    stage: StageOut
    entered_at: datetime.datetime
    outcome: str
    stages: list[StageStateOut]
    history: list[VisitOut]
    held: bool
    waiting: list[WaitingOut]


class StepsIn(Schema):
    values: dict[str, Any]


class MoveIn(Schema):
    stage_id: StrictInt


class SwitchIn(Schema):
    process_id: StrictInt


class OpportunityExtraIn(BaseModel):
    """The opportunity's own fields on qualification (the rest comes from the lead). A plain
    pydantic model: a ninja Schema would read any object's attributes, accepting a string."""

    name: Annotated[str, Field(max_length=200)] | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    expected_close: datetime.date | None = None
    stage: Literal["qualify", "develop", "propose", "won", "lost"] | None = None


class QualifyIn(Schema):
    create_account: bool | None = None
    create_contact: bool | None = None
    create_opportunity: bool | None = None
    contact: dict[str, Any] | None = None
    account: dict[str, Any] | None = None
    link_contact_id: StrictInt | None = None  # true is not record 1, nor "7" record 7
    link_account_id: StrictInt | None = None
    create_anyway: bool = False
    opportunity: OpportunityExtraIn | None = None


class QualifiedOut(Schema):
    lead_id: int
    status: str
    opportunity_id: int | None
    contact_id: int | None
    account_id: int | None
    created: list[str]


class CandidateOut(Schema):
    id: int
    label: str
    detail: str


class QualificationPreviewOut(Schema):
    create_account: bool
    create_contact: bool
    create_opportunity: bool
    ask_each_time: bool
    contact_id: int | None
    account_id: int | None
    duplicate_contacts: list[CandidateOut]
    duplicate_accounts: list[CandidateOut]


class DisqualifyIn(Schema):
    reason: str
    note: str = ""


class LeadStatusOut(Schema):
    lead_id: int
    status: str
    status_reason: str


class QueueItemOut(Schema):
    lead_id: int
    topic: str
    contact: str | None
    account: str | None
    stage: str
    entered_at: datetime.datetime
    age_days: int
    owner: str | None
    sales_accepted: bool


class SettingsOut(Schema):
    create_account: bool
    create_contact: bool
    create_opportunity: bool
    ask_each_time: bool


class SettingsPatch(Schema):
    create_account: bool | None = None
    create_contact: bool | None = None
    create_opportunity: bool | None = None
    ask_each_time: bool | None = None
