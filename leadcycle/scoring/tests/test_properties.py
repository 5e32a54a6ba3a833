"""Property: for random data and random models, the full recompute, the near-real-time
rescoring and a plain-Python evaluation of the same rules give every lead the same score."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcycle import expressions
from leadcycle.crm.models import Account, Contact, Interaction, Lead
from leadcycle.scoring import compiler
from leadcycle.scoring.models import LeadScore, ScoringModel, ScoringRule
from leadcycle.scoring.services import leads_rescore, model_recompute

pytestmark = pytest.mark.django_db

KINDS = ["email_opened", "email_clicked", "website_visited"]
WORDS = ["", "Spring", "spring sale", "sale", "CTO", "chief cto"]
TEXT_FIELDS = {
    "lead": ["topic", "campaign"],
    "contact": ["job_title", "role", "country"],
    "account": ["industry", "country"],
    "interaction": ["campaign"],
}
TEXT_OPS = ["eq", "ne", "contains", "starts_with", "in", "is_empty", "lt", "ge"]

expression = st.builds(
    lambda op, value, values: {"op": op, "value": values if op == "in" else value},
    st.sampled_from(TEXT_OPS),
    st.sampled_from(WORDS[1:]),  # "" is data, not a value to compare with ("is empty" is)
    st.lists(st.sampled_from(WORDS[1:]), min_size=1, max_size=3),
)


@st.composite
def condition(draw, target):
    entity = draw(st.sampled_from(compiler.ENTITIES[target]))
    where = [
        {"field": draw(st.sampled_from(TEXT_FIELDS[entity])), **draw(expression)}
        for _ in range(draw(st.integers(0, 2)))
    ]
    if entity == "account" and draw(st.booleans()):
        where.append(
            {
                "field": "employees",
                "op": draw(st.sampled_from(["gt", "le", "is_empty"])),
                "value": 50,
            }
        )
    if entity != "interaction":
        return {"entity": entity, "where": where}
    return {
        "entity": entity,
        "where": where,
        "kind": draw(st.sampled_from(KINDS)),
        "frequency": draw(st.sampled_from(["each", "at_least", "none"])),
        "within_days": draw(st.sampled_from([None, 7, 30])),
    }


@st.composite
def model_and_data(draw):
    target = draw(st.sampled_from(["contact", "account"]))
    rules = []
    for n in range(draw(st.integers(1, 4))):
        conditions = draw(st.lists(condition(target), min_size=1, max_size=3))
        # at most one "each" per rule
        seen_each = False
        for c in conditions:
            if c.get("frequency") == "each":
                if seen_each:
                    c["frequency"] = "at_least"
                seen_each = True
        rules.append(
            {"name": f"r{n}", "points": draw(st.integers(-20, 50)), "conditions": conditions}
        )
    accounts = [
        {"industry": draw(st.sampled_from(WORDS)), "country": draw(st.sampled_from(WORDS)),
         "employees": draw(st.sampled_from([None, 10, 50, 500]))}
        for _ in range(draw(st.integers(1, 3)))
    ]  # fmt: skip
    contacts = [
        {"job_title": draw(st.sampled_from(WORDS)), "role": draw(st.sampled_from(["decision_maker", "influencer", "other"])),
         "country": draw(st.sampled_from(WORDS)), "account": draw(st.sampled_from([None, *range(len(accounts))])),
         "interactions": draw(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 60), st.sampled_from(WORDS)), max_size=6)),
         "leads": draw(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(["open", "open", "qualified"])), max_size=2))}
        for _ in range(draw(st.integers(1, 5)))
    ]  # fmt: skip
    account_leads = draw(
        st.lists(st.tuples(st.integers(0, len(accounts) - 1), st.sampled_from(WORDS)), max_size=2)
    )
    return target, rules, accounts, contacts, account_leads


def _python_score(rules, target, lead, now):
    """The rules evaluated by hand, independently of the SQL compiler."""
    contact = lead["contact"]
    account = lead["account"]
    total = 0
    for rule in rules:
        n = 1
        for c in rule.conditions:
            if c.entity == "interaction":
                people = [contact] if target == "contact" else account["contacts"]
                matching = [
                    i for person in people for i in person["interactions"]
                    if i["kind"] == c.kind
                    and (c.within_days is None or i["occurred_at"] >= now - datetime.timedelta(days=c.within_days))
                    and all(expressions.evaluate(e, i) for e in c.where)
                ]  # fmt: skip
                if c.frequency == "each":
                    n *= len(matching)
                elif c.frequency == "at_least":
                    n *= 1 if matching else 0
                else:
                    n *= 0 if matching else 1
                continue
            record = {"lead": lead, "contact": contact, "account": account}[c.entity]
            if record is None or not all(expressions.evaluate(e, record) for e in c.where):
                n = 0
        total += rule.points * n
    return total


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(model_and_data())
def test_full_incremental_and_python_scores_agree(case):
    target, rules_data, accounts_data, contacts_data, account_leads = case
    now = timezone.now()
    with transaction.atomic():
        accounts = []
        for a in accounts_data:
            row = Account.objects.create(
                name="Co", industry=a["industry"], country=a["country"], employees=a["employees"]
            )
            accounts.append(
                {
                    "id": row.pk,
                    "industry": a["industry"],
                    "country": a["country"],
                    "employees": a["employees"],
                    "contacts": [],
                }
            )
        leads = []
        for n, c in enumerate(contacts_data):
            account = accounts[c["account"]] if c["account"] is not None else None
            row = Contact.objects.create(
                email=f"p{n}@example.com",
                job_title=c["job_title"],
                role=c["role"],
                country=c["country"],
                account_id=account["id"] if account else None,
            )
            person = {
                "id": row.pk,
                "job_title": c["job_title"],
                "role": c["role"],
                "country": c["country"],
                "interactions": [],
            }
            if account:
                account["contacts"].append(person)
            for kind, days, campaign in c["interactions"]:
                occurred = now - datetime.timedelta(days=days, hours=12)  # never on a window's edge
                Interaction.objects.create(
                    kind=kind, contact_id=row.pk, occurred_at=occurred, campaign=campaign
                )
                person["interactions"].append(
                    {"kind": kind, "occurred_at": occurred, "campaign": campaign}
                )
            for topic, status in c["leads"]:
                lead = Lead.objects.create(
                    topic=topic or "t",
                    campaign=topic,
                    status=status,
                    parent_contact_id=row.pk,
                    parent_account_id=account["id"] if account else None,
                )
                leads.append(
                    {
                        "id": lead.pk,
                        "topic": topic or "t",
                        "campaign": topic,
                        "status": status,
                        "contact": person,
                        "account": account,
                    }
                )
        for index, topic in account_leads:
            lead = Lead.objects.create(
                topic=topic or "t", campaign=topic, parent_account_id=accounts[index]["id"]
            )
            leads.append(
                {
                    "id": lead.pk,
                    "topic": topic or "t",
                    "campaign": topic,
                    "status": "open",
                    "contact": None,
                    "account": accounts[index],
                }
            )
        model = ScoringModel.objects.create(
            name="Random", target=target, status="live", sales_ready_score=10**6
        )
        for position, r in enumerate(rules_data):
            ScoringRule.objects.create(model=model, position=position, **r)
        parsed = compiler.parse_rules(target, rules_data, {k: k for k in KINDS})

        model_recompute(model_id=model.pk)
        full = dict(LeadScore.objects.values_list("lead_id", "score"))
        LeadScore.objects.all().delete()
        leads_rescore(lead_ids=[lead["id"] for lead in leads])
        incremental = dict(LeadScore.objects.values_list("lead_id", "score"))

        eligible = [
            lead for lead in leads
            if lead["status"] == "open"
            and (lead["contact"] is not None if target == "contact" else lead["contact"] is None and lead["account"] is not None)
        ]  # fmt: skip
        expected = {
            lead["id"]: _python_score(parsed, target, lead, timezone.now()) for lead in eligible
        }
        assert full == expected
        assert incremental == expected
        transaction.set_rollback(True)
