"""Intake staff endpoints: matching strategies, the default pair, marketing forms with their
questions, and each form's submissions.

Roles are checked with the same permissions the pages use; errors have the API's one shape
(a strategy field outside the whitelist is a 422 naming ``fields``, a question's unknown record
field a 422 naming ``maps_to``, a taken address a 409 naming ``slug``).
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from leadcycle.intake import schemas, selectors, services
from leadcycle.intake.models import FormField, FormSubmission, MarketingForm, MatchingStrategy
from leadcycle.users.permissions import require

router = Router(tags=["intake"])


def _page(page: Any) -> dict[str, Any]:
    return {
        "items": page.items,
        "count": page.count,
        "page": page.page,
        "page_size": page.page_size,
    }


def _params(query: schemas.ListQuery) -> dict[str, Any]:
    return {k: v for k, v in query.dict().items() if v is not None}


# Matching strategies ---------------------------------------------------------------------------


def _with_usage(strategies: list[MatchingStrategy]) -> list[MatchingStrategy]:
    """The strategies, each with ``form_count`` and ``is_default`` set for the output."""
    usage = selectors.strategy_usage()
    defaults = selectors.intake_settings()
    default_ids = (
        {defaults.default_contact_strategy_id, defaults.default_lead_strategy_id}
        if defaults
        else set()
    )
    for strategy in strategies:
        strategy.form_count = usage.get(strategy.pk, 0)  # type: ignore[attr-defined]
        strategy.is_default = strategy.pk in default_ids  # type: ignore[attr-defined]
    return strategies


@router.get(
    "/matching-strategies",
    response=schemas.StrategyPage,
    tags=["matching strategies"],
    operation_id="strategy_list",
    summary="List matching strategies",
)
def strategy_list(
    request: HttpRequest, filters: Query[schemas.StrategyListQuery]
) -> dict[str, Any]:
    require(request.user, "view", MatchingStrategy)
    page = selectors.strategies_page(params=_params(filters))
    _with_usage(page.items)
    return _page(page)


@router.get(
    "/matching-strategies/{strategy_id}",
    response=schemas.StrategyOut,
    tags=["matching strategies"],
    operation_id="strategy_get",
    summary="Get one matching strategy",
)
def strategy_get(request: HttpRequest, strategy_id: int) -> MatchingStrategy:
    require(request.user, "view", MatchingStrategy)
    return _with_usage([get_object_or_404(MatchingStrategy, pk=strategy_id)])[0]


@router.post(
    "/matching-strategies",
    response={201: schemas.StrategyOut},
    tags=["matching strategies"],
    operation_id="strategy_create",
    summary="Create a matching strategy",
)
def strategy_create(request: HttpRequest, payload: schemas.StrategyIn) -> Status[MatchingStrategy]:
    """``fields`` lists what a record must equal, in order, from the whitelist of the target
    (a 422 naming ``fields`` lists the allowed ones)."""
    require(request.user, "add", MatchingStrategy)
    strategy = services.strategy_create(by=request.user, data=payload.dict())
    return Status(201, _with_usage([strategy])[0])


@router.patch(
    "/matching-strategies/{strategy_id}",
    response=schemas.StrategyOut,
    tags=["matching strategies"],
    operation_id="strategy_update",
    summary="Change a matching strategy",
)
def strategy_update(
    request: HttpRequest, strategy_id: int, payload: schemas.StrategyPatch
) -> MatchingStrategy:
    require(request.user, "change", MatchingStrategy)
    strategy = get_object_or_404(MatchingStrategy, pk=strategy_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    strategy = services.strategy_update(strategy=strategy, by=request.user, data=data)
    return _with_usage([strategy])[0]


@router.delete(
    "/matching-strategies/{strategy_id}",
    response={204: None},
    tags=["matching strategies"],
    operation_id="strategy_delete",
    summary="Delete a matching strategy nothing uses",
)
def strategy_delete(request: HttpRequest, strategy_id: int) -> HttpResponse:
    """409 ``strategy_in_use`` while a form or the default pair uses it."""
    require(request.user, "delete", MatchingStrategy)
    services.strategy_delete(
        strategy=get_object_or_404(MatchingStrategy, pk=strategy_id), by=request.user
    )
    return HttpResponse(status=204)


@router.get(
    "/intake-settings",
    response=schemas.SettingsOut,
    tags=["matching strategies"],
    operation_id="intake_settings_get",
    summary="The default strategy pair for new forms",
)
def settings_get(request: HttpRequest) -> Any:
    require(request.user, "view", MatchingStrategy)
    return services.intake_defaults_ensure()


@router.patch(
    "/intake-settings",
    response=schemas.SettingsOut,
    tags=["matching strategies"],
    operation_id="intake_settings_update",
    summary="Choose the default strategy pair for new forms",
)
def settings_update(request: HttpRequest, payload: schemas.SettingsPatch) -> Any:
    require(request.user, "change", MatchingStrategy)
    return services.intake_settings_update(by=request.user, data=payload.dict(exclude_unset=True))


# Forms and their questions ---------------------------------------------------------------------


def _form_data(payload: dict[str, Any]) -> dict[str, Any]:
    """Service input from a form payload: origins become the model's one-per-line text."""
    data = dict(payload)
    if "allowed_origins" in data:
        data["allowed_origins"] = "\n".join(o.strip() for o in data["allowed_origins"] or [])
    return data


