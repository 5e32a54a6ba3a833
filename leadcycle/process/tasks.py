from django_tasks import task


@task()
def advance_leads(lead_ids: list[int] | None) -> int:
    """Apply the process rules to these leads (None: every open lead)."""
    from leadcycle.process.services import advance

    return advance(lead_ids)
