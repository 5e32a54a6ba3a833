"""``leadcycle demo``: a deterministic dataset and one user per role, loaded once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import Client

from leadcycle.crm.models import Account, Contact, Interaction, Lead, Opportunity, Task
from leadcycle.crm.normalize import normalize_email

pytestmark = pytest.mark.django_db

DEMO_ROLES = {
    "admin": "administrator",
    "marketer": "marketer",
    "telemarketer": "telemarketer",
    "seller": "seller",
    "manager": "sales_manager",
}
RECORDS = (Account, Contact, Lead, Opportunity, Interaction, Task)


def run_demo(*args):
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count() for model in RECORDS}


def fingerprint():
    """What a user would recognise of the dataset, without ids or timestamps."""
    return {
        "counts": counts(),
        "emails": list(Contact.objects.order_by("email").values_list("email", flat=True)),
        "accounts": list(
            Account.objects.order_by("name").values_list("name", "industry", "employees")
        ),
        "leads": sorted(
            Lead.objects.values_list(
                "topic", "status", "sales_ready", "parent_contact__email"
            ).order_by(),
            key=repr,
        ),
        "opportunities": sorted(
            Opportunity.objects.values_list("name", "value", "stage"), key=repr
        ),
    }


def wipe_demo():
    from leadcycle.events.models import Event
    from leadcycle.intake.models import MarketingForm

    for model in (Event, MarketingForm, Task, Interaction, Opportunity, Lead, Contact, Account):
        model.objects.all().delete()
    get_user_model().objects.filter(username__in=DEMO_ROLES).delete()


def test_demo_loads_records_and_reports_them():
    output = run_demo("--contacts", "40", "--seed", "3")
    loaded = counts()
    assert loaded["Contact"] == 40
    assert loaded["Account"] == 5
    assert loaded["Lead"] > 0 and loaded["Interaction"] >= 80
    assert f"{loaded['Contact']} contacts" in output and f"{loaded['Lead']} leads" in output
    assert f"{loaded['Opportunity']} opportunities" in output


def test_demo_is_deterministic_for_a_seed():
    run_demo("--contacts", "60", "--seed", "11")
    first = fingerprint()
    wipe_demo()
    assert counts() == dict.fromkeys(counts(), 0)
    run_demo("--contacts", "60", "--seed", "11")
    assert fingerprint() == first


def test_another_seed_gives_another_dataset():
    run_demo("--contacts", "60", "--seed", "11")
    first = fingerprint()
    wipe_demo()
    run_demo("--contacts", "60", "--seed", "12")
    assert fingerprint()["emails"] != first["emails"]


def test_demo_creates_one_user_per_role_who_can_log_in():
    output = run_demo("--contacts", "10")
    users = get_user_model().objects.filter(username__in=DEMO_ROLES)
    assert {u.username: [g.name for g in u.groups.all()] for u in users} == {
        name: [role] for name, role in DEMO_ROLES.items()
    }
    for username in DEMO_ROLES:
        password = f"{username}-demo-2026"
        assert password in output
        client = Client()
        assert client.login(username=username, password=password), username
    seller = Client()
    seller.login(username="seller", password="seller-demo-2026")
    assert seller.get("/leads/").status_code == 200
    telemarketer = Client()
    telemarketer.login(username="telemarketer", password="telemarketer-demo-2026")
    assert telemarketer.get("/opportunities/").status_code == 403


def test_demo_refuses_to_run_twice():
    run_demo("--contacts", "20")
    before = counts()
    with pytest.raises(CommandError, match="already loaded"):
        run_demo("--contacts", "20")
    assert counts() == before


def test_demo_if_empty_skips_quietly_when_loaded():
    run_demo("--contacts", "20")
    before = counts()
    output = run_demo("--contacts", "20", "--if-empty")
    assert "already loaded" in output
    assert counts() == before


def test_demo_if_empty_loads_into_an_empty_database():
    run_demo("--contacts", "20", "--if-empty")
    assert Contact.objects.count() == 20


def test_demo_needs_to_be_allowed(settings):
    settings.LEADCYCLE_ALLOW_DEMO = False
    with pytest.raises(CommandError, match="LEADCYCLE_ALLOW_DEMO"):
        run_demo("--contacts", "10")
    assert not get_user_model().objects.filter(username__in=DEMO_ROLES).exists()
    assert counts() == dict.fromkeys(counts(), 0)


@pytest.mark.parametrize("size", ["0", "-5"])
def test_demo_refuses_a_size_below_one(size):
    with pytest.raises(CommandError):
        run_demo("--contacts", size)
    assert not Contact.objects.exists()


def test_demo_data_keeps_the_business_rules():
    run_demo("--contacts", "120", "--seed", "5")
    # every email is stored with its normalised form, and no person twice
    for email, normalised in Contact.objects.values_list("email", "email_normalized"):
        assert normalised == normalize_email(email)
    assert (
        Contact.objects.values("email_normalized").annotate(n=Count("id")).filter(n__gt=1).count()
        == 0
    )
    # opportunities come from qualified leads, one each, with the lead's contact
    for opportunity in Opportunity.objects.select_related("lead"):
        assert opportunity.lead.status == "qualified"
        assert opportunity.contact_id == opportunity.lead.parent_contact_id
    assert not Lead.objects.filter(status="disqualified", opportunity__isnull=False).exists()
    # some leads are orphans, some contacts have several leads
    assert Lead.objects.filter(parent_contact__isnull=True).exists()
    assert Contact.objects.annotate(n=Count("leads")).filter(n__gt=1).exists()
    # every task has someone or a queue to do it; interactions belong to a contact
    assert not Task.objects.filter(assignee__isnull=True, queue="").exists()
    assert not Interaction.objects.filter(contact__isnull=True).exists()
    # a lead's account is its contact's account
    for lead in Lead.objects.filter(parent_contact__isnull=False).select_related("parent_contact"):
        assert lead.parent_account_id == lead.parent_contact.account_id


def test_demo_pages_load_for_every_demo_user():
    run_demo("--contacts", "30")
    contact = Contact.objects.filter(leads__isnull=False).first()
    for username in DEMO_ROLES:
        client = Client()
        client.login(username=username, password=f"{username}-demo-2026")
        assert client.get("/leads/").status_code == 200
        assert client.get(f"/contacts/{contact.pk}/").status_code == 200
