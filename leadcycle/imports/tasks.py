"""Background task of imports: a thin wrapper over the service, taking the job's id."""

from django_tasks import task

from leadcycle.imports.services import import_run


@task()
def run_import(job_id: int, dry_run: bool = False) -> int:
    """Import a job's file (or try it in a dry run) from its resume point."""
    return import_run(job_id=job_id, dry_run=dry_run).rows_done
