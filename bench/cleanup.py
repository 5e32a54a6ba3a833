"""Undoing what a workload's leads brought with them, before the leads themselves are deleted
by id: their business-process instances and stage history, and their tasks (the foreign keys
point at the leads)."""

from typing import Any


def delete_lead_dependents_above(cursor: Any, lead_mark: int) -> None:
    cursor.execute(
        "DELETE FROM process_stagevisit WHERE instance_id IN"
        " (SELECT id FROM process_processinstance WHERE lead_id > %s)",
        [lead_mark],
    )
    cursor.execute("DELETE FROM process_processinstance WHERE lead_id > %s", [lead_mark])
    cursor.execute("DELETE FROM crm_task WHERE lead_id > %s", [lead_mark])
