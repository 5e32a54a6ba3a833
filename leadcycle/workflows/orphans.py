"""The orphan-lead action (SPEC §7): give leads without a parent contact one, set-based.

For each lead: a contact with the lead's email (emails are one person's) is linked; else a
contact the default contact strategy finds from the lead's own fields (email, first and last
name; the oldest wins); else a contact is created from the lead's name, email and company and
flagged **marketing-only**. Leads of one chunk naming the same email share one new contact. A
created contact carries ``import_key = orphan-lead:<lead id>``, so running twice never creates
two. The company becomes the contact's (and the lead's) account: an account of that name in any
capitals, or a new one. A lead with neither email nor name is skipped (nothing to make a
person from). A fixed number of statements per chunk.
"""

import datetime
from typing import Any

from django.db.models.functions import Lower

from leadcycle.bulk import insert_rows, update_rows
from leadcycle.changes import records_changed
from leadcycle.crm.models import Account, Channel, Contact, Lead
from leadcycle.crm.normalize import display_email, normalize_email
from leadcycle.workflows.models import Workflow

# Strategy paths a lead can answer from its own columns.
LEAD_VALUES = {
    "contact.email": "email",
    "contact.first_name": "first_name",
    "contact.last_name": "last_name",
}


def _strategy_paths() -> list[str] | None:
    from leadcycle.intake.selectors import intake_settings

    settings = intake_settings()
    strategy = settings.default_contact_strategy if settings else None
    if (
        strategy is None
        or not strategy.fields
        or any(p not in LEAD_VALUES for p in strategy.fields)
    ):
        return None  # a strategy on fields a lead does not carry: match by email only
    return list(strategy.fields)


