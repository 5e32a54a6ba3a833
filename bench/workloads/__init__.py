"""The registered workloads. Importing this package registers every one of them; a new
workload module is added to the import list below."""

from bench.workloads import (
    contacts_with_leads,
    duplicate_review,
    import_leads,
    intake_http,
    score_full,
    score_incremental,
    segments,
    workflow_orphans,
)

__all__ = [
    "contacts_with_leads",
    "duplicate_review",
    "import_leads",
    "intake_http",
    "score_full",
    "score_incremental",
    "segments",
    "workflow_orphans",
]
