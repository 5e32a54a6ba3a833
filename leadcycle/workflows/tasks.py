"""Background tasks of workflows: thin wrappers over the dispatcher and the webhook sender."""

from django_tasks import task


@task()
def dispatch_changes(contact_ids: list[int], lead_ids: list[int], account_ids: list[int]) -> int:
    from leadcycle.workflows.dispatch import changes_dispatch

    return changes_dispatch({"contact": contact_ids, "lead": lead_ids, "account": account_ids})


@task()
def dispatch_stage(lead_ids: list[int], stage_id: int) -> int:
    from leadcycle.workflows.dispatch import stage_dispatch

    return stage_dispatch(lead_ids, stage_id)


@task()
def dispatch_scores(lead_ids: list[int] | None) -> int:
    from leadcycle.workflows.dispatch import scores_dispatch

    return scores_dispatch(lead_ids)


@task()
def apply_existing(workflow_id: int) -> int:
    from leadcycle.workflows.dispatch import existing_apply
    from leadcycle.workflows.models import Workflow

    workflow = Workflow.objects.filter(pk=workflow_id, enabled=True).first()
    return existing_apply(workflow) if workflow else 0


@task()
def deliver_webhook(delivery_id: int) -> str:
    from leadcycle.workflows.webhooks import webhook_deliver

    return webhook_deliver(delivery_id)


@task()
def deliver_webhooks(delivery_ids: list[int]) -> dict[str, int]:
    """First attempts of one chunk's deliveries; retries are queued one by one, when due."""
    from leadcycle.workflows.webhooks import webhook_deliver

    counts: dict[str, int] = {}
    for delivery_id in delivery_ids:
        status = webhook_deliver(delivery_id)
        counts[status] = counts.get(status, 0) + 1
    return counts
