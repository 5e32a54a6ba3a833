"""The default "Lead to opportunity marketing sales process" of SPEC §6, as data: written by
the migration, and by ``process_copy`` when an administrator asks for a fresh one."""

from typing import Any, Final

DEFAULT_NAME: Final = "Lead to opportunity marketing sales process"

# key, name, queue, creates a task, [(field, required)]
STAGES: Final[list[tuple[str, str, str, bool, list[tuple[str, bool]]]]] = [
    ("inquiry", "Inquiry", "", False, [("parent_contact", False), ("parent_account", False)]),
    (
        "marketing_qualification",
        "Automated marketing qualification",
        "",
        False,
        [
            ("purchase_timeframe", False),
            ("budget", False),
            ("purchase_process", False),
            ("need", False),
            ("description", False),
            ("telemarketing_ready", False),
            ("sales_ready", False),
        ],
    ),
    (
        "telemarketing_acceptance",
        "Telemarketing acceptance",
        "telemarketing",
        True,
        [("accept_telemarketing", False)],
    ),
    (
        "telemarketing_qualification",
        "Telemarketing qualification",
        "telemarketing",
        False,
        [
            ("purchase_timeframe", False),
            ("budget", False),
            ("purchase_process", False),
            ("need", True),
            ("description", False),
            ("sales_ready", False),
        ],
    ),
    (
        "sales_acceptance",
        "Sales acceptance",
        "sales",
        True,
        [("owner", True), ("sales_accepted", False)],
    ),
]

# name, trigger, from stage keys (empty: any stage before the target), to stage key
TRANSITIONS: Final[list[tuple[str, str, list[str], str]]] = [
    ("First score: automated marketing qualification", "scored", ["inquiry"],
     "marketing_qualification"),
    ("Sales-ready: straight to sales acceptance", "step:sales_ready", [], "sales_acceptance"),
    ("Telemarketing-ready: to telemarketing", "step:telemarketing_ready",
     ["inquiry", "marketing_qualification"], "telemarketing_acceptance"),
    ("Accepted by telemarketing", "step:accept_telemarketing", ["telemarketing_acceptance"],
     "telemarketing_qualification"),
]  # fmt: skip


def create(apps: Any, *, name: str = DEFAULT_NAME, is_default: bool = True) -> Any:
    """Write the default process through the given app registry (a migration's, or the
    live one)."""
    process_model = apps.get_model("process", "Process")
    stage_model = apps.get_model("process", "Stage")
    field_model = apps.get_model("process", "StageField")
    transition_model = apps.get_model("process", "Transition")
    process = process_model.objects.create(
        name=name,
        is_default=is_default,
        description="Inquiry → automated marketing qualification → telemarketing → sales "
        "acceptance; sales-ready leads skip telemarketing.",
    )
    stages = {}
    for position, (key, label, queue, task, fields) in enumerate(STAGES):
        stage = stage_model.objects.create(
            process=process, position=position, key=key, name=label, queue=queue,
            creates_task=task,
        )  # fmt: skip
        stages[key] = stage
        for n, (field, required) in enumerate(fields):
            field_model.objects.create(stage=stage, position=n, name=field, required=required)
    for position, (label, trigger, sources, target) in enumerate(TRANSITIONS):
        rule = transition_model.objects.create(
            process=process, position=position, name=label, trigger=trigger,
            to_stage=stages[target],
        )  # fmt: skip
        rule.from_stages.set([stages[key] for key in sources])
    return process


def defaults_ensure(**_: object) -> None:
    """``post_migrate``: the default process, when there is no process at all."""
    from django.apps import apps

    if not apps.get_model("process", "Process").objects.exists():
        create(apps)
