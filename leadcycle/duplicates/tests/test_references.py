"""Every foreign key to a contact or an account is moved by a merge; the ones a unique rule
covers need a rule of the merge's own (the behaviour of each is tested in test_merge.py)."""

from django.db import models

from leadcycle.duplicates import services
from leadcycle.duplicates.references import references


def _unique_with(model: type[models.Model], column: str) -> bool:
    together = [set(t) for t in model._meta.unique_together]
    constraints = [
        set(c.fields)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields
    ]
    opaque = [
        c
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and not c.fields
    ]
    field = model._meta.get_field(column)
    return bool(field.unique or opaque or any(column in s for s in together + constraints))


def test_the_merge_moves_every_foreign_key_to_contacts_and_accounts():
    keys = {ref.key for entity in ("contact", "account") for ref in references(entity)}
    assert {
        "crm.lead.parent_contact", "crm.interaction.contact", "crm.task.contact",
        "crm.opportunity.contact", "events.registration.contact", "intake.formsubmission.contact",
        "intake.matchkey.contact", "linkedin.receivedresponse.contact",
        "segments.segmentmember.contact", "crm.contact.account", "crm.lead.parent_account",
        "crm.opportunity.account",
    } <= keys  # fmt: skip


def test_every_reference_a_unique_rule_covers_has_a_merge_rule():
    """A new foreign key to contacts or accounts whose table keeps it unique (alone, with
    other columns, or by an expression) must say what a merge does when both records have a
    row: add its handling to ``services`` and its key to the set below."""
    handled = {services._SEGMENT_MEMBER, services._REGISTRATION}
    for entity in ("contact", "account"):
        for ref in references(entity):
            if _unique_with(ref.model, ref.field.name):
                assert ref.key in handled, f"{ref.key}: what does a merge do with two rows?"
