"""The five roles of SPEC §10 and what each may do with each record.

Roles are Django groups; their model permissions are granted by a data migration from
``ROLE_PERMISSIONS`` so that the matrix below is the single place that says who may do what.
The UI and the API both check ``user.has_perm("crm.<action>_<model>")``.
"""

from typing import Final

MARKETER: Final = "marketer"
TELEMARKETER: Final = "telemarketer"
SELLER: Final = "seller"
SALES_MANAGER: Final = "sales_manager"
ADMINISTRATOR: Final = "administrator"

ROLES: Final = (MARKETER, TELEMARKETER, SELLER, SALES_MANAGER, ADMINISTRATOR)
ROLE_LABELS: Final = {
    MARKETER: "Marketer",
    TELEMARKETER: "Telemarketer",
    SELLER: "Seller",
    SALES_MANAGER: "Sales manager",
    ADMINISTRATOR: "Administrator",
}

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL: Final = frozenset({VIEW, ADD, CHANGE, DELETE})
ACCEPT: Final = "accept"  # process instances: assign a lead to a seller, tick Sales accepted

# model name -> actions, per role. Records not listed are invisible to that role.
ROLE_PERMISSIONS: Final[dict[str, dict[str, frozenset[str]]]] = {
    MARKETER: {
        "account": frozenset({VIEW, ADD, CHANGE}),
        "contact": ALL,
        "lead": ALL,
        "opportunity": frozenset({VIEW}),
        "task": frozenset({VIEW, ADD, CHANGE}),
        # Marketers connect outside systems that report interactions (the ingestion API).
        "interaction": frozenset({VIEW, ADD}),
    },
    TELEMARKETER: {
        "account": frozenset({VIEW}),
        "contact": frozenset({VIEW, CHANGE}),
        "lead": frozenset({VIEW, CHANGE}),
        "task": frozenset({VIEW, ADD, CHANGE}),
        "interaction": frozenset({VIEW}),
    },
    SELLER: {
        "account": frozenset({VIEW, ADD, CHANGE}),
        "contact": frozenset({VIEW, ADD, CHANGE}),
        "lead": frozenset({VIEW, ADD, CHANGE}),
        "opportunity": frozenset({VIEW, ADD, CHANGE}),
        "task": frozenset({VIEW, ADD, CHANGE}),
        "interaction": frozenset({VIEW}),
    },
    SALES_MANAGER: {
        "account": frozenset({VIEW, ADD, CHANGE}),
        "contact": frozenset({VIEW, ADD, CHANGE}),
        "lead": ALL,
        "opportunity": ALL,
        "task": ALL,
        "interaction": frozenset({VIEW}),
    },
    ADMINISTRATOR: {
        "account": ALL,
        "contact": ALL,
        "lead": ALL,
        "opportunity": ALL,
        "task": ALL,
        "interaction": ALL,
    },
}


# Records of other apps, keyed "app_label.model"; kept apart from the CRM matrix above (whose
# shape the roles migration relies on) and granted by ``roles_sync`` after every migrate.
OTHER_PERMISSIONS: Final[dict[str, dict[str, frozenset[str]]]] = {
    MARKETER: {
        "process.process": frozenset({VIEW}),
        "process.processinstance": frozenset({VIEW, CHANGE}),
        "intake.marketingform": ALL,
        "intake.formsubmission": frozenset({VIEW}),
        "intake.matchingstrategy": frozenset({VIEW}),
        "events.event": ALL,
        "events.registration": ALL,
        "linkedin.connector": frozenset({VIEW, CHANGE}),
        "linkedin.syncrun": frozenset({VIEW}),
        "interactions.interactionkind": frozenset({VIEW}),
        "scoring.scoringmodel": ALL,
        "scoring.scoringsettings": frozenset({VIEW}),
        "imports.importjob": ALL,
        "imports.mappingtemplate": ALL,
        "segments.segment": ALL,
        # Marketers automate: workflows are theirs (SPEC §7).
        "workflows.workflow": ALL,
        "workflows.workflowrun": frozenset({VIEW}),
    },
    TELEMARKETER: {
        "process.process": frozenset({VIEW}),
        "process.processinstance": frozenset({VIEW, CHANGE}),
        # Telemarketers staff event desks: they see registrations and check people in.
        "events.event": frozenset({VIEW}),
        "events.registration": frozenset({VIEW, CHANGE}),
        "interactions.interactionkind": frozenset({VIEW}),
        "scoring.scoringmodel": frozenset({VIEW}),
        "segments.segment": frozenset({VIEW}),
    },
    SELLER: {
        "process.process": frozenset({VIEW}),
        "process.processinstance": frozenset({VIEW, CHANGE}),
        "intake.formsubmission": frozenset({VIEW}),
        "interactions.interactionkind": frozenset({VIEW}),
        "scoring.scoringmodel": frozenset({VIEW}),
        "segments.segment": frozenset({VIEW}),
    },
    SALES_MANAGER: {
        "process.process": frozenset({VIEW}),
        # Managers assign sales-acceptance leads to sellers and accept them (SPEC §6).
        "process.processinstance": frozenset({VIEW, CHANGE, ACCEPT}),
        "process.processsettings": frozenset({VIEW}),
        "intake.marketingform": frozenset({VIEW}),
        "intake.formsubmission": frozenset({VIEW}),
        "intake.matchingstrategy": frozenset({VIEW}),
        "events.event": frozenset({VIEW}),
        "events.registration": frozenset({VIEW}),
        "interactions.interactionkind": frozenset({VIEW}),
        "scoring.scoringmodel": frozenset({VIEW}),
        "scoring.scoringsettings": frozenset({VIEW}),
        # Sales managers bring their lists in (an event's attendees, a partner's leads).
        "imports.importjob": frozenset({VIEW, ADD, CHANGE}),
        "imports.mappingtemplate": frozenset({VIEW, ADD, CHANGE}),
        "segments.segment": frozenset({VIEW}),
        "workflows.workflow": frozenset({VIEW}),
        "workflows.workflowrun": frozenset({VIEW}),
    },
    ADMINISTRATOR: {
        "process.process": ALL,
        "process.processinstance": frozenset({VIEW, CHANGE, ACCEPT}),
        "process.processsettings": frozenset({VIEW, CHANGE}),
        "intake.marketingform": ALL,
        "intake.formsubmission": ALL,
        "intake.matchingstrategy": ALL,
        "events.event": ALL,
        "events.registration": ALL,
        "linkedin.connector": ALL,
        "linkedin.syncrun": ALL,
        "interactions.interactionkind": ALL,
        "scoring.scoringmodel": ALL,
        "scoring.scoringsettings": frozenset({VIEW, CHANGE}),
        "imports.importjob": ALL,
        "imports.mappingtemplate": ALL,
        "segments.segment": ALL,
        "workflows.workflow": ALL,
        "workflows.workflowrun": frozenset({VIEW}),
    },
}


def role_permissions(role: str) -> list[tuple[str, str]]:
    """Every ``(app_label, codename)`` a role is granted, CRM and other apps."""
    granted = [("crm", codename) for codename in permission_codenames(role)]
    for label, actions in OTHER_PERMISSIONS[role].items():
        app_label, model = label.split(".")
        granted += [(app_label, f"{action}_{model}") for action in sorted(actions)]
    return granted


def permission_codenames(role: str) -> list[str]:
    """``['view_contact', ...]`` for a role, in a stable order."""
    return sorted(
        f"{action}_{model}"
        for model, actions in ROLE_PERMISSIONS[role].items()
        for action in actions
    )
