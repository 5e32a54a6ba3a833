"""API schemas of the intake staff endpoints. Fields are explicit; unknown fields are refused.

Record-field paths (``maps_to``, a strategy's ``fields``) are plain strings here, so that the
services check them against the whitelist and the error names the field with a useful message.
"""

import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

TargetT = Literal["contact", "lead"]
UpdateModeT = Literal["contacts_and_leads", "only_contacts", "only_leads", "no_update"]
KindT = Literal["text", "email", "phone", "textarea", "number", "choice", "consent"]
StatusT = Literal["accepted", "rejected"]
Str50 = Annotated[str, Field(max_length=50)]
Str60 = Annotated[str, Field(max_length=60)]
Str100 = Annotated[str, Field(max_length=100)]
Str200 = Annotated[str, Field(max_length=200)]
Str300 = Annotated[str, Field(max_length=300)]
Str500 = Annotated[str, Field(max_length=500)]
Origin = Annotated[str, Field(max_length=300, examples=["https://www.example.com"])]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# Matching strategies


class StrategyIn(StrictSchema):
    name: Str100
    target: TargetT
    fields: list[Str50] = Field(..., max_length=10, examples=[["contact.email", "lead.origin_ref"]])
    description: Str300 = ""


class StrategyPatch(StrictSchema):
    name: Str100 | None = None
    target: TargetT | None = None
    fields: list[Str50] | None = Field(None, max_length=10)
    description: Str300 | None = None


class StrategyOut(Schema):
    id: int
    name: str
    target: str
    fields: list[str]
    description: str
    form_count: int = Field(0, description="Forms that match with this strategy")
    is_default: bool = Field(False, description="Part of the default pair for new forms")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SettingsPatch(StrictSchema):
    default_contact_strategy_id: int | None = None
    default_lead_strategy_id: int | None = None


class SettingsOut(Schema):
    default_contact_strategy_id: int | None
    default_lead_strategy_id: int | None


# Forms and their questions


class FormFieldIn(StrictSchema):
    key: Str50 = Field(..., description="Name of the answer in submissions", examples=["email"])
    label: Str200
    kind: KindT = "text"
    required: bool = False
    maps_to: Str50 = Field(
        "",
        description="Record field the answer fills (contact.email, account.name, …; "
        "contact.consent for a consent checkbox); empty keeps it on the submission only",
        examples=["contact.email"],
    )
    choices: list[Str200] = Field([], max_length=100, description="Options of a choice question")
    help_text: Str300 = ""


class FormFieldPatch(StrictSchema):
    key: Str50 | None = None
    label: Str200 | None = None
    kind: KindT | None = None
    required: bool | None = None
    maps_to: Str50 | None = None
    choices: list[Str200] | None = Field(None, max_length=100)
    help_text: Str300 | None = None
    position: int | None = Field(None, ge=0, description="Move the question here (0 is first)")


class FormFieldOut(Schema):
    id: int
    key: str
    label: str
    kind: str
    required: bool
    maps_to: str
    choices: list[str]
    help_text: str
    position: int

    @staticmethod
    def resolve_choices(obj: Any) -> list[str]:
        return list(obj.choice_list())


class FormIn(StrictSchema):
    name: Str200
    slug: Annotated[str, Field(max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")]
    title: Str200
    intro: Annotated[str, Field(max_length=5000)] = ""
    update_mode: UpdateModeT = "contacts_and_leads"
    generate_leads_without_matching: bool = False
    contact_strategy_id: int | None = Field(None, description="Default: the settings' default")
    lead_strategy_id: int | None = Field(None, description="Default: the settings' default")
    lead_topic: Str200
    campaign: Str200 = ""
    submit_label: Str60 = "Submit"
    thank_you_message: Str500 = "Thank you! We will be in touch."
    redirect_url: Annotated[str, Field(max_length=200)] = ""
    allowed_origins: list[Origin] = Field([], max_length=50)
    is_live: bool = True
    fields: list[FormFieldIn] = Field([], max_length=100)


class FormPatch(StrictSchema):
    name: Str200 | None = None
    slug: Annotated[str, Field(max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")] | None = None
    title: Str200 | None = None
    intro: Annotated[str, Field(max_length=5000)] | None = None
    update_mode: UpdateModeT | None = None
    generate_leads_without_matching: bool | None = None
    contact_strategy_id: int | None = None
    lead_strategy_id: int | None = None
    lead_topic: Str200 | None = None
    campaign: Str200 | None = None
    submit_label: Str60 | None = None
    thank_you_message: Str500 | None = None
    redirect_url: Annotated[str, Field(max_length=200)] | None = None
    allowed_origins: list[Origin] | None = Field(None, max_length=50)
    is_live: bool | None = None


class FormOut(Schema):
    id: int
    name: str
    slug: str
    title: str
    intro: str
    update_mode: str
    generate_leads_without_matching: bool
    contact_strategy_id: int
    lead_strategy_id: int
    lead_topic: str
    campaign: str
    submit_label: str
    thank_you_message: str
    redirect_url: str
    allowed_origins: list[str]
    is_live: bool
    hosted_path: str = Field(..., description="The hosted page, e.g. /f/spring-webinar")
    submit_path: str = Field(..., description="The public JSON endpoint for submissions")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_allowed_origins(obj: Any) -> list[str]:
        return list(obj.origins())

    @staticmethod
    def resolve_hosted_path(obj: Any) -> str:
        return f"/f/{obj.slug}"

    @staticmethod
    def resolve_submit_path(obj: Any) -> str:
        return f"/api/v1/public/forms/{obj.slug}/submissions"


class FormListOut(FormOut):
    submission_count: int


class FormDetailOut(FormOut):
    fields: list[FormFieldOut]

    @staticmethod
    def resolve_fields(obj: Any) -> list[Any]:
        return list(obj.fields.order_by("position", "id"))


class FormPage(Schema):
    items: list[FormListOut]
    count: int
    page: int
    page_size: int


class StrategyPage(Schema):
    items: list[StrategyOut]
    count: int
    page: int
    page_size: int


# Submissions


class SubmissionOut(Schema):
    id: int
    form_id: int
    status: str
    channel: str
    values: dict[str, Any]
    errors: dict[str, Any]
    contact_id: int | None
    contact_action: str = Field(..., description="created, updated, matched or none")
    lead_id: int | None
    lead_action: str = Field(..., description="created, updated, matched or none")
    possible_duplicates: list[dict[str, Any]]
    created_at: datetime.datetime


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    count: int
    page: int
    page_size: int


class ListQuery(Schema):
    q: str | None = Field(None, max_length=200, description="Search text")
    sort: str | None = Field(None, description="Field to sort by; prefix - to reverse")
    page: int = Field(1, ge=1)
    page_size: int = Field(25, ge=1, le=500)


class FormListQuery(ListQuery):
    is_live: bool | None = None
    update_mode: UpdateModeT | None = None


class StrategyListQuery(ListQuery):
    target: TargetT | None = None


class SubmissionListQuery(ListQuery):
    status: StatusT | None = None
    channel: Literal["page", "api"] | None = None
