"""Background tasks of the LinkedIn sync: thin wrappers over services, taking ids."""

from django.utils import timezone
from django_tasks import task

from leadcycle.errors import DomainError
from leadcycle.linkedin.models import Connector, SyncRun
from leadcycle.linkedin.services import linkedin_sync


@task()
def linkedin_sync_task(
    connector_id: int,
    trigger: str,
    run_id: int | None = None,
    response_ids: list[str] | None = None,
) -> int | None:
    """Run a sync of the connector (a queued run, when ``run_id`` names one); the responses a
    lead notification named are fetched too. Returns the run's id."""
    connector = Connector.objects.filter(pk=connector_id).first()
    run = SyncRun.objects.filter(pk=run_id).first() if run_id is not None else None
    if connector is None:
        return None
    try:
        done = linkedin_sync(
            connector=connector, trigger=trigger, run=run, response_ids=response_ids or ()
        )
    except DomainError as exc:  # switched off or emptied since the run was queued
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRun.Status.FAILED, error=exc.message, finished_at=timezone.now()
            )
        return run.pk if run is not None else None
    return done.pk
