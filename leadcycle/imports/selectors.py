"""Reads for imports: a job as the API and the pages show it."""

from itertools import islice
from pathlib import Path
from typing import Any

from leadcycle.imports import reader
from leadcycle.imports.fields import TARGETS
from leadcycle.imports.models import ImportJob
from leadcycle.imports.services import mapping_problems

SAMPLE_ROWS = 3


def job_samples(job: ImportJob) -> list[list[str]]:
    """The first few data rows of the file, to show beside the mapping."""
    try:
        rows = reader.rows_of(Path(job.file.path), job.file_format, job.encoding, job.delimiter)
        next(rows, None)
        return [list(r) for r in islice(rows, SAMPLE_ROWS)]
    except (OSError, ValueError):
        return []


def job_view(job: ImportJob) -> dict[str, Any]:
    """The job with its columns (header, mapped field, sample values) and what blocks it."""
    samples = job_samples(job) if job.status == ImportJob.Status.DRAFT else []
    columns = [
        {
            "header": header,
            "field": job.mapping[i] if i < len(job.mapping) else None,
            "sample": [row[i] if i < len(row) else "" for row in samples],
        }
        for i, header in enumerate(job.headers)
    ]
    data = {name: getattr(job, name) for name in (
        "id", "entity", "file_name", "file_format", "encoding", "delimiter", "status",
        "on_match", "create_missing", "react", "default_topic", "default_campaign", "batch_size",
        "rows_total", "rows_done", "percent", "created", "updated", "unchanged", "rejected",
        "contacts_created", "accounts_created", "dry_run", "problem", "created_at",
        "started_at", "finished_at",
    )}  # fmt: skip
    data.update(
        columns=columns,
        fields=list(TARGETS[job.entity]),
        problems=mapping_problems(job) if job.status == ImportJob.Status.DRAFT else {},
        contact_strategy=job.contact_strategy_id,
        lead_strategy=job.lead_strategy_id,
    )
    return data
