"""Registering for events: matching registrants to contacts in each mode, a new lead per
registration, the interactions, seats with waitlist and promotion, cancellation and check-in."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Interaction, Lead
from leadcycle.errors import DomainError
from leadcycle.events.models import Event, Registration
from leadcycle.events.services import (
    RegistrationRejected,
    demo_events_create,
    event_create,
    event_delete,
    event_matching_strategy,
    event_update,
    registration_cancel,
    registration_check_in,
    registration_check_in_undo,
    registration_create,
)
from leadcycle.events.tests.conftest import person
from leadcycle.intake.models import MatchingStrategy
from leadcycle.testing.expectations import fullwidth
from leadcycle.testing.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def register(event, raw, **kwargs):
    return registration_create(event=event, raw=raw, **kwargs)


def statuses(event):
    return list(
        Registration.objects.filter(event=event).order_by("id").values_list("status", flat=True)
    )


# Matching --------------------------------------------------------------------------------------


def test_the_three_registrant_strategies_exist_on_the_contact_target():
    fields = {tuple(s.fields) for s in MatchingStrategy.objects.filter(target="contact")}
    assert ("contact.email",) in fields
    assert ("contact.first_name", "contact.last_name") in fields
    assert ("contact.email", "contact.first_name", "contact.last_name") in fields


def test_matching_by_email_shares_the_default_contact_strategy_of_forms():
    strategy = event_matching_strategy(matching="email")
    assert strategy.name == "Contact by email" and strategy.fields == ["contact.email"]


def test_by_email_the_same_person_registering_twice_is_one_contact_and_one_registration(
    make_event,
):
    # Given an event matching registrants by email
    event = make_event()
    # When the same person registers twice, the second time in another spelling
    first = register(event, person(0, company="Analytical Engines"))
    again = register(event, person(0, email=f" {fullwidth('ADA')}@Example.COM "))
    # Then there is one contact and one registration, and the second answer is the first
    assert Contact.objects.count() == 1
    assert Registration.objects.count() == 1
    assert (first.created, again.created) == (True, False)
    assert again.registration.pk == first.registration.pk
    # and only the first registration made a lead and an interaction
    assert Lead.objects.count() == 1
    assert Interaction.objects.filter(kind="event_registered").count() == 1


def test_by_email_a_registrant_with_a_known_email_is_linked_to_that_contact(make_event):
    known = ContactFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    event = make_event()
    result = register(event, person(0, job_title="Countess"))
    assert result.registration.contact == known
    known.refresh_from_db()
    assert known.job_title == "Countess"  # the match is updated with what was submitted
    assert Contact.objects.count() == 1


def test_by_name_one_person_with_two_emails_is_one_contact(make_event):
    # Given an event matching registrants by first and last name
    event = make_event(registrant_matching="name")
    # When the same name registers with two different emails (case and spaces differ)
    register(event, person(0, email="ada@home.example"))
    again = register(
        event, person(0, first_name=" ADA ", last_name="lovelace", email="ada@work.example")
    )
    # Then it is one contact, one registration
    assert Contact.objects.count() == 1
    assert Registration.objects.count() == 1
    assert again.created is False


def test_by_name_different_people_are_different_contacts(make_event):
    event = make_event(registrant_matching="name")
    register(event, person(0))
    register(event, person(1))
    assert Contact.objects.count() == 2 and Registration.objects.count() == 2


def test_by_name_the_email_may_be_left_out(make_event):
    event = make_event(registrant_matching="name")
    result = register(event, person(0, email=""))
    assert result.registration.contact.email == ""
    assert result.registration.status == "registered"


def test_by_name_an_email_owned_by_another_contact_links_to_the_email_owner(make_event):
    # Given two contacts: one with the registrant's name, another with their email
    ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@home.example")
    owner = ContactFactory(first_name="A.", last_name="King", email="ada@work.example")
    event = make_event(registrant_matching="name")
    # When Ada registers with the second contact's email
    result = register(event, person(0, email="ada@work.example"))
    # Then emails stay unique: the mailbox's owner is the registrant
    assert result.registration.contact == owner
    assert Contact.objects.count() == 2


def test_by_email_and_name_the_same_email_with_another_name_is_not_a_strategy_match(
    make_event,
):
    # Given a contact with the email, under another name
    existing = ContactFactory(email="ada@example.com", first_name="Augusta", last_name="King")
    event = make_event(registrant_matching="email_and_name")
    # When Ada registers with that email
    result = register(event, person(0))
    # Then emails are unique, so the email's contact is used, and takes the submitted name
    assert result.registration.contact == existing
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name) == ("Ada", "Lovelace")


def test_by_email_and_name_the_same_person_twice_is_one_registration(make_event):
    event = make_event(registrant_matching="email_and_name")
    register(event, person(0))
    again = register(event, person(0, first_name="ada", email="ADA@example.com"))
    assert again.created is False
    assert Contact.objects.count() == 1 and Registration.objects.count() == 1


# Leads and interactions ------------------------------------------------------------------------


def test_every_registration_creates_a_new_lead_linked_to_the_contact(make_event):
    # Given a contact who already has an open lead from the same event's campaign
    event = make_event(campaign="Summit 2026")
    other = make_event("meetup", name="Analytics Meetup", campaign="Summit 2026")
    register(event, person(0, company="Analytical Engines"))
    # When they register for a second event
    result = register(other, person(0))
    # Then a second lead was created (no lead matching), both linked to the one contact
    contact = Contact.objects.get()
    leads = list(Lead.objects.order_by("id"))
    assert len(leads) == 2
    assert {lead.parent_contact for lead in leads} == {contact}
    assert [lead.origin_ref for lead in leads] == [f"event:{event.pk}", f"event:{other.pk}"]
    assert [lead.topic for lead in leads] == [
        "Event: Nordic Data Summit",
        "Event: Analytics Meetup",
    ]
    assert {lead.source_channel for lead in leads} == {"event"}
    assert leads[0].parent_account == Account.objects.get(name="Analytical Engines")
    assert result.registration.lead == leads[1]
    assert contact.origin_channel == "event"


def test_the_event_may_name_the_lead_topic_or_create_no_leads(make_event):
    named = make_event(lead_topic="Summit attendee")
    none = make_event("quiet", create_leads=False)
    register(named, person(0))
    result = register(none, person(1))
    assert Lead.objects.get().topic == "Summit attendee"
    assert result.registration.lead is None and result.registration.contact is not None


def test_a_registration_records_event_registered_for_the_contact_and_lead(make_event):
    event = make_event()
    result = register(event, person(0, consent=True))
    interaction = Interaction.objects.get()
    registration = result.registration
    assert interaction.kind == "event_registered"
    assert (interaction.contact, interaction.lead) == (registration.contact, registration.lead)
    assert interaction.campaign == "Summit 2026"
    assert interaction.attributes["event_id"] == event.pk
    assert interaction.attributes["event"] == "Nordic Data Summit"
    assert interaction.attributes["registration_id"] == registration.pk
    assert registration.contact.consent == "granted"


def test_what_was_submitted_is_kept_on_the_registration(make_event):
    event = make_event()
    registration = register(
        event,
        person(0, company="Analytical Engines", job_title="Countess", answers={"diet": "vegan"}),
    ).registration
    assert (registration.first_name, registration.last_name, registration.email) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
    )
    assert registration.answers == {
        "diet": "vegan",
        "company": "Analytical Engines",
        "job_title": "Countess",
        "consent": False,
    }
    assert len(registration.cancel_token) >= 40


def test_the_cancel_token_stays_out_of_the_audit_trail(make_event):
    registration = register(make_event(), person(0)).registration
    entry = AuditEntry.objects.get(record_type="events.registration")
    assert "cancel_token" not in entry.changes
    assert registration.cancel_token not in str(entry.changes)


# Seats, waitlist, promotion --------------------------------------------------------------------


def test_when_full_new_registrants_are_waitlisted(make_event):
    event = make_event(capacity=2)
    results = [register(event, person(i)) for i in range(4)]
    assert [r.registration.status for r in results] == [
        "registered",
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    # waitlisted people are still interested: they get a lead and an interaction too
    assert Lead.objects.count() == 4
    assert Interaction.objects.filter(kind="event_registered").count() == 4


def test_when_full_without_waitlist_a_registration_is_refused_and_nothing_is_written(
    make_event,
):
    event = make_event(capacity=1, waitlist_enabled=False)
    register(event, person(0))
    with pytest.raises(DomainError) as refused:
        register(event, person(1, company="Compilers Inc"))
    assert refused.value.code == "event_full" and refused.value.status == 409
    assert Contact.objects.count() == 1 and Account.objects.count() == 0
    assert Registration.objects.count() == 1 and Lead.objects.count() == 1


def test_a_person_already_registered_gets_their_registration_back_even_when_full(make_event):
    event = make_event(capacity=1, waitlist_enabled=False)
    first = register(event, person(0))
    again = register(event, person(0))
    assert again.registration.pk == first.registration.pk and again.created is False


def test_cancelling_a_seat_promotes_the_oldest_waitlisted_registrant(make_event):
    # Given a full event of two seats with two people waiting
    event = make_event(capacity=2)
    regs = [register(event, person(i)).registration for i in range(4)]
    # When a registered person cancels
    cancelled = registration_cancel(registration=regs[0])
    # Then the oldest waitlisted person takes the seat, the other keeps waiting
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert statuses(event) == ["cancelled", "registered", "registered", "waitlisted"]
    promoted = Registration.objects.get(pk=regs[2].pk)
    assert promoted.promoted_at is not None
    # and the cancellation is recorded for the contact
    interaction = Interaction.objects.get(kind="event_cancelled")
    assert interaction.contact == regs[0].contact
    assert interaction.attributes["registration_id"] == regs[0].pk


def test_cancelling_a_waitlisted_registration_promotes_nobody(make_event):
    event = make_event(capacity=1)
    regs = [register(event, person(i)).registration for i in range(3)]
    registration_cancel(registration=regs[1])
    assert statuses(event) == ["registered", "cancelled", "waitlisted"]


def test_cancelling_twice_changes_nothing_the_second_time(make_event):
    registration = register(make_event(), person(0)).registration
    registration_cancel(registration=registration)
    registration_cancel(registration=registration)
    assert Interaction.objects.filter(kind="event_cancelled").count() == 1


def test_after_cancelling_the_person_may_register_again(make_event):
    event = make_event()
    first = register(event, person(0)).registration
    registration_cancel(registration=first)
    again = register(event, person(0))
    assert again.created is True and again.registration.pk != first.pk
    assert statuses(event) == ["cancelled", "registered"]
    assert Contact.objects.count() == 1


def test_more_seats_promote_waitlisted_registrants_oldest_first(make_event):
    event = make_event(capacity=1)
    for i in range(4):
        register(event, person(i))
    event_update(event=event, by=None, data={"capacity": 3})
    assert statuses(event) == ["registered", "registered", "registered", "waitlisted"]
    event_update(event=event, by=None, data={"capacity": None})
    assert statuses(event) == ["registered"] * 4


def test_fewer_seats_never_unseat_anyone(make_event):
    event = make_event(capacity=3)
    for i in range(3):
        register(event, person(i))
    event_update(event=event, by=None, data={"capacity": 1})
    assert statuses(event) == ["registered"] * 3
    assert register(event, person(3)).registration.status == "waitlisted"


def test_the_database_allows_one_active_registration_per_person_and_event(make_event):
    registration = register(make_event(), person(0)).registration
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(
            event=registration.event,
            contact=registration.contact,
            registered_at=timezone.now(),
        )


def test_the_database_refuses_unknown_statuses(make_event):
    registration = register(make_event(), person(0)).registration
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(status="maybe")


def test_registration_closes_when_the_event_has_ended(make_event):
    start = timezone.now() - datetime.timedelta(days=2)
    event = make_event(starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    with pytest.raises(DomainError) as refused:
        register(event, person(0))
    assert refused.value.code == "registration_closed"
    # staff may still record a registration afterwards
    assert register(event, person(0), channel="staff").created is True


# Check-in --------------------------------------------------------------------------------------


def test_checking_in_twice_records_one_check_in_and_undo_removes_it(make_event):
    desk = UserFactory(username="desk", role="telemarketer")
    registration = register(make_event(), person(0)).registration
    registration_check_in(registration=registration, by=desk)
    again = registration_check_in(registration=registration, by=desk)
    assert again.status == "checked_in" and again.checked_in_by == desk
    assert Interaction.objects.filter(kind="event_checked_in").count() == 1
    undone = registration_check_in_undo(registration=registration, by=desk)
    assert (undone.status, undone.checked_in_at, undone.checked_in_by) == ("registered", None, None)
    assert Interaction.objects.filter(kind="event_checked_in").count() == 0


@pytest.mark.parametrize("status", ["waitlisted", "cancelled"])
def test_people_without_a_seat_cannot_be_checked_in(make_event, status):
    event = make_event(capacity=1)
    register(event, person(0))
    registration = register(event, person(1)).registration
    if status == "cancelled":
        registration = registration_cancel(registration=registration)
    with pytest.raises(DomainError) as refused:
        registration_check_in(registration=registration, by=None)
    assert refused.value.code == f"registration_{status}"
    assert not Interaction.objects.filter(kind="event_checked_in").exists()


def test_a_checked_in_registration_cannot_be_cancelled(make_event):
    registration = register(make_event(), person(0)).registration
    registration_check_in(registration=registration, by=None)
    with pytest.raises(DomainError) as refused:
        registration_cancel(registration=registration)
    assert refused.value.code == "registration_checked_in"


# Events ----------------------------------------------------------------------------------------


def test_an_event_may_not_end_before_it_starts(make_event):
    start = timezone.now()
    with pytest.raises(ValidationError) as invalid:
        event_create(
            by=None,
            data={
                "name": "Backwards",
                "starts_at": start,
                "ends_at": start - datetime.timedelta(1),
            },
        )
    assert "ends_at" in invalid.value.message_dict
    assert not Event.objects.exists()


def test_the_database_refuses_an_event_ending_before_it_starts(make_event):
    event = make_event()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(ends_at=event.starts_at - datetime.timedelta(1))


def test_an_empty_slug_is_made_from_the_name_and_kept_unique(make_event):
    first = make_event(slug="", name="Data Day")
    second = make_event(slug="", name="Data Day")
    assert (first.slug, second.slug) == ("data-day", "data-day-2")


def test_an_event_with_registrations_cannot_be_deleted(make_event):
    event = make_event()
    register(event, person(0))
    with pytest.raises(DomainError) as refused:
        event_delete(event=event, by=None)
    assert refused.value.code == "event_has_registrations"
    empty = make_event("empty")
    event_delete(event=empty, by=None)
    assert not Event.objects.filter(slug="empty").exists()


def test_invalid_values_are_refused_naming_each_field(make_event):
    event = make_event()
    with pytest.raises(RegistrationRejected) as rejected:
        register(event, {"email": "nope", "first_name": 7, "surname": "x", "consent": "perhaps"})
    assert rejected.value.errors == {
        "surname": {"code": "unknown_field", "message": "Unknown field."},
        "email": {"code": "invalid_email", "message": "Enter a valid email address."},
        "first_name": {"code": "invalid_type", "message": "Expected text."},
        "last_name": {"code": "required", "message": "This field is required."},
        "consent": {"code": "invalid_type", "message": "Expected true or false."},
    }


# Demo ------------------------------------------------------------------------------------------


def test_demo_events_use_existing_contacts_and_are_created_once():
    contacts = [ContactFactory() for _ in range(14)]
    upcoming, past = demo_events_create()
    assert upcoming.starts_at > timezone.now() > past.ends_at
    assert statuses(upcoming).count("registered") == 6
    assert statuses(upcoming).count("waitlisted") == 2
    assert Registration.objects.filter(event=past, status="checked_in").count() == 4
    assert Contact.objects.count() == len(contacts)
    again = demo_events_create()
    assert {event.pk for event in again} == {upcoming.pk, past.pk}
    assert Event.objects.count() == 2


def test_demo_events_skip_contacts_whose_email_a_form_would_refuse():
    # the demo dataset has addresses like this one, which Django's email check refuses
    ContactFactory(email="zofia.dąbrowski.7@mail.example")
    for _ in range(3):
        ContactFactory()
    upcoming, _ = demo_events_create()
    emails = set(Registration.objects.values_list("email", flat=True))
    assert "zofia.dąbrowski.7@mail.example" not in emails
    assert Registration.objects.filter(event=upcoming).count() == 3


def test_demo_events_make_up_registrants_when_there_are_no_contacts():
    upcoming, past = demo_events_create()
    assert Registration.objects.filter(event=upcoming).count() == 8
    assert Registration.objects.filter(event=past, status="checked_in").count() == 4
