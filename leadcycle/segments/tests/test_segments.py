"""Segments as a marketer uses them: the seed's Contoso example, members kept as a table with
joins and leaves recorded, static lists, segments of segments without cycles, and the API."""

import pytest
from django.core.exceptions import ValidationError

from leadcycle.crm.models import Contact
from leadcycle.errors import DomainError
from leadcycle.segments import services
from leadcycle.segments.models import MembershipChange, Segment, SegmentMember
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

CONTOSO = {
    "all": [
        {"field": "role", "op": "eq", "value": "decision_maker"},
        {"lead": {"all": [{"field": "topic", "op": "eq", "value": "Contoso Ltd Conference"}]}},
    ]
}


def members(segment):
    return set(SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True))


def test_the_contoso_example_finds_the_decision_makers_with_a_conference_lead():
    # Given decision makers and others, with and without a Contoso conference lead
    ada = ContactFactory(role="decision_maker")
    LeadFactory(parent_contact=ada, topic="Contoso Ltd Conference")
    bob = ContactFactory(role="influencer")
    LeadFactory(parent_contact=bob, topic="Contoso Ltd Conference")
    cy = ContactFactory(role="decision_maker")
    LeadFactory(parent_contact=cy, topic="Pricing")
    # When the segment goes live
    segment = services.segment_create(by=None, data={"name": "Contoso DMs", "query": CONTOSO})
    assert services.preview_count(query=CONTOSO) == 1
    services.segment_go_live(segment=segment, by=None)
    # Then Ada alone is a member, and she joined
    segment.refresh_from_db()
    assert members(segment) == {ada.pk} and segment.member_count == 1
    assert list(MembershipChange.objects.values_list("contact_id", "change")) == [
        (ada.pk, "joined")
    ]


def test_a_refresh_adds_joiners_removes_leavers_and_keeps_history():
    ada, bob = ContactFactory(role="decision_maker"), ContactFactory(role="other")
    query = {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]}
    segment = services.segment_create(by=None, data={"name": "DMs", "query": query})
    services.segment_go_live(segment=segment, by=None)
    assert members(segment) == {ada.pk}
    Contact.objects.filter(pk=ada.pk).update(role="other")
    Contact.objects.filter(pk=bob.pk).update(role="decision_maker")
    assert services.segment_refresh(segment=segment) == (1, 1)
    assert members(segment) == {bob.pk}
    history = set(MembershipChange.objects.values_list("contact_id", "change"))
    assert history == {(ada.pk, "joined"), (ada.pk, "left"), (bob.pk, "joined")}
    # Nothing changed: nothing happens
    assert services.segment_refresh(segment=segment) == (0, 0)


def test_static_segments_take_contacts_by_hand_and_by_query():
    ada, bob = ContactFactory(role="decision_maker"), ContactFactory()
    segment = services.segment_create(by=None, data={"name": "VIPs", "kind": "static"})
    assert services.segment_members_add(segment=segment, by=None, contact_ids=[bob.pk]) == 1
    query = {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]}
    assert services.segment_members_add(segment=segment, by=None, query=query) == 1
    assert members(segment) == {ada.pk, bob.pk}
    assert services.segment_members_remove(segment=segment, by=None, contact_ids=[bob.pk]) == 1
    assert members(segment) == {ada.pk}
    with pytest.raises(ValidationError) as caught:
        services.segment_members_add(segment=segment, by=None, contact_ids=[999999])
    assert caught.value.error_dict["contact_ids"][0].code == "unknown_contact"
    with pytest.raises(DomainError):
        services.segment_refresh(segment=segment)


def test_segments_built_from_segments_refuse_cycles():
    ada = ContactFactory(role="decision_maker", country="Sweden")
    ContactFactory(role="decision_maker", country="Norway")
    dms = services.segment_create(
        by=None,
        data={
            "name": "DMs",
            "query": {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]},
        },
    )
    services.segment_go_live(segment=dms, by=None)
    swedes = services.segment_create(
        by=None,
        data={
            "name": "Swedish DMs",
            "query": {
                "all": [{"segment": dms.pk}, {"field": "country", "op": "eq", "value": "Sweden"}]
            },
        },
    )
    services.segment_go_live(segment=swedes, by=None)
    assert members(swedes) == {ada.pk}
    with pytest.raises(ValidationError) as caught:
        services.segment_update(
            segment=dms, by=None, data={"query": {"all": [{"segment": swedes.pk}]}}
        )
    assert caught.value.error_dict["query"][0].code == "cycle"
    with pytest.raises(DomainError):
        services.segment_delete(segment=dms, by=None)