def _field_data(payload: dict[str, Any]) -> dict[str, Any]:
    data = dict(payload)
    if "choices" in data:
        data["choices"] = "\n".join(c.strip() for c in data["choices"] or [] if c.strip())
    return data


def _form(form_id: int) -> MarketingForm:
    return get_object_or_404(MarketingForm, pk=form_id)


@router.get(
    "/forms",
    response=schemas.FormPage,
    tags=["forms"],
    operation_id="form_list",
    summary="List marketing forms",
)
def form_list(request: HttpRequest, filters: Query[schemas.FormListQuery]) -> dict[str, Any]:
    require(request.user, "view", MarketingForm)
    return _page(selectors.forms_page(params=_params(filters)))


@router.get(
    "/forms/{form_id}",
    response=schemas.FormDetailOut,
    tags=["forms"],
    operation_id="form_get",
    summary="Get one form with its questions",
)
def form_get(request: HttpRequest, form_id: int) -> MarketingForm:
    require(request.user, "view", MarketingForm)
    return _form(form_id)


@router.post(
    "/forms",
    response={201: schemas.FormDetailOut},
    tags=["forms"],
    operation_id="form_create",
    summary="Create a form, with its questions",
)
def form_create(request: HttpRequest, payload: schemas.FormIn) -> Status[MarketingForm]:
    """Strategies not given are the settings' default pair. Errors in a question name it by
    place: ``fields.0.maps_to``."""
    require(request.user, "add", MarketingForm)
    data = _form_data(payload.dict(exclude={"fields"}))
    questions = [_field_data(q.dict()) for q in payload.fields]
    form = services.form_create(by=request.user, data=data, fields=questions)
    return Status(201, form)


@router.patch(
    "/forms/{form_id}",
    response=schemas.FormDetailOut,
    tags=["forms"],
    operation_id="form_update",
    summary="Change a form's settings",
)
def form_update(request: HttpRequest, form_id: int, payload: schemas.FormPatch) -> MarketingForm:
    require(request.user, "change", MarketingForm)
    data = _form_data(payload.dict(exclude_unset=True))
    return services.form_update(form=_form(form_id), by=request.user, data=data)


@router.delete(
    "/forms/{form_id}",
    response={204: None},
    tags=["forms"],
    operation_id="form_delete",
    summary="Delete a form without submissions",
)
def form_delete(request: HttpRequest, form_id: int) -> HttpResponse:
    """409 ``form_has_submissions`` once it has any: take it offline (``is_live``) instead."""
    require(request.user, "delete", MarketingForm)
    services.form_delete(form=_form(form_id), by=request.user)
    return HttpResponse(status=204)


@router.post(
    "/forms/{form_id}/fields",
    response={201: schemas.FormFieldOut},
    tags=["forms"],
    operation_id="form_field_create",
    summary="Add a question at the end of a form",
)
def form_field_create(
    request: HttpRequest, form_id: int, payload: schemas.FormFieldIn
) -> Status[FormField]:
    require(request.user, "change", MarketingForm)
    question = services.form_field_create(
        form=_form(form_id), by=request.user, data=_field_data(payload.dict())
    )
    return Status(201, question)


@router.patch(
    "/forms/{form_id}/fields/{field_id}",
    response=schemas.FormFieldOut,
    tags=["forms"],
    operation_id="form_field_update",
    summary="Change a question, or move it with position",
)
def form_field_update(
    request: HttpRequest, form_id: int, field_id: int, payload: schemas.FormFieldPatch
) -> FormField:
    require(request.user, "change", MarketingForm)
    question = get_object_or_404(FormField, pk=field_id, form_id=form_id)
    data = _field_data(payload.dict(exclude_unset=True, exclude={"position"}))
    data = {k: v for k, v in data.items() if v is not None}
    if data:
        question = services.form_field_update(field=question, by=request.user, data=data)
    if payload.position is not None:
        question = services.form_field_move(field=question, by=request.user, to=payload.position)
    return question


@router.delete(
    "/forms/{form_id}/fields/{field_id}",
    response={204: None},
    tags=["forms"],
    operation_id="form_field_delete",
    summary="Remove a question",
)
def form_field_delete(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    require(request.user, "change", MarketingForm)
    question = get_object_or_404(FormField, pk=field_id, form_id=form_id)
    services.form_field_delete(field=question, by=request.user)
    return HttpResponse(status=204)


@router.get(
    "/forms/{form_id}/submissions",
    response=schemas.SubmissionPage,
    tags=["forms"],
    operation_id="form_submission_list",
    summary="A form's submissions with their outcome",
)
def submission_list(
    request: HttpRequest, form_id: int, filters: Query[schemas.SubmissionListQuery]
) -> dict[str, Any]:
    """Newest first. Each says which contact and lead it found, created or updated."""
    require(request.user, "view", FormSubmission)
    page = selectors.form_submissions_page(form=_form(form_id), params=_params(filters))
    return _page(page)
