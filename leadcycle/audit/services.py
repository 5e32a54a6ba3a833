"""Writing audit entries. Called by every service that changes a record, inside its transaction."""

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db import models, router
from django.db.models.deletion import Collector
from django.utils import timezone

from leadcycle.audit.models import AuditEntry

Actor = User | AnonymousUser | None


def json_value(value: Any, field: models.Field | None = None) -> Any:
    """A JSON value that compares equal exactly when the stored values are equal: the same
    instant in another offset, or 100 vs 100.00 in a decimal column, is not a change."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        places = getattr(field, "decimal_places", None)
        if places is not None:
            return f"{value:.{places}f}"
        return str(value)
    if isinstance(value, uuid.UUID):
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
        values[field.name] = json_value(getattr(instance, field.attname), field)
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


def audit_delete_with_cascade(
    *, actor: Actor, instance: models.Model, audited: frozenset[str]
) -> None:
    """Audit the deletion of ``instance`` and everything the deletion does to other records.

    Django's own collector says what ``delete()`` will do: audited records (``audited`` holds
    ``app_label.model`` names) deleted by cascade get a ``delete`` entry each, audited records
    whose foreign key is set to null get an ``update`` entry, and other cascaded rows (such as
    interactions) are counted on the record's own entry. Raises ``ProtectedError`` before
    writing anything when the deletion is refused.
    """
    collector = Collector(using=router.db_for_write(type(instance)))
    collector.collect([instance])
    cascade_counts: dict[str, int] = {}
    entries: list[AuditEntry] = []
    actor_user = _actor_or_none(actor)

    def deleted(obj: models.Model) -> None:
        label = obj._meta.label_lower
        if obj is instance or (label == instance._meta.label_lower and obj.pk == instance.pk):
            return
        if label in audited:
            entries.append(
                AuditEntry(
                    actor=actor_user,
                    action=AuditEntry.Action.DELETE,
                    record_type=label,
                    record_id=obj.pk,
                    record_repr=str(obj)[:200],
                    changes={k: [v, None] for k, v in record_snapshot(obj).items()},
                )
            )
        else:
            cascade_counts[label] = cascade_counts.get(label, 0) + 1

    for objs in collector.data.values():
        for obj in objs:
            deleted(obj)
    for queryset in collector.fast_deletes:
        if queryset.model._meta.label_lower in audited:
            for obj in queryset:
                deleted(obj)
        else:
            label = queryset.model._meta.label_lower
            cascade_counts[label] = cascade_counts.get(label, 0) + queryset.count()
    for (field, value), groups in collector.field_updates.items():
        for group in groups:
            for obj in cast(Iterable[models.Model], group):
                label = obj._meta.label_lower
                if label not in audited:
                    continue
                entries.append(
                    AuditEntry(
                        actor=actor_user,
                        action=AuditEntry.Action.UPDATE,
                        record_type=label,
                        record_id=obj.pk,
                        record_repr=str(obj)[:200],
                        changes={field.name: [json_value(getattr(obj, field.attname)), value]},
                    )
                )
    own = {k: [v, None] for k, v in record_snapshot(instance).items()}
    for label, count in sorted(cascade_counts.items()):
        own[f"deleted {label}"] = [count, None]
    entries.append(
        AuditEntry(
            actor=actor_user,
            action=AuditEntry.Action.DELETE,
            record_type=instance._meta.label_lower,
            record_id=instance.pk,
            record_repr=str(instance)[:200],
            changes=own,
        )
    )
    AuditEntry.objects.bulk_create(entries)


def audit_create(*, actor: Actor, instance: models.Model) -> AuditEntry | None:
    """Audit a record just created: every field's value as it was saved."""
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        instance=instance,
        after=record_snapshot(instance),
    )


def audit_update(
    *, actor: Actor, instance: models.Model, before: Mapping[str, Any]
) -> AuditEntry | None:
    """Audit a record just saved, against its ``record_snapshot`` taken before the change."""
    return audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        instance=instance,
        before=before,
        after=record_snapshot(instance),
    )
