"""Merging contacts and accounts loses nothing, and undoing a merge puts everything back."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.crm.models import Account, Contact, Interaction, Lead, Opportunity, Task
from leadcycle.duplicates import selectors, services
from leadcycle.duplicates.models import Merge
from leadcycle.errors import DomainError
from leadcycle.events.models import Event, Registration
from leadcycle.events.services import event_create
from leadcycle.intake.models import MatchingStrategy, MatchKey
from leadcycle.segments import services as segments
from leadcycle.segments.models import SegmentMember
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def merge(survivor, merged, **kwargs):
    return services.record_merge(
        entity="contact", survivor_id=survivor.pk, merged_id=merged.pk, by=None, **kwargs
    )


def event(slug="summit"):
    start = timezone.now() + datetime.timedelta(days=7)
    return event_create(
        by=None,
        data={"name": f"Summit {slug}", "slug": slug, "starts_at": start,
              "ends_at": start + datetime.timedelta(hours=2)},
    )  # fmt: skip


def register(event: Event, contact: Contact, status="registered") -> Registration:
    extra = {"cancelled_at": timezone.now()} if status == "cancelled" else {}
    return Registration.objects.create(
        event=event, contact=contact, status=status, email=contact.email,
        registered_at=timezone.now(), **extra,
    )  # fmt: skip


@pytest.fixture
def pair():
    """Ada twice: the older record from an import without a phone, the newer from a form."""
    account = AccountFactory(name="Analytical Engines")
    ada = ContactFactory(
        first_name="Ada", last_name="Lovelace", email="ada@engines.example", phone="",
        job_title="CTO", account=account, marketing_only=True, consent="granted",
    )  # fmt: skip
    twin = ContactFactory(
        first_name="ADA", last_name="Lovelace ", email="ada.lovelace@home.example",
        phone="+46 70 123 45 67", job_title="Countess", role="decision_maker",
        marketing_only=False, consent="unknown",
    )  # fmt: skip
    return ada, twin


def test_a_merge_moves_everything_of_the_merged_contact_to_the_survivor(pair):
    ada, twin = pair
    leads = [LeadFactory(parent_contact=twin) for _ in range(2)]
    own_lead = LeadFactory(parent_contact=ada)
    clicks = [InteractionFactory(contact=twin, kind="email_clicked") for _ in range(3)]
    task = TaskFactory(contact=twin)
    deal = OpportunityFactory(contact=twin)
    summit = event()
    registration = register(summit, twin)
    strategy = MatchingStrategy.objects.get(target="contact", fields=["contact.email"])
    key = MatchKey.objects.create(strategy=strategy, key="k" * 64, contact=twin)

    done = merge(ada, twin)

    assert not Contact.objects.filter(pk=twin.pk).exists()
    assert set(Lead.objects.filter(parent_contact=ada)) == {*leads, own_lead}
    assert Interaction.objects.filter(contact=ada, kind="email_clicked").count() == len(clicks)
    assert Task.objects.get(pk=task.pk).contact_id == ada.pk
    assert Opportunity.objects.get(pk=deal.pk).contact_id == ada.pk
    assert Registration.objects.get(pk=registration.pk).contact_id == ada.pk
    assert MatchKey.objects.get(pk=key.pk).contact_id == ada.pk
    assert done.moved == {
        "crm.interaction.contact": 3, "crm.lead.parent_contact": 2, "crm.opportunity.contact": 1,
        "crm.task.contact": 1, "events.registration.contact": 1, "intake.matchkey.contact": 1,
    }  # fmt: skip


def test_the_survivor_keeps_its_values_and_fills_its_gaps_from_the_merged_contact(pair):
    ada, twin = pair
    merge(ada, twin)
    ada.refresh_from_db()
    assert ada.email == "ada@engines.example"  # its own
    assert ada.job_title == "CTO"  # its own, though the other differs
    assert ada.phone == "+46 70 123 45 67"  # was empty: filled
    assert ada.role == "decision_maker"  # "other" counts as unknown: filled
    assert ada.account.name == "Analytical Engines"
    # A person sales already knew makes a sales contact; consent keeps the stronger word.
    assert ada.marketing_only is False
    assert ada.consent == "granted"


def test_withdrawn_consent_wins_and_a_person_may_choose_any_value(pair):
    ada, twin = pair
    Contact.objects.filter(pk=twin.pk).update(consent="withdrawn")
    twin.refresh_from_db()
    merge(ada, twin, keep={"email": "merged", "job_title": "merged"})
    ada.refresh_from_db()
    assert ada.consent == "withdrawn"
    assert ada.email == "ada.lovelace@home.example"
    assert ada.email_normalized == "ada.lovelace@home.example"
    assert ada.job_title == "Countess"


def test_unknown_choices_are_refused_naming_the_field(pair):
    ada, twin = pair
    with pytest.raises(ValidationError) as caught:
        merge(ada, twin, keep={"salary": "merged", "email": "both"})
    assert caught.value.error_dict["keep.salary"][0].code == "unknown_field"
    assert caught.value.error_dict["keep.email"][0].code == "invalid_choice"
    assert Contact.objects.filter(pk=twin.pk).exists()


def test_a_contact_cannot_be_merged_into_itself_or_into_nobody(pair):
    ada, _ = pair
    with pytest.raises(DomainError) as caught:
        merge(ada, ada)
    assert caught.value.code == "same_record"
    with pytest.raises(DomainError) as caught:
        services.record_merge(entity="contact", survivor_id=ada.pk, merged_id=999999, by=None)
    assert (caught.value.code, caught.value.status, caught.value.fields) == (
        "not_found", 404, {"merged_id": "Not found."},
    )  # fmt: skip


def test_two_seats_at_one_event_refuse_the_merge_and_change_nothing(pair):
    ada, twin = pair
    summit = event()
    register(summit, ada)
    register(summit, twin)
    lead = LeadFactory(parent_contact=twin)
    with pytest.raises(DomainError) as caught:
        merge(ada, twin)
    assert caught.value.code == "both_registered"
    assert "Summit summit" in caught.value.message
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == twin.pk
    assert not Merge.objects.exists()
    # A cancelled registration holds no seat: then the merge goes through.
    Registration.objects.filter(contact=twin).update(
        status="cancelled", cancelled_at=timezone.now()
    )
    merge(ada, twin)
    assert Registration.objects.filter(event=summit, contact=ada).count() == 2


def test_the_survivor_keeps_one_membership_per_segment(pair):
    ada, twin = pair
    both = segments.segment_create(by=None, data={"name": "Both", "kind": "static"})
    only_twin = segments.segment_create(by=None, data={"name": "Twin", "kind": "static"})
    segments.segment_members_add(segment=both, by=None, contact_ids=[ada.pk, twin.pk])
    segments.segment_members_add(segment=only_twin, by=None, contact_ids=[twin.pk])
    done = merge(ada, twin)
    assert set(SegmentMember.objects.values_list("segment_id", "contact_id")) == {
        (both.pk, ada.pk), (only_twin.pk, ada.pk),
    }  # fmt: skip
    services.merge_undo(merge_id=done.pk, by=None)
    assert set(SegmentMember.objects.values_list("segment_id", "contact_id")) == {
        (both.pk, ada.pk), (both.pk, twin.pk), (only_twin.pk, twin.pk),
    }  # fmt: skip


def test_undo_puts_the_contact_back_as_it_was(pair):
    ada, twin = pair
    twin_created = twin.created_at
    leads = {LeadFactory(parent_contact=twin).pk for _ in range(2)}
    clicks = {InteractionFactory(contact=twin).pk for _ in range(3)}
    done = merge(ada, twin, keep={"email": "merged"})

    services.merge_undo(merge_id=done.pk, by=None)

    back = Contact.objects.get(pk=twin.pk)
    assert (back.email, back.phone, back.job_title, back.role) == (
        "ada.lovelace@home.example", "+46 70 123 45 67", "Countess", "decision_maker",
    )  # fmt: skip
    assert back.created_at == twin_created
    assert set(Lead.objects.filter(parent_contact=back).values_list("pk", flat=True)) == leads
    assert set(Interaction.objects.filter(contact=back).values_list("pk", flat=True)) == clicks
    ada.refresh_from_db()
    assert (ada.email, ada.phone, ada.role, ada.marketing_only) == (
        "ada@engines.example", "", "other", True,
    )  # fmt: skip
    assert Merge.objects.get(pk=done.pk).undone_at is not None


def test_undo_leaves_what_people_changed_since_the_merge(pair):
    ada, twin = pair
    lead = LeadFactory(parent_contact=twin)
    done = merge(ada, twin)
    other = ContactFactory()
    Lead.objects.filter(pk=lead.pk).update(parent_contact=other)  # re-parented since
    Contact.objects.filter(pk=ada.pk).update(phone="+1 555 0100")  # edited since
    services.merge_undo(merge_id=done.pk, by=None)
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == other.pk
    assert Contact.objects.get(pk=ada.pk).phone == "+1 555 0100"


def test_a_merge_is_undone_once_and_chains_undo_newest_first(pair):
    ada, twin = pair
    third = ContactFactory(first_name="Ada", last_name="Lovelace")
    first = merge(ada, twin)
    second = merge(third, ada)
    with pytest.raises(DomainError) as caught:
        services.merge_undo(merge_id=first.pk, by=None)
    assert caught.value.code == "survivor_gone"
    assert f"Undo merge #{second.pk} first" in caught.value.message
    services.merge_undo(merge_id=second.pk, by=None)
    services.merge_undo(merge_id=first.pk, by=None)
    assert Contact.objects.filter(pk__in=[ada.pk, twin.pk, third.pk]).count() == 3
    with pytest.raises(DomainError) as caught:
        services.merge_undo(merge_id=first.pk, by=None)
    assert caught.value.code == "already_undone"


def test_undo_is_refused_while_another_contact_holds_the_email(pair):
    ada, twin = pair
    done = merge(ada, twin)
    ContactFactory(email="Ada.Lovelace@Home.example")
    with pytest.raises(DomainError) as caught:
        services.merge_undo(merge_id=done.pk, by=None)
    assert caught.value.code == "email_taken"
    assert not Contact.objects.filter(pk=twin.pk).exists()
    assert Merge.objects.get(pk=done.pk).undone_at is None


def test_the_merge_is_in_both_histories_and_the_survivor_shows_the_merged_history(pair):
    ada, twin = pair
    done = merge(ada, twin)
    gone = AuditEntry.objects.get(record_type="crm.contact", record_id=twin.pk, action="delete")
    assert gone.changes["merged into"][1].startswith(f"#{ada.pk}")
    assert AuditEntry.objects.filter(
        record_type="crm.contact", record_id=ada.pk, changes__has_key="merged"
    ).exists()
    assert selectors.merged_ids(entity="contact", record_id=ada.pk) == [twin.pk]
    assert selectors.contact_survivor_id(twin.pk) == ada.pk
    services.merge_undo(merge_id=done.pk, by=None)
    assert selectors.merged_ids(entity="contact", record_id=ada.pk) == []
    assert selectors.contact_survivor_id(twin.pk) == twin.pk


def test_a_merge_costs_the_same_number_of_queries_whatever_moves(pair):
    ada, twin = pair

    def cost(survivor, merged, rows):
        for _ in range(rows):
            LeadFactory(parent_contact=merged)
            InteractionFactory(contact=merged)
            TaskFactory(contact=merged)
        with CaptureQueriesContext(connection) as ctx:
            merge(survivor, merged)
        return len(ctx.captured_queries)

    small = cost(ada, twin, 2)
    other_ada = ContactFactory(first_name="Ada", last_name="Lovelace", phone="")
    other_twin = ContactFactory(first_name="Ada", last_name="Lovelace", phone="+46 1")
    assert cost(other_ada, other_twin, 25) == small


def test_accounts_merge_with_their_contacts_leads_and_opportunities():
    old = AccountFactory(name="Contoso", web_domain="", industry="Retail")
    new = AccountFactory(name="Contoso Ltd", web_domain="contoso.com", industry="Software")
    people = [ContactFactory(account=new) for _ in range(2)]
    lead = LeadFactory(parent_contact=people[0], parent_account=new)
    deal = OpportunityFactory(account=new)
    done = services.record_merge(entity="account", survivor_id=old.pk, merged_id=new.pk, by=None)
    old.refresh_from_db()
    assert (old.name, old.web_domain, old.industry) == ("Contoso", "contoso.com", "Retail")
    assert set(Contact.objects.filter(account=old)) == set(people)
    assert Lead.objects.get(pk=lead.pk).parent_account_id == old.pk
    assert Opportunity.objects.get(pk=deal.pk).account_id == old.pk
    assert not Account.objects.filter(pk=new.pk).exists()
    services.merge_undo(merge_id=done.pk, by=None)
    assert set(Contact.objects.filter(account_id=new.pk)) == set(people)
    assert Account.objects.get(pk=old.pk).web_domain == ""
    assert Account.objects.get(pk=new.pk).web_domain == "contoso.com"


def test_merged_leads_are_rescored_and_segments_reevaluated(
    pair, django_capture_on_commit_callbacks
):
    from leadcycle.changes import records_committed

    ada, twin = pair
    lead = LeadFactory(parent_contact=twin)
    heard = []

    def listener(sender, contact_ids, lead_ids, account_ids, **kwargs):
        heard.append((set(contact_ids), set(lead_ids)))

    records_committed.connect(listener, dispatch_uid="test-merge-listener")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            merge(ada, twin)
    finally:
        records_committed.disconnect(dispatch_uid="test-merge-listener")
    assert any(ada.pk in contacts and lead.pk in leads for contacts, leads in heard)


def test_the_survivor_takes_the_import_key_so_a_rerun_finds_the_person(pair):
    ada, twin = pair
    Contact.objects.filter(pk=twin.pk).update(import_key="0123456789abcdef:7")
    twin.refresh_from_db()
    done = merge(ada, twin)
    assert Contact.objects.get(pk=ada.pk).import_key == "0123456789abcdef:7"
    services.merge_undo(merge_id=done.pk, by=None)
    assert Contact.objects.get(pk=ada.pk).import_key is None
    assert Contact.objects.get(pk=twin.pk).import_key == "0123456789abcdef:7"


def test_segment_counts_and_history_follow_the_merge(pair):
    from leadcycle.segments.models import MembershipChange, Segment

    ada, twin = pair
    both = segments.segment_create(by=None, data={"name": "Both", "kind": "static"})
    only_twin = segments.segment_create(by=None, data={"name": "Twin", "kind": "static"})
    segments.segment_members_add(segment=both, by=None, contact_ids=[ada.pk, twin.pk])
    segments.segment_members_add(segment=only_twin, by=None, contact_ids=[twin.pk])

    def counted():
        return {
            s.pk: s.member_count for s in Segment.objects.filter(pk__in=[both.pk, only_twin.pk])
        }

    done = merge(ada, twin)
    assert counted() == {both.pk: 1, only_twin.pk: 1}
    assert set(
        MembershipChange.objects.filter(contact_id__in=[ada.pk, twin.pk]).values_list(
            "segment_id", "contact_id", "change"
        )
    ) >= {
        (both.pk, twin.pk, "left"),
        (only_twin.pk, twin.pk, "left"),
        (only_twin.pk, ada.pk, "joined"),
    }
    services.merge_undo(merge_id=done.pk, by=None)
    assert counted() == {both.pk: 2, only_twin.pk: 1}
    assert MembershipChange.objects.filter(
        segment=only_twin, contact_id=ada.pk, change="left"
    ).exists()


def test_undo_follows_the_account_to_where_it_was_merged_since(pair):
    ada, twin = pair
    old_account = AccountFactory(name="Engines Ltd")
    Contact.objects.filter(pk=twin.pk).update(account=old_account)
    twin.refresh_from_db()
    done = merge(ada, twin)
    new_account = AccountFactory(name="Engines")
    services.record_merge(
        entity="account", survivor_id=new_account.pk, merged_id=old_account.pk, by=None
    )
    services.merge_undo(merge_id=done.pk, by=None)
    assert Contact.objects.get(pk=twin.pk).account_id == new_account.pk
