"""What every module that changes contacts, accounts, leads or interactions ends with.

``records_changed(contact_ids=…, lead_ids=…, account_ids=…)`` gathers the ids a transaction
changed on one pending callback; after commit it sends ``records_committed(sender,
contact_ids, lead_ids, account_ids)`` once, however many changes the transaction made.
Scoring rescores through it and segments re-evaluate the contacts it names; each listener
decides for itself whether there is anything to do (a live model, a live segment).
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

records_committed = Signal()


def records_changed(
    *,
    contact_ids: Iterable[int | None] = (),
    lead_ids: Iterable[int | None] = (),
    account_ids: Iterable[int | None] = (),
) -> None:
    """After commit, tell the listeners what these changed records (or their new
    interactions) were. Outside a transaction, at once."""
    ids = (
        {i for i in contact_ids if i is not None},
        {i for i in lead_ids if i is not None},
        {i for i in account_ids if i is not None},
    )
    if not any(ids):
        return
    db = transaction.get_connection()
    pending = None
    if db.in_atomic_block:
        pending = next(
            (f for _, f, _ in db.run_on_commit if isinstance(f, _Pending) and not f.fired),
            None,
        )
    if pending is None:
        pending = _Pending()
        pending.add(*ids)
        transaction.on_commit(pending)
    else:
        pending.add(*ids)


class _Pending:
    """The ids one transaction changed, sent once it commits."""

    def __init__(self) -> None:
        self.contacts: set[int] = set()
        self.leads: set[int] = set()
        self.accounts: set[int] = set()
        self.fired = False  # a callback that ran takes no more ids (tests run several)

    def add(self, contacts: set[int], leads: set[int], accounts: set[int]) -> None:
        self.contacts |= contacts
        self.leads |= leads
        self.accounts |= accounts

    def __call__(self) -> None:
        self.fired = True
        records_committed.send(
            sender=records_changed,
            contact_ids=sorted(self.contacts),
            lead_ids=sorted(self.leads),
            account_ids=sorted(self.accounts),
        )