def test_the_api_creates_previews_takes_live_and_pages_members(api_client):
    api = api_client("marketer")
    ada = ContactFactory(role="decision_maker", email="ada@example.com")
    LeadFactory(parent_contact=ada, topic="Contoso Ltd Conference")
    preview = api.post(
        "/api/v1/segments/preview", {"query": CONTOSO}, content_type="application/json"
    )
    assert preview.json() == {"count": 1}
    created = api.post(
        "/api/v1/segments", {"name": "Contoso", "query": CONTOSO}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["status"] == "draft"
    sid = created.json()["id"]
    live = api.post(f"/api/v1/segments/{sid}/go-live").json()
    assert (live["status"], live["member_count"]) == ("live", 1)
    page = api.get(f"/api/v1/segments/{sid}/members").json()
    assert page["count"] == 1 and page["results"][0]["email"] == "ada@example.com"
    assert api.post(f"/api/v1/segments/{sid}/refresh").json() == {
        "joined": 0,
        "left": 0,
        "member_count": 1,
    }


def test_bad_queries_are_a_422_naming_the_node(api_client):
    api = api_client("marketer")
    bad = {"all": [{"lead": {"all": [{"field": "topic", "op": "near", "value": "x"}]}}]}
    response = api.post(
        "/api/v1/segments", {"name": "Bad", "query": bad}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["query.all.0.lead.all.0.op"]["code"] == (
        "unknown_operator"
    )
    assert not Segment.objects.exists()
    seller = api_client("seller")
    assert (
        seller.post("/api/v1/segments", {"name": "X"}, content_type="application/json").status_code
        == 403
    )


def test_a_changed_contact_lead_or_interaction_updates_live_segments_at_once(
    django_capture_on_commit_callbacks,
):
    from leadcycle.crm.services import contact_update, lead_update
    from leadcycle.interactions.services import interaction_record

    ada = ContactFactory(role="other")
    lead = LeadFactory(parent_contact=ada, topic="Pricing")
    contoso = services.segment_create(by=None, data={"name": "Contoso", "query": CONTOSO})
    clickers = services.segment_create(
        by=None,
        data={
            "name": "Clickers",
            "query": {"all": [{"interaction": {"all": []}, "kind": "email_clicked"}]},
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.segment_go_live(segment=contoso, by=None)
        services.segment_go_live(segment=clickers, by=None)
    assert members(contoso) == set() and members(clickers) == set()
    # When she becomes a decision maker and her lead is about the conference, she joins
    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=ada, by=None, data={"role": "decision_maker"})
    assert members(contoso) == set()
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(lead=lead, by=None, data={"topic": "Contoso Ltd Conference"})
    assert members(contoso) == {ada.pk}
    # A click puts her in the behavioural segment
    with django_capture_on_commit_callbacks(execute=True):
        interaction_record(contact_id=ada.pk, kind="email_clicked")
    assert members(clickers) == {ada.pk}
    assert Segment.objects.get(pk=clickers.pk).member_count == 1
    # And a change back takes her out, recorded
    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=ada, by=None, data={"role": "other"})
    assert members(contoso) == set()
    assert MembershipChange.objects.filter(segment=contoso, change="left").count() == 1


def test_a_static_segment_takes_the_contacts_a_file_names(api_client, ui_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ada = ContactFactory(email="ada@example.com")
    bob = ContactFactory(email="bob@example.com")
    segment = services.segment_create(by=None, data={"name": "Fair list", "kind": "static"})
    api = api_client("marketer")
    upload = SimpleUploadedFile(
        "fair.csv", b"Name;E-mail\nAda; ADA@Example.com \nZed;zed@example.com\n"
    )
    answer = api.post(f"/api/v1/segments/{segment.pk}/members/import", {"file": upload})
    assert answer.json() == {"added": 1, "not_found": 1, "member_count": 1}
    assert members(segment) == {ada.pk}
    # The same through the page
    page = ui_client("marketer").post(
        f"/segments/{segment.pk}/import/",
        {"file": SimpleUploadedFile("b.csv", b"Email\nbob@example.com\nada@example.com\n")},
    )
    assert page.status_code == 302 and members(segment) == {ada.pk, bob.pk}
    no_email = api.post(
        f"/api/v1/segments/{segment.pk}/members/import",
        {"file": SimpleUploadedFile("x.csv", b"Name\nAda\n")},
    )
    assert no_email.status_code == 422
    assert no_email.json()["error"]["fields"]["file"]["code"] == "no_email_column"
