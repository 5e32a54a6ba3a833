"""The domain event every module that changes contacts, accounts, leads or interactions ends
with: ``records_committed(sender, contact_ids, lead_ids, account_ids)``, sent once per
transaction after it commits (gathered by ``scoring.services.records_changed``). Scoring
rescores through it; segments re-evaluate the contacts it names."""

from django.dispatch import Signal

records_committed = Signal()
