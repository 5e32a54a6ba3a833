"""Writing audit entries. Called by every service that changes a record, inside its transaction."""

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User, AnonymousUser
from django.db import models

from leadcycle.audit.models import AuditEntry

Actor = User | AnonymousUser | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def record_snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited field values of a record, keyed by field name (foreign keys by id)."""
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.primary_key or field.name in {"created_at", "updated_at"}:
            continue
        values[field.name] = _jsonable(getattr(instance, field.attname))
    return values


def _actor_or_none(actor: Actor) -> User | None:
    if actor is None or not actor.is_authenticated:
        return None
    return actor  # type: ignore[return-value]


def audit_record(
    *,
    actor: Actor,
    action: str,
    instance: models.Model,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry | None:
    """Write one audit entry; for updates only the fields whose value changed are kept.

    Returns ``None`` for an update that changed nothing (no entry is written).
    """
    before = before or {}
    after = after or {}
    keys = sorted(set(before) | set(after))
    changes = {
        key: [before.get(key), after.get(key)]
        for key in keys
        if action != AuditEntry.Action.UPDATE or before.get(key) != after.get(key)
    }
    if action == AuditEntry.Action.UPDATE and not changes:
        return None
    return AuditEntry.objects.create(
        actor=_actor_or_none(actor),
        action=action,
        record_type=instance._meta.label_lower,
        record_id=instance.pk,
        record_repr=str(instance)[:200],
        changes=changes,
    )


def audit_bulk_create(
    *, actor: Actor, instances: Iterable[models.Model], batch_size: int = 2000
) -> None:
    """One ``create`` entry per record, written with ``bulk_create`` (bulk paths)."""
    actor_user = _actor_or_none(actor)
    rows = [
        AuditEntry(
            actor=actor_user,
            action=AuditEntry.Action.CREATE,
            record_type=instance._meta.label_lower,
            record_id=instance.pk,
            record_repr=str(instance)[:200],
            changes={
                k: [None, v] for k, v in record_snapshot(instance).items() if v not in (None, "")
            },
        )
        for instance in instances
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=batch_size)
