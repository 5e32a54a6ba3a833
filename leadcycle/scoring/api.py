"""Scoring endpoints: models (draft → live → stopped), settings, and a lead's scores.

Marketers and administrators build and run models; every role that sees leads sees their
scores, each explained rule by rule.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from leadcycle.crm.models import Lead
from leadcycle.scoring import schemas, selectors, services
from leadcycle.scoring.models import ScoringModel, ScoringSettings
from leadcycle.users.permissions import require

router = Router(tags=["scoring"])


def _model(model_id: int) -> ScoringModel:
    return get_object_or_404(ScoringModel.objects.prefetch_related("rules"), pk=model_id)


@router.get(
    "/scoring/models", response=list[schemas.ScoringModelOut], operation_id="scoring_model_list"
)
def model_list(request: HttpRequest) -> list[ScoringModel]:
    require(request.user, "view", ScoringModel)
    return list(ScoringModel.objects.prefetch_related("rules"))


@router.post(
    "/scoring/models", response={201: schemas.ScoringModelOut}, operation_id="scoring_model_create"
)
def model_create(request: HttpRequest, payload: schemas.ScoringModelIn) -> Status[ScoringModel]:
    """A draft model. Errors name the part at fault, e.g. ``rules.0.conditions.1.where.0.op``."""
    require(request.user, "add", ScoringModel)
    model = services.scoring_model_create(by=request.user, data=payload.dict())
    return Status(201, _model(model.pk))


@router.get(
    "/scoring/models/{model_id}", response=schemas.ScoringModelOut, operation_id="scoring_model_get"
)
def model_get(request: HttpRequest, model_id: int) -> ScoringModel:
    require(request.user, "view", ScoringModel)
    return _model(model_id)


@router.patch(
    "/scoring/models/{model_id}",
    response=schemas.ScoringModelOut,
    operation_id="scoring_model_update",
)
def model_update(
    request: HttpRequest, model_id: int, payload: schemas.ScoringModelPatch
) -> ScoringModel:
    """A live model gets a new version and every lead is rescored."""
    require(request.user, "change", ScoringModel)
    data = payload.dict(exclude_unset=True)
    services.scoring_model_update(model=_model(model_id), by=request.user, data=data)
    return _model(model_id)


@router.post(
    "/scoring/models/{model_id}/go-live",
    response=schemas.ScoringModelOut,
    operation_id="scoring_model_go_live",
)
def model_go_live(request: HttpRequest, model_id: int) -> ScoringModel:
    require(request.user, "change", ScoringModel)
    services.scoring_model_go_live(model=_model(model_id), by=request.user)
    return _model(model_id)


@router.post(
    "/scoring/models/{model_id}/stop",
    response=schemas.ScoringModelOut,
    operation_id="scoring_model_stop",
)
def model_stop(request: HttpRequest, model_id: int) -> ScoringModel:
    require(request.user, "change", ScoringModel)
    services.scoring_model_stop(model=_model(model_id), by=request.user)
    return _model(model_id)


@router.post(
    "/scoring/models/{model_id}/backtest",
    response=schemas.BacktestOut,
    operation_id="scoring_model_backtest",
)
def model_backtest(request: HttpRequest, model_id: int, payload: schemas.BacktestIn) -> Any:
    """Try the model (a draft, typically) on past data: how many leads it would have made
    sales-ready at ``as_of``, and how many of those became opportunities afterwards. Writes
    nothing."""
    require(request.user, "view", ScoringModel)
    return services.model_backtest(model=_model(model_id), as_of=payload.as_of)


@router.delete(
    "/scoring/models/{model_id}", response={204: None}, operation_id="scoring_model_delete"
)
def model_delete(request: HttpRequest, model_id: int) -> HttpResponse:
    require(request.user, "delete", ScoringModel)
    services.scoring_model_delete(model=_model(model_id), by=request.user)
    return HttpResponse(status=204)


@router.get(
    "/leads/{lead_id}/scores",
    response=list[schemas.LeadScoreOut],
    operation_id="lead_scores",
    tags=["leads"],
)
def lead_scores(request: HttpRequest, lead_id: int) -> list[Any]:
    """Each live model's score, grade and version, each rule's contribution (occurrences x
    points) and the score's history."""
    require(request.user, "view", Lead)
    return selectors.lead_scores(lead=get_object_or_404(Lead, pk=lead_id))


@router.get(
    "/scoring/settings", response=schemas.ScoringSettingsOut, operation_id="scoring_settings_get"
)
def settings_get(request: HttpRequest) -> ScoringSettings:
    require(request.user, "view", ScoringSettings)
    return services.scoring_settings()


@router.patch(
    "/scoring/settings", response=schemas.ScoringSettingsOut, operation_id="scoring_settings_update"
)
def settings_update(request: HttpRequest, payload: schemas.ScoringSettingsPatch) -> ScoringSettings:
    require(request.user, "change", ScoringSettings)
    return services.scoring_settings_update(by=request.user, data=payload.dict(exclude_unset=True))
