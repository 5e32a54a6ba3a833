"""The fields (steps) a stage may show, SPEC §6: one whitelist. A step is either a column of the
lead (``parent_contact``, ``sales_ready``…, set through the lead's own service) or a value kept
on the lead's process instance (``budget``, ``accept_telemarketing``…)."""

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Step:
    label: str
    kind: str  # "text", "boolean", "contact", "account", "user"
    on_lead: bool  # a lead column; else a value of the process instance
    choices: tuple[tuple[str, str], ...] = ()

    def filled(self, value: object) -> bool:
        """Whether a required step counts as done: a ticked box, a chosen record, some text."""
        if self.kind == "boolean":
            return value is True
        return value not in (None, "")


STEPS: Final[dict[str, Step]] = {
    "parent_contact": Step("Parent contact", "contact", on_lead=True),
    "parent_account": Step("Parent account", "account", on_lead=True),
    "purchase_timeframe": Step(
        "Purchase timeframe",
        "text",
        on_lead=False,
        choices=(
            ("immediate", "Immediate"),
            ("this_quarter", "This quarter"),
            ("next_quarter", "Next quarter"),
            ("this_year", "This year"),
            ("unknown", "Unknown"),
        ),
    ),
    "budget": Step("Budget", "text", on_lead=False),
    "purchase_process": Step(
        "Purchase process",
        "text",
        on_lead=False,
        choices=(("individual", "Individual"), ("committee", "Committee"), ("unknown", "Unknown")),
    ),
    "need": Step("Need", "text", on_lead=False),
    "description": Step("Description", "text", on_lead=True),
    "telemarketing_ready": Step("Telemarketing ready", "boolean", on_lead=True),
    "sales_ready": Step("Sales ready", "boolean", on_lead=True),
    "accept_telemarketing": Step("Accept telemarketing", "boolean", on_lead=False),
    "owner": Step("Owner", "user", on_lead=True),
    "sales_accepted": Step("Sales accepted", "boolean", on_lead=False),
}

# What a transition rule may wait for: a step that is ticked (a boolean step), or "scored".
TRIGGERS: Final[dict[str, str]] = {
    "scored": "A scoring model scored the lead",
    **{f"step:{name}": f"{step.label} is ticked" for name, step in STEPS.items()
       if step.kind == "boolean"},
}  # fmt: skip
