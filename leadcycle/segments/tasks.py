"""Background tasks of segments: thin wrappers over services, taking ids."""

from django_tasks import task

from leadcycle.segments.services import contacts_reevaluate


@task()
def reevaluate(contact_ids: list[int], lead_ids: list[int], account_ids: list[int]) -> int:
    """Near real time: the changed contacts against every live segment."""
    return contacts_reevaluate(contact_ids=contact_ids, lead_ids=lead_ids, account_ids=account_ids)
