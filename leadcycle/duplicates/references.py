"""Which rows point at a contact or an account, found from the models themselves.

Every foreign key to the record (hidden ones too, such as match keys and segment members) is a
``Reference``; a merge re-points all of them, so a foreign key added later is moved without
anyone remembering to list it. Two unique constraints can collide when two people become one,
and are handled by name in ``services``: segment membership (the survivor keeps one) and an
active event registration (the merge is refused). ``tests/test_references.py`` fails when a
new reference brings a unique constraint that neither handles.
"""

from dataclasses import dataclass
from functools import cache

from django.db import models

from leadcycle.crm.models import Account, Contact
from leadcycle.duplicates.models import Entity

MODELS: dict[str, type[models.Model]] = {Entity.CONTACT: Contact, Entity.ACCOUNT: Account}


@dataclass(frozen=True)
class Reference:
    """One foreign-key column pointing at the merged entity."""

    model: type[models.Model]
    field: models.ForeignKey  # type: ignore[type-arg]

    @property
    def key(self) -> str:
        """``crm.lead.parent_contact``: stored on ``MergeMove.ref`` and ``Merge.moved``."""
        return f"{self.model._meta.label_lower}.{self.field.name}"

    @property
    def label(self) -> str:
        """What a person reads: "leads (parent contact)"."""
        plural = str(self.model._meta.verbose_name_plural)
        own = str(self.field.verbose_name)
        entity = str(self.field.related_model._meta.verbose_name)  # type: ignore[union-attr]
        return plural if own == entity else f"{plural} ({own})"

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def column(self) -> str:
        return self.field.column

    @property
    def pk_column(self) -> str:
        return self.model._meta.pk.column  # type: ignore[union-attr]


@cache
def references(entity: str) -> tuple[Reference, ...]:
    """Every foreign key to ``entity``'s model, in a stable order."""
    target = MODELS[entity]
    found = [
        Reference(rel.related_model, rel.field)  # type: ignore[arg-type,union-attr]
        for rel in target._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)
    ]
    return tuple(sorted(found, key=lambda r: r.key))


def model_for(entity: str) -> type[models.Model]:
    return MODELS[entity]
