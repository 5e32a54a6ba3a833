"""CRM endpoints: list, get, create, update (PATCH) and delete for every record type.

The five record types share one shape of endpoints, so ``_register`` builds them from a
``Resource``: the model, its list spec (the same one the UI uses), schemas and services.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import create_model

from leadcycle.audit.selectors import audit_trail
from leadcycle.crm import saved_views, schemas, services
from leadcycle.crm.listing import ListSpec, list_page
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.crm.selectors import (
    ACCOUNT_LIST,
    CONTACT_LIST,
    LEAD_LIST,
    OPPORTUNITY_LIST,
    TASK_LIST,
)
from leadcycle.errors import DomainError
from leadcycle.users.permissions import require

router = Router()


@dataclass(frozen=True)
class Resource:
    path: str
    model: type[models.Model]
    spec: ListSpec[Any]
    out: type[Schema]
    create_in: type[Schema] | None = None
    patch_in: type[Schema] | None = None
    create: Callable[..., Any] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[..., Any] | None = None


def _query_schema(resource: Resource) -> type[Schema]:
    """The list query of a resource: paging, search, sort and its filters, for OpenAPI."""
    fields: dict[str, Any] = {
        name: (str | None, Field(None, description=flt.label or name))
        for name, flt in resource.spec.filters.items()
    }
    fields["view"] = (
        str | None,
        Field(None, description="A view's key (GET /views): its parameters apply underneath."),
    )
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{resource.model.__name__}ListQuery", __base__=schemas.ListQuery, **fields
    )


def _page_schema(resource: Resource) -> type[Schema]:
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{resource.model.__name__}Page",
        __base__=Schema,
        items=(list[resource.out], ...),  # type: ignore[name-defined]
        count=(int, ...),
        page=(int, ...),
        page_size=(int, ...),
    )


def resource_register(resource: Resource, *, on: Router = router) -> None:
    """List, get, history and, where the resource has the services, create, change and
    delete endpoints for one record type, on router ``on`` (another app's, for its records)."""
    model, name = resource.model, str(resource.model._meta.model_name)
    tag = str(model._meta.verbose_name_plural)
    query_schema, page_schema = _query_schema(resource), _page_schema(resource)

    def list_records(request: HttpRequest, filters: Query[query_schema]) -> dict[str, Any]:  # type: ignore[valid-type]
        require(request.user, "view", model)
        params = {k: v for k, v in filters.dict().items() if v is not None}  # type: ignore[attr-defined]
        params, _ = saved_views.view_params(request.user, name, params)
        page = list_page(resource.spec, params)
        return {
            "items": page.items,
            "count": page.count,
            "page": page.page,
            "page_size": page.page_size,
        }

    def get_record(request: HttpRequest, record_id: int) -> models.Model:
        require(request.user, "view", model)
        return get_object_or_404(model, pk=record_id)

    def get_history(request: HttpRequest, record_id: int) -> list[Any]:
        """Newest first; a contact's or account's includes the records merged into it."""
        require(request.user, "view", model)
        record = get_object_or_404(model, pk=record_id)
        also: list[int] = []
        if name in ("contact", "account"):
            from leadcycle.duplicates.selectors import merged_ids

            also = merged_ids(entity=name, record_id=record.pk)
        return list(audit_trail(instance=record, also_ids=also))

    on.get(
        f"/{resource.path}",
        response=page_schema,
        tags=[tag],
        operation_id=f"{name}_list",
        summary=f"List {tag}",
    )(list_records)
    on.get(
        f"/{resource.path}/{{record_id}}",
        response=resource.out,
        tags=[tag],
        operation_id=f"{name}_get",
        summary=f"Get one {name}",
    )(get_record)
    on.get(
        f"/{resource.path}/{{record_id}}/history",
        response=list[schemas.AuditEntryOut],
        tags=[tag],
        operation_id=f"{name}_history",
        summary=f"Audit trail of one {name}",
    )(get_history)

    if resource.create and resource.create_in and model is not Lead:
        create_in, create = resource.create_in, resource.create

        def create_record(request: HttpRequest, payload: create_in) -> Status[Any]:  # type: ignore[valid-type]
            require(request.user, "add", model)
            return Status(201, create(by=request.user, data=payload.dict()))  # type: ignore[attr-defined]

        on.post(
            f"/{resource.path}",
            response={201: resource.out},
            tags=[tag],
            operation_id=f"{name}_create",
            summary=f"Create a {name}",
        )(create_record)

    if resource.update and resource.patch_in:
        patch_in, update = resource.patch_in, resource.update

        def update_record(request: HttpRequest, record_id: int, payload: patch_in) -> Any:  # type: ignore[valid-type]
            require(request.user, "change", model)
            record = get_object_or_404(model, pk=record_id)
            data = payload.dict(exclude_unset=True)  # type: ignore[attr-defined]
            return update(**{name: record}, by=request.user, data=data)

        on.patch(
            f"/{resource.path}/{{record_id}}",
            response=resource.out,
            tags=[tag],
            operation_id=f"{name}_update",
            summary=f"Change a {name}",
        )(update_record)

    if resource.delete:
        delete = resource.delete

        def delete_record(request: HttpRequest, record_id: int) -> HttpResponse:
            require(request.user, "delete", model)
            delete(**{name: get_object_or_404(model, pk=record_id)}, by=request.user)
            return HttpResponse(status=204)

        on.delete(
            f"/{resource.path}/{{record_id}}",
            response={204: None},
            tags=[tag],
            operation_id=f"{name}_delete",
            summary=f"Delete a {name}",
        )(delete_record)


@router.post(
    "/leads",
    response={201: schemas.LeadCreatedOut},
    tags=["leads"],
    operation_id="lead_create",
    summary="Create a lead, with a new or existing contact",
)
def lead_create(request: HttpRequest, payload: schemas.LeadIn) -> Status[dict[str, Any]]:
    """Link ``parent_contact_id``, or pass ``contact`` to create the parent contact in the same
    call; a contact whose email (normalised) already exists is linked instead of duplicated."""
    require(request.user, "add", Lead)
    data = payload.dict(exclude={"contact"})
    new_contact = payload.contact.dict() if payload.contact is not None else None
    if new_contact is not None:
        require(request.user, "add", Contact)
    result = services.lead_create(by=request.user, data=data, new_contact=new_contact)
    out = schemas.LeadOut.from_orm(result.lead).dict()
    return Status(201, {**out, "contact_created": result.contact_created})


for _resource in (
    Resource(
        "accounts",
        Account,
        ACCOUNT_LIST,
        schemas.AccountOut,
        schemas.AccountIn,
        schemas.AccountPatch,
        services.account_create,
        services.account_update,
        services.account_delete,
    ),
    Resource(
        "contacts",
        Contact,
        CONTACT_LIST,
        schemas.ContactOut,
        schemas.ContactIn,
        schemas.ContactPatch,
        services.contact_create,
        services.contact_update,
        services.contact_delete,
    ),
    Resource(
        "leads",
        Lead,
        LEAD_LIST,
        schemas.LeadOut,
        schemas.LeadIn,
        schemas.LeadPatch,
        services.lead_create,
        services.lead_update,
        services.lead_delete,
    ),
    Resource(
        "opportunities",
        Opportunity,
        OPPORTUNITY_LIST,
        schemas.OpportunityOut,
        schemas.OpportunityIn,
        schemas.OpportunityPatch,
        services.opportunity_create,
        services.opportunity_update,
        services.opportunity_delete,
    ),
    Resource(
        "tasks",
        Task,
        TASK_LIST,
        schemas.TaskOut,
        schemas.TaskIn,
        schemas.TaskPatch,
        services.task_create,
        services.task_update,
        services.task_delete,
    ),
):
    resource_register(_resource)


# Views ---------------------------------------------------------------------------------------

_VIEW_SPECS: dict[str, ListSpec[Any]] = {"contact": CONTACT_LIST, "lead": LEAD_LIST}


class ViewIn(Schema):
    entity: str
    name: str
    params: dict[str, Any] = {}
    columns: list[str] = []
    shared_role: str = ""


def _view_entity(request: HttpRequest, entity: str) -> ListSpec[Any]:
    spec = _VIEW_SPECS.get(entity)
    if spec is None:
        raise DomainError(
            "unknown_entity", "Views exist for contacts and leads.",
            fields={"entity": "contact or lead"}, status=422,
        )  # fmt: skip
    require(request.user, "view", spec.model)
    return spec


@router.get("/views", response=list[dict[str, Any]], tags=["views"], operation_id="view_list")
def view_list(request: HttpRequest, entity: str) -> list[dict[str, Any]]:
    """The preset views (contacts: ``marketing``, ``sales``; leads: ``sales_ready``,
    ``telemarketing``, ``mine``), then yours and those shared with your role. Apply one with
    ``?view=<key>`` on ``GET /contacts`` or ``GET /leads``."""
    _view_entity(request, entity)
    return saved_views.views_for(request.user, entity)


@router.post("/views", response={201: dict[str, Any]}, tags=["views"], operation_id="view_create")
def view_create(request: HttpRequest, payload: ViewIn) -> Status[dict[str, Any]]:
    spec = _view_entity(request, payload.entity)
    view = saved_views.saved_view_create(
        user=request.user,  # type: ignore[arg-type]
        entity=payload.entity, spec=spec, columns=payload.columns,
        data={"name": payload.name, "params": payload.params, "shared_role": payload.shared_role},
    )  # fmt: skip
    return Status(201, next(v for v in saved_views.views_for(request.user, payload.entity)
                            if v["id"] == view.pk))  # fmt: skip


@router.delete("/views/{view_id}", response={204: None}, tags=["views"], operation_id="view_delete")
def view_delete(request: HttpRequest, view_id: int) -> Status[None]:
    saved_views.saved_view_delete(user=request.user, view_id=view_id)  # type: ignore[arg-type]
    return Status(204, None)
