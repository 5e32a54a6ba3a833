"""Form submissions find or create the right contact and lead, and never duplicate them."""

import pytest

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Interaction, Lead
from leadcycle.intake.models import FormSubmission, MarketingForm, MatchingStrategy
from leadcycle.intake.services import SubmissionRejected, form_submit
from leadcycle.testing.expectations import fullwidth
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_default_strategies_come_from_the_migration():
    names = {(s.target, tuple(s.fields)) for s in MatchingStrategy.objects.all()}
    assert ("contact", ("contact.email",)) in names
    assert ("lead", ("contact.email", "lead.origin_ref")) in names


def test_first_submission_creates_contact_account_lead_and_interaction(make_form):
    form = make_form()
    submission = form_submit(
        form=form,
        raw={
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "company": "Analytical Engines",
            "employees": "12",
            "consent": "on",
        },
    )
    contact = Contact.objects.get()
    lead = Lead.objects.get()
    assert (submission.status, submission.contact_action, submission.lead_action) == (
        "accepted",
        "created",
        "created",
    )
    assert contact.email_normalized == "ada@example.com" and contact.consent == "granted"
    assert contact.origin_channel == "form"
    assert contact.account == Account.objects.get(name="Analytical Engines")
    assert (lead.parent_contact, lead.parent_account, lead.topic, lead.campaign) == (
        contact,
        contact.account,
        "Webinar interest",
        "Spring Webinar Series",
    )
    assert lead.origin_ref == f"form:{form.pk}" and lead.source_channel == "form"
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.contact, interaction.lead) == (
        "form_submitted",
        contact,
        lead,
    )
    assert interaction.attributes["submission_id"] == submission.pk
    assert submission.values["employees"] == "12"  # unmapped answers stay on the submission


def test_resubmission_in_another_spelling_updates_instead_of_duplicating(make_form):
    form = make_form()
    form_submit(form=form, raw={"email": "ada@example.com", "first_name": "Ada"})
    again = form_submit(
        form=form, raw={"email": f"  {fullwidth('ADA')}@EXAMPLE.com ", "last_name": "Lovelace"}
    )
    assert Contact.objects.count() == 1 and Lead.objects.count() == 1
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ada", "Lovelace")
    # the contact got a last name; the lead had nothing new
    assert (again.contact_action, again.lead_action) == ("updated", "matched")
    assert Interaction.objects.filter(kind="form_submitted").count() == 2
    assert AuditEntry.objects.filter(record_type="crm.contact", action="update").count() == 1


def test_another_form_gives_the_same_contact_a_second_lead(make_form):
    form_submit(form=make_form("webinar"), raw={"email": "ada@example.com"})
    form_submit(form=make_form("trial", lead_topic="Free trial"), raw={"email": "ADA@example.com"})
    contact = Contact.objects.get()
    assert sorted(contact.leads.values_list("topic", flat=True)) == [
        "Free trial",
        "Webinar interest",
    ]


def test_existing_contact_created_by_hand_is_found(make_form):
    existing = ContactFactory(email="grace@example.com")
    submission = form_submit(form=make_form(), raw={"email": "Grace@Example.com"})
    assert submission.contact == existing and Contact.objects.count() == 1


def test_a_closed_lead_is_not_reopened(make_form):
    form = make_form()
    form_submit(form=form, raw={"email": "ada@example.com"})
    Lead.objects.update(status="qualified")
    form_submit(form=form, raw={"email": "ada@example.com"})
    assert sorted(Lead.objects.values_list("status", flat=True)) == ["open", "qualified"]


def test_generate_leads_without_matching_creates_a_lead_every_time(make_form):
    form = make_form(generate_leads_without_matching=True)
    for _ in range(3):
        form_submit(form=form, raw={"email": "ada@example.com"})
    assert Contact.objects.count() == 1 and Lead.objects.count() == 3


def test_only_contacts_creates_no_lead(make_form):
    submission = form_submit(
        form=make_form(update_mode="only_contacts"), raw={"email": "a@example.com"}
    )
    assert Contact.objects.count() == 1 and Lead.objects.count() == 0
    assert submission.lead is None and Interaction.objects.get().contact == submission.contact


def test_only_leads_leaves_an_unknown_visitor_orphan_and_links_a_known_one(make_form):
    form = make_form(update_mode="only_leads")
    orphan = form_submit(form=form, raw={"email": "new@example.com"})
    assert Contact.objects.count() == 0 and orphan.lead.parent_contact is None
    known = ContactFactory(email="known@example.com")
    linked = form_submit(
        form=form, raw={"email": "whatever@example.com"}, visitor_contact_id=known.pk
    )
    assert linked.lead.parent_contact == known


def test_no_update_only_stores_the_submission(make_form):
    submission = form_submit(
        form=make_form(update_mode="no_update"), raw={"email": "a@example.com"}
    )
    assert submission.status == "accepted"
    assert (Contact.objects.count(), Lead.objects.count(), Interaction.objects.count()) == (0, 0, 0)


