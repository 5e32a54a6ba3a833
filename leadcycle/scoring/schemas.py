import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

RULES_EXAMPLE = [
    {
        "name": "Decision makers",
        "points": 30,
        "conditions": [
            {
                "entity": "contact",
                "where": [{"field": "role", "op": "eq", "value": "decision_maker"}],
            }
        ],
    },
    {
        "name": "Each email click in the last 30 days",
        "points": 10,
        "conditions": [
            {
                "entity": "interaction",
                "kind": "email_clicked",
                "frequency": "each",
                "within_days": 30,
            }
        ],
    },
]


class ScoringModelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    target: str = Field("contact", description="contact or account")
    sales_ready_score: int = 100
    grades: list[Any] = Field(
        default_factory=list,
        examples=[[{"name": "Cold", "min": 0, "max": 49}, {"name": "Hot", "min": 50, "max": 1000}]],
    )
    rules: list[Any] = Field(default_factory=list, examples=[RULES_EXAMPLE])


class ScoringModelPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    target: str | None = None
    sales_ready_score: int | None = None
    grades: list[Any] | None = None
    rules: list[Any] | None = Field(None, description="Replaces every rule when given.")


class RuleOut(Schema):
    name: str
    points: int
    conditions: list[Any]


class ScoringModelOut(Schema):
    id: int
    name: str
    description: str
    target: str
    status: str
    version: int
    sales_ready_score: int
    grades: list[Any]
    rules: list[RuleOut]
    live_since: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_rules(obj: Any) -> list[Any]:
        return list(obj.rules.all())


class ContributionOut(Schema):
    rule: str
    occurrences: int
    points: int
    total: int


class ScoreChangeOut(Schema):
    changed_at: datetime.datetime
    old_score: int | None
    new_score: int
    model_version: int


class LeadScoreOut(Schema):
    model_id: int
    model: str
    score: int
    grade: str
    model_version: int
    sales_ready_score: int
    computed_at: datetime.datetime
    rules: list[ContributionOut]
    history: list[ScoreChangeOut]


class ScoringSettingsOut(Schema):
    auto_sales_ready: bool
    auto_qualification: bool
    remove_scores_when_stopped: bool


class ScoringSettingsPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    auto_sales_ready: bool | None = None
    auto_qualification: bool | None = None
    remove_scores_when_stopped: bool | None = None


class BacktestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    as_of: datetime.datetime = Field(..., description="A past time, e.g. 2026-06-01T00:00:00Z.")


class BacktestOut(Schema):
    as_of: datetime.datetime
    leads_scored: int
    sales_ready: int
    sales_ready_became_opportunities: int
    all_became_opportunities: int
    conversion: float | None = Field(None, description="Opportunities ÷ sales-ready.")
    overall_conversion: float | None = Field(None, description="Opportunities ÷ leads scored.")
