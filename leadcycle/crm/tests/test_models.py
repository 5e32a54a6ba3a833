"""Database constraints of the core records hold even when the services are bypassed.

Every expected ``IntegrityError`` runs inside its own ``transaction.atomic()`` so the test's
transaction stays usable for the "then" checks that follow.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.crm.normalize import normalize_domain, normalize_email
from leadcycle.testing.expectations import fullwidth
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
    UserFactory,
)
from leadcycle.users.models import ApiToken

pytestmark = pytest.mark.django_db


# Contacts: one person per normalised email ---------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "anna.smith@example.com",
        "Anna.Smith@Example.COM",
        "  anna.smith@example.com  ",
        "\tANNA.SMITH@EXAMPLE.COM\n",
        fullwidth("anna.smith@example.com"),
        " " + fullwidth("A") + "nna.Smith@Example.COM ",
    ],
)
def test_second_contact_with_same_normalised_email_is_refused_by_the_database(variant):
    # given a contact with an email
    Contact.objects.create(email="anna.smith@example.com", first_name="Anna")
    # when another contact with a case/space/Unicode variant of it is inserted directly
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(email=variant, first_name="Copy")
    # then only the first contact exists
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Anna"]


def test_unique_email_holds_for_a_direct_update_of_the_normalised_column():
    # given two contacts with different emails
    ContactFactory(email="one@example.com")
    other = ContactFactory(email="two@example.com")
    # when the second one's normalised email is overwritten with the first's, skipping save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=other.pk).update(email_normalized="one@example.com")
    # then the second contact keeps its own email
    other.refresh_from_db()
    assert other.email_normalized == "two@example.com"


def test_the_saved_contact_keeps_its_email_trimmed_and_its_normalised_form_folded():
    contact = Contact.objects.create(email="  " + fullwidth("A") + "nna.Smith@Example.COM ")
    contact.refresh_from_db()
    assert contact.email == fullwidth("A") + "nna.Smith@Example.COM"
    assert contact.email_normalized == "anna.smith@example.com"


@pytest.mark.parametrize("blank", ["", "   "])
def test_many_contacts_without_email_are_allowed(blank):
    # given / when three contacts are saved without an email
    for name in ("A", "B", "C"):
        Contact.objects.create(email=blank, first_name=name)
    # then all three exist and none has a normalised email
    assert Contact.objects.count() == 3
    assert set(Contact.objects.values_list("email_normalized", flat=True)) == {None}


@pytest.mark.parametrize(("field", "bad_value"), [("role", "ceo"), ("consent", "maybe")])
def test_contact_choice_fields_refuse_unknown_values_in_the_database(field, bad_value):
    contact = ContactFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(**{field: bad_value})
    contact.refresh_from_db()
    assert getattr(contact, field) != bad_value


# Leads ---------------------------------------------------------------------------------------


def test_lead_status_outside_open_qualified_disqualified_is_refused():
    lead = LeadFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status="won")
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OPEN


def test_lead_created_with_an_unknown_status_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(topic="Bad", status="pending")
    assert not Lead.objects.exists()


def test_a_contact_may_have_several_open_leads_at_once():
    contact = ContactFactory()
    LeadFactory(parent_contact=contact, topic="Webinar")
    LeadFactory(parent_contact=contact, topic="Trade fair")
    assert contact.leads.filter(status=Lead.Status.OPEN).count() == 2


# Opportunities -------------------------------------------------------------------------------


def test_opportunity_value_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.create(name="Deal", value=Decimal("-0.01"))
    assert not Opportunity.objects.exists()


def test_opportunity_value_cannot_be_updated_to_a_negative_number():
    opportunity = OpportunityFactory(value=500)
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=opportunity.pk).update(value=-1)
    opportunity.refresh_from_db()
    assert opportunity.value == 500


def test_opportunity_with_zero_value_is_allowed():
    assert OpportunityFactory(value=0).value == 0


def test_opportunity_stage_must_be_known():
    opportunity = OpportunityFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.filter(pk=opportunity.pk).update(stage="negotiating")


def test_a_lead_has_at_most_one_opportunity():
    # given a lead that already became an opportunity
    lead = LeadFactory()
    OpportunityFactory(lead=lead, name="First")
    # when a second opportunity is inserted for the same lead
    with pytest.raises(IntegrityError), transaction.atomic():
        Opportunity.objects.create(lead=lead, name="Second")
    # then the lead still has only its first opportunity
    assert list(Opportunity.objects.filter(lead=lead).values_list("name", flat=True)) == ["First"]


def test_many_opportunities_without_a_lead_are_allowed():
    OpportunityFactory(lead=None)
    OpportunityFactory(lead=None)
    assert Opportunity.objects.filter(lead__isnull=True).count() == 2


# Tasks ---------------------------------------------------------------------------------------


def test_task_without_assignee_or_queue_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(subject="Call back", queue="", assignee=None)
    assert not Task.objects.exists()


def test_task_cannot_lose_both_its_assignee_and_its_queue():
    task = TaskFactory(queue="", assignee=UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(assignee=None)
    task.refresh_from_db()
    assert task.assignee_id is not None


@pytest.mark.parametrize("worker", ["assignee", "queue"])
def test_task_with_an_assignee_or_a_queue_is_allowed(worker):
    kwargs = (
        {"assignee": UserFactory(), "queue": ""} if worker == "assignee" else {"queue": "sales"}
    )
    task = Task.objects.create(subject="Follow up", **kwargs)
    assert Task.objects.filter(pk=task.pk).exists()


def test_done_task_needs_the_time_it_was_done():
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(done=True, done_at=None)
    Task.objects.filter(pk=task.pk).update(done=True, done_at=timezone.now())
    task.refresh_from_db()
    assert task.done


def test_task_kind_must_be_known():
    task = TaskFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(kind="fax")


# Accounts ------------------------------------------------------------------------------------


def test_account_revenue_cannot_be_negative():
    account = AccountFactory(annual_revenue=Decimal("10.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(annual_revenue=Decimal("-5"))
    account.refresh_from_db()
    assert account.annual_revenue == Decimal("10.00")


def test_account_web_domain_is_stored_without_scheme_www_path_or_case():
    account = Account.objects.create(
        name="Contoso", web_domain=" https://WWW.Contoso.com/about?x=1"
    )
    account.refresh_from_db()
    assert account.web_domain == "contoso.com"


# Audit and tokens ----------------------------------------------------------------------------


def test_audit_action_must_be_create_update_or_delete():
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.create(
            action="merge", record_type="crm.contact", record_id=1, record_repr="x"
        )
    assert not AuditEntry.objects.exists()


def test_two_tokens_cannot_share_a_digest():
    user = UserFactory()
    ApiToken.objects.create(user=user, name="a", prefix="lc_x", digest="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(user=user, name="b", prefix="lc_y", digest="f" * 64)


# Normalisation helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Anna@Example.COM ", "anna@example.com"),
        (fullwidth("ANNA@EXAMPLE.COM"), "anna@example.com"),
        ("STRASSE@example.com", "strasse@example.com"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.contoso.com/path", "contoso.com"),
        ("HTTP://Contoso.COM?x=1", "contoso.com"),
        ("www.fabrikam.se", "fabrikam.se"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_domain(raw, expected):
    assert normalize_domain(raw) == expected
