"""Reads for scoring: a lead's scores with their explanation and history."""

from dataclasses import dataclass

from leadcycle.crm.models import Lead
from leadcycle.scoring.models import LeadScore, LeadScoreChange, ScoringModel
from leadcycle.scoring.services import RuleContribution, lead_explain


@dataclass(frozen=True)
class LeadScoreView:
    model_id: int
    model: str
    score: int
    grade: str
    model_version: int
    sales_ready_score: int
    computed_at: object
    rules: list[RuleContribution]
    history: list[LeadScoreChange]

    @property
    def sales_ready(self) -> bool:
        return self.score >= self.sales_ready_score

    @property
    def values(self) -> list[int]:
        """The score over time: where it started, then after each change."""
        if not self.history:
            return [self.score]
        return [self.history[0].old_score or 0, *(c.new_score for c in self.history)]

    @property
    def chart_points(self) -> list[tuple[float, float]]:
        """The history as (x, y) in a 0-100 box, for the inline SVG chart."""
        values = self.values
        if len(values) < 2:
            return []
        low, high = min([*values, 0]), max([*values, self.sales_ready_score])
        span = (high - low) or 1
        step = 100 / (len(values) - 1)
        return [
            (round(i * step, 1), round(100 - (v - low) / span * 100, 1))
            for i, v in enumerate(values)
        ]


def lead_scores(*, lead: Lead) -> list[LeadScoreView]:
    """Every live model's score of the lead, each rule's part in it and its history."""
    scores = list(
        LeadScore.objects.filter(lead=lead, model__status=ScoringModel.Status.LIVE)
        .select_related("model")
        .order_by("model__name")
    )
    history: dict[int, list[LeadScoreChange]] = {}
    for change in LeadScoreChange.objects.filter(
        lead=lead, model_id__in=[s.model_id for s in scores]
    ).order_by("changed_at", "id"):
        history.setdefault(change.model_id, []).append(change)
    return [
        LeadScoreView(
            model_id=s.model_id,
            model=s.model.name,
            score=s.score,
            grade=s.grade,
            model_version=s.model_version,
            sales_ready_score=s.model.sales_ready_score,
            computed_at=s.computed_at,
            rules=lead_explain(lead=lead, model=s.model),
            history=history.get(s.model_id, [])[-50:],
        )
        for s in scores
    ]