def orphans_link(
    lead_ids: list[int], *, now: datetime.datetime, workflow: Workflow
) -> dict[int, str]:
    from leadcycle.intake.fields import normalized
    from leadcycle.workflows.engine import _audit

    leads: list[dict[str, Any]] = [
        dict(row)
        for row in Lead.objects.filter(pk__in=lead_ids, parent_contact__isnull=True).values(
            "id",
            "first_name",
            "last_name",
            "email",
            "company_name",
            "source_channel",
            "parent_account_id",
        )
    ]
    result: dict[int, str] = {pk: "skipped" for pk in lead_ids}
    if not leads:
        return result
    for lead in leads:
        lead["email_normalized"] = normalize_email(lead["email"]) or None
    emails = {lead["email_normalized"] for lead in leads if lead["email_normalized"]}
    by_email = dict(
        Contact.objects.filter(email_normalized__in=emails).values_list("email_normalized", "id")
    )
    paths = _strategy_paths()
    by_key: dict[tuple[str, ...], int] = {}

    def key(values: dict[str, Any]) -> tuple[str, ...] | None:
        if not paths:
            return None
        parts = tuple(normalized(p, values.get(LEAD_VALUES[p]) or "") for p in paths)
        return parts if all(parts) else None

    if paths and paths != ["contact.email"]:
        lasts = {lead["last_name"].strip().lower() for lead in leads if lead["last_name"].strip()}
        candidates = (
            Contact.objects.annotate(last_lower=Lower("last_name"))
            .filter(last_lower__in=lasts)
            .order_by("-id")
            .values("id", "first_name", "last_name", "email")
        )
        for contact in candidates:  # oldest last, so it wins
            found = key(contact)
            if found:
                by_key[found] = contact["id"]
    link: dict[int, int] = {}
    how: dict[int, str] = {}
    to_create: dict[str, dict[str, Any]] = {}  # by email (or the lead, without one)
    for lead in leads:
        email = lead["email_normalized"]
        lead_key = key(lead)
        if email and email in by_email:
            link[lead["id"]], how[lead["id"]] = by_email[email], "existing contact, same email"
        elif lead_key and lead_key in by_key:
            link[lead["id"]], how[lead["id"]] = by_key[lead_key], "existing contact, strategy"
        elif email or lead["first_name"].strip() or lead["last_name"].strip():
            to_create.setdefault(email or f"lead:{lead['id']}", lead).setdefault(
                "shared", []
            ).append(lead["id"])
    accounts = _accounts(
        {
            lead["company_name"].strip()
            for lead in to_create.values()
            if lead["company_name"].strip() and not lead["parent_account_id"]
        },
        now,
    )
    rows = []
    for lead in to_create.values():
        account = lead["parent_account_id"] or accounts.get(lead["company_name"].strip().lower())
        channel = lead["source_channel"] if lead["source_channel"] in Channel.values else "api"
        rows.append(
            {
                "email": display_email(lead["email"]),
                "email_normalized": lead["email_normalized"],
                "first_name": lead["first_name"].strip(),
                "last_name": lead["last_name"].strip(),
                "job_title": "",
                "role": Contact.Role.OTHER,
                "phone": "",
                "country": "",
                "account_id": account,
                "marketing_only": True,
                "consent": Contact.Consent.UNKNOWN,
                "origin_channel": channel,
                "owner_id": None,
                "created_at": now,
                "updated_at": now,
                "import_key": f"orphan-lead:{lead['id']}",
            }
        )
    created = insert_rows(
        Contact,
        rows,
        columns=tuple(rows[0]) if rows else (),
        skip_conflicts_on="*",
        returning=("id", "import_key", "account_id"),
    )
    made = {import_key: (pk, account) for pk, import_key, account in created}
    # A row the database skipped: a contact with that email (someone else's, meanwhile) or
    # this lead's contact from an earlier run; look those up by email and key.
    missing = [row for row in rows if row["import_key"] not in made]
    if missing:
        for pk, email, _key, account in Contact.objects.filter(
            email_normalized__in=[r["email_normalized"] for r in missing if r["email_normalized"]]
        ).values_list("id", "email_normalized", "import_key", "account_id"):
            for row in missing:
                if row["email_normalized"] == email:
                    made[row["import_key"]] = (pk, account)
        for pk, import_key, account in Contact.objects.filter(
            import_key__in=[r["import_key"] for r in missing]
        ).values_list("id", "import_key", "account_id"):
            made[import_key] = (pk, account)
    lead_account: dict[int, int | None] = {}
    for lead in to_create.values():
        new_contact = made.get(f"orphan-lead:{lead['id']}")
        if new_contact is None:
            continue
        for lead_id in lead["shared"]:
            link[lead_id], how[lead_id] = new_contact[0], "created marketing-only contact"
            lead_account[lead_id] = new_contact[1]
    if created:
        _audit(
            workflow,
            "crm.contact",
            [(pk, "create", {"marketing_only": [None, True]}) for pk, _, _ in created],
            now,
        )
    if link:
        accounts_of = dict(
            Contact.objects.filter(pk__in=set(link.values())).values_list("id", "account_id")
        )
        update_rows(
            Lead,
            [{"id": lead, "parent_contact_id": c, "parent_account_id": accounts_of.get(c),
              "updated_at": now} for lead, c in link.items()],
            columns=("parent_contact_id", "parent_account_id", "updated_at"),
            keep_existing=("parent_account_id",),
            only_where_null="parent_contact_id",
        )  # fmt: skip
        _audit(
            workflow,
            "crm.lead",
            [(lead, "update", {"parent_contact": [None, c]}) for lead, c in link.items()],
            now,
        )
        records_changed(lead_ids=list(link), contact_ids=set(link.values()))
    for lead_id, contact_id in link.items():
        result[lead_id] = f"{how[lead_id]} {contact_id}"
    return result


def _accounts(names: set[str], now: datetime.datetime) -> dict[str, int]:
    """lower(name) → account id: the oldest account of that name in any capitals, or new."""
    found: dict[str, int] = {}
    lowered = {name.lower(): name for name in names}
    for pk, name in (
        Account.objects.annotate(lower=Lower("name"))
        .filter(lower__in=lowered)
        .order_by("-id")
        .values_list("id", "lower")
    ):
        found[name] = pk
    new = [
        {
            "name": lowered[n][:200],
            "web_domain": "",
            "industry": "",
            "country": "",
            "employees": None,
            "annual_revenue": None,
            "owner_id": None,
            "created_at": now,
            "updated_at": now,
        }
        for n in lowered
        if n not in found
    ]
    for pk, name in insert_rows(
        Account, new, columns=tuple(new[0]) if new else (), returning=("id", "name")
    ):
        found[name.lower()] = pk
    return found
