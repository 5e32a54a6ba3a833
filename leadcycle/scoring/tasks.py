"""Background tasks of scoring: thin wrappers over services, taking ids."""

from django_tasks import task

from leadcycle.scoring.services import model_recompute, rescore_changed


@task()
def recompute_model(model_id: int) -> int:
    """Score every eligible lead under a model that went live or changed."""
    return model_recompute(model_id=model_id)


@task()
def rescore(contact_ids: list[int], lead_ids: list[int], account_ids: list[int]) -> int:
    """Near real time: rescore after new interactions or changed contacts, accounts, leads."""
    return rescore_changed(contact_ids=contact_ids, lead_ids=lead_ids, account_ids=account_ids)