def test_several_matches_use_the_oldest_and_report_the_others(make_form):
    strategy = MatchingStrategy.objects.create(
        name="By name", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    form = make_form(contact_strategy=strategy)
    older = ContactFactory(first_name="Ada", last_name="Lovelace", email="")
    newer = ContactFactory(first_name="ADA", last_name=" lovelace ", email="")
    submission = form_submit(
        form=form, raw={"email": "ada@example.com", "first_name": "ada", "last_name": "Lovelace"}
    )
    assert submission.contact == older
    assert {"type": "contact", "id": newer.pk} in submission.possible_duplicates


def test_strategy_on_names_still_never_duplicates_an_email(make_form):
    strategy = MatchingStrategy.objects.create(
        name="By name", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    existing = ContactFactory(email="ada@example.com", first_name="Augusta", last_name="King")
    submission = form_submit(
        form=make_form(contact_strategy=strategy),
        raw={"email": "ada@example.com", "first_name": "Ada", "last_name": "L"},
    )
    assert submission.contact == existing and Contact.objects.count() == 1


def test_invalid_values_are_rejected_and_only_the_rejection_is_stored(make_form):
    form = make_form()
    form.fields.filter(key="consent").update(required=True)
    with pytest.raises(SubmissionRejected) as caught:
        form_submit(form=form, raw={"email": "not-an-email", "employees": "many"})
    assert set(caught.value.errors) == {"email", "employees", "consent"}
    assert caught.value.errors["email"]["code"] == "invalid_email"
    assert (Contact.objects.count(), Lead.objects.count(), Interaction.objects.count()) == (0, 0, 0)
    rejected = FormSubmission.objects.get()
    assert rejected.status == "rejected" and rejected.values["email"] == "not-an-email"


def test_honeypot_submissions_are_kept_aside(make_form):
    submission = form_submit(
        form=make_form(), raw={"email": "bot@example.com", "website_url_hp": "x"}
    )
    assert submission.status == "rejected" and submission.errors["_spam"]["code"] == "honeypot"
    assert Contact.objects.count() == 0


def test_a_replayed_idempotency_key_changes_nothing(make_form):
    form = make_form(generate_leads_without_matching=True)
    first = form_submit(form=form, raw={"email": "a@example.com"}, idempotency_key="abc")
    second = form_submit(form=form, raw={"email": "a@example.com"}, idempotency_key="abc")
    assert first.pk == second.pk
    assert (Lead.objects.count(), FormSubmission.objects.count(), Interaction.objects.count()) == (
        1,
        1,
        1,
    )


def test_submission_links_an_existing_open_lead_of_the_same_form(make_form):
    form = make_form()
    contact = ContactFactory(email="ada@example.com")
    lead = LeadFactory(parent_contact=contact, origin_ref=f"form:{form.pk}")
    submission = form_submit(form=form, raw={"email": "ada@example.com"})
    assert submission.lead == lead and Lead.objects.count() == 1


def test_form_without_matching_has_a_model_level_mode_check():
    assert {m for m, _ in MarketingForm.UpdateMode.choices} == {
        "contacts_and_leads",
        "only_contacts",
        "only_leads",
        "no_update",
    }


def test_an_answer_outside_a_record_fields_choices_is_a_422_not_a_crash(make_form):
    from leadcycle.intake.models import FormField

    form = make_form()
    FormField.objects.create(form=form, key="role", label="Role", maps_to="contact.role")
    with pytest.raises(SubmissionRejected) as caught:
        form_submit(form=form, raw={"email": "a@example.com", "role": "boss"})
    assert caught.value.errors["role"]["code"] == "invalid_choice"
    ok = form_submit(form=form, raw={"email": "a@example.com", "role": "decision_maker"})
    assert ok.contact.role == "decision_maker"


def test_questions_cannot_fill_what_the_form_sets_itself(make_form):
    from django.core.exceptions import ValidationError

    from leadcycle.intake.models import FormField

    form = make_form()
    for kind, maps_to in [("text", "lead.origin_ref"), ("text", "contact.consent")]:
        with pytest.raises(ValidationError) as caught:
            FormField(form=form, key="x", label="X", kind=kind, maps_to=maps_to).full_clean()
        assert "maps_to" in caught.value.message_dict


def test_a_lead_strategy_on_topic_uses_the_forms_topic(make_form):
    strategy = MatchingStrategy.objects.create(
        name="By email and topic", target="lead", fields=["contact.email", "lead.topic"]
    )
    form = make_form(lead_strategy=strategy)
    form_submit(form=form, raw={"email": "ada@example.com"})
    form_submit(form=form, raw={"email": "ADA@example.com"})
    assert Lead.objects.count() == 1


def test_a_name_match_yields_to_the_contact_that_owns_the_email(make_form):
    strategy = MatchingStrategy.objects.create(
        name="By name", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    by_name = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@old.example")
    owner = ContactFactory(first_name="Augusta", last_name="King", email="ada@example.com")
    submission = form_submit(
        form=make_form(contact_strategy=strategy),
        raw={"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    )
    assert submission.contact == owner
    by_name.refresh_from_db()
    assert by_name.email == "ada@old.example"
