"""API lists: search, filters, sort, pages; record history; query counts that do not grow."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadcycle.crm.models import Lead
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def people():
    contoso = AccountFactory(name="Contoso", industry="Retail", employees=500)
    fabrikam = AccountFactory(name="Fabrikam", industry="Energy", employees=20)
    return {
        "anna": ContactFactory(
            first_name="Anna",
            last_name="Berg",
            email="anna.berg@contoso.com",
            account=contoso,
            role="decision_maker",
            job_title="CTO",
        ),
        "erik": ContactFactory(
            first_name="Erik",
            last_name="Nowak",
            email="erik@fabrikam.com",
            account=fabrikam,
            marketing_only=True,
        ),
        "maja": ContactFactory(
            first_name="Maja", last_name="Andersson", email="maja@mail.example", account=None
        ),
    }


# Search --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("anna", {"anna"}),
        ("ANNA.BERG@CONTOSO", {"anna"}),  # email, any case
        ("nowak", {"erik"}),
        ("contoso", {"anna"}),  # the account's name
        ("cto", {"anna"}),  # job title
        ("anna berg", {"anna"}),  # every word must match
        ("anna nowak", set()),
        ("  maja  ", {"maja"}),
        ("zzz", set()),
    ],
)
def test_contact_search(admin_api, people, q, expected):
    response = admin_api.get("/api/v1/contacts", {"q": q})
    assert set(ids(response)) == {people[name].pk for name in expected}
    assert response.json()["count"] == len(expected)


def test_lead_search_finds_by_topic_campaign_and_contact_email(admin_api, people):
    webinar = LeadFactory(
        topic="Analytics webinar", campaign="Spring", parent_contact=people["anna"]
    )
    fair = LeadFactory(topic="Trade fair", campaign="Autumn", parent_contact=people["erik"])
    assert ids(admin_api.get("/api/v1/leads", {"q": "webinar"})) == [webinar.pk]
    assert ids(admin_api.get("/api/v1/leads", {"q": "autumn"})) == [fair.pk]
    assert ids(admin_api.get("/api/v1/leads", {"q": "erik@fabrikam"})) == [fair.pk]


# Filters -------------------------------------------------------------------------------------


def test_lead_filters(admin_api, people):
    open_ready = LeadFactory(topic="Ready lead", parent_contact=people["anna"], sales_ready=True)
    open_not_ready = LeadFactory(topic="Waiting lead", parent_contact=people["anna"])
    qualified = LeadFactory(topic="Closed topic", parent_contact=people["erik"], status="qualified")
    orphan = LeadFactory(topic="Orphan lead", parent_contact=None, telemarketing_ready=True)

    assert set(ids(admin_api.get("/api/v1/leads", {"status": "open"}))) == {
        open_ready.pk,
        open_not_ready.pk,
        orphan.pk,
    }
    assert ids(admin_api.get("/api/v1/leads", {"status": "qualified"})) == [qualified.pk]
    assert ids(admin_api.get("/api/v1/leads", {"sales_ready": "true"})) == [open_ready.pk]
    assert set(ids(admin_api.get("/api/v1/leads", {"sales_ready": "false"}))) == {
        open_not_ready.pk,
        qualified.pk,
        orphan.pk,
    }
    assert ids(admin_api.get("/api/v1/leads", {"telemarketing_ready": "yes"})) == [orphan.pk]
    # orphan leads: no parent contact
    assert ids(admin_api.get("/api/v1/leads", {"parent_contact": "none"})) == [orphan.pk]
    assert set(ids(admin_api.get("/api/v1/leads", {"parent_contact": people["anna"].pk}))) == {
        open_ready.pk,
        open_not_ready.pk,
    }
    # filters combine
    assert ids(
        admin_api.get(
            "/api/v1/leads",
            {"status": "open", "parent_contact": people["anna"].pk, "sales_ready": "false"},
        )
    ) == [open_not_ready.pk]
    # with search too
    assert ids(admin_api.get("/api/v1/leads", {"q": "closed", "status": "open"})) == []
    assert ids(admin_api.get("/api/v1/leads", {"q": "closed", "status": "qualified"})) == [
        qualified.pk
    ]


def test_lead_filter_by_account_including_none(admin_api, people):
    with_account = LeadFactory(parent_contact=people["anna"])
    without = LeadFactory(parent_contact=people["maja"])
    assert ids(admin_api.get("/api/v1/leads", {"parent_account": people["anna"].account_id})) == [
        with_account.pk
    ]
    assert ids(admin_api.get("/api/v1/leads", {"parent_account": "none"})) == [without.pk]


def test_contact_filters(admin_api, people):
    assert ids(admin_api.get("/api/v1/contacts", {"marketing_only": "true"})) == [people["erik"].pk]
    assert ids(admin_api.get("/api/v1/contacts", {"role": "decision_maker"})) == [people["anna"].pk]
    assert ids(admin_api.get("/api/v1/contacts", {"account": "none"})) == [people["maja"].pk]
    assert ids(admin_api.get("/api/v1/contacts", {"account": people["erik"].account_id})) == [
        people["erik"].pk
    ]


def test_account_opportunity_and_task_filters(admin_api, people):
    assert ids(admin_api.get("/api/v1/accounts", {"min_employees": 100})) == [
        people["anna"].account_id
    ]
    assert ids(admin_api.get("/api/v1/accounts", {"industry": "energy"})) == [
        people["erik"].account_id
    ]
    small = OpportunityFactory(value=100, stage="won")
    big = OpportunityFactory(value=5000, stage="propose")
    assert ids(admin_api.get("/api/v1/opportunities", {"min_value": "1000"})) == [big.pk]
    assert ids(admin_api.get("/api/v1/opportunities", {"stage": "won"})) == [small.pk]
    seller = UserFactory()
    mine = TaskFactory(assignee=seller, queue="")
    queued = TaskFactory(queue="telemarketing")
    done = TaskFactory(queue="sales", done=True, done_at=timezone.now())
    assert ids(admin_api.get("/api/v1/tasks", {"assignee": seller.pk})) == [mine.pk]
    assert set(ids(admin_api.get("/api/v1/tasks", {"assignee": "none"}))) == {queued.pk, done.pk}
    assert ids(admin_api.get("/api/v1/tasks", {"done": "true"})) == [done.pk]
    assert ids(admin_api.get("/api/v1/tasks", {"queue": "telemarketing"})) == [queued.pk]


# Sort ----------------------------------------------------------------------------------------


def test_sort_ascending_and_descending(admin_api, people):
    by_last = ["maja", "anna", "erik"]  # Andersson, Berg, Nowak
    assert ids(admin_api.get("/api/v1/contacts", {"sort": "last_name"})) == [
        people[n].pk for n in by_last
    ]
    assert ids(admin_api.get("/api/v1/contacts", {"sort": "-last_name"})) == [
        people[n].pk for n in reversed(by_last)
    ]


def test_default_sorts(admin_api, people):
    # contacts by last name, leads newest first
    assert ids(admin_api.get("/api/v1/contacts")) == [
        people[n].pk for n in ("maja", "anna", "erik")
    ]
    old, new = LeadFactory(topic="old"), LeadFactory(topic="new")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    assert ids(admin_api.get("/api/v1/leads")) == [new.pk, old.pk]


def test_sort_ties_are_broken_by_id_in_the_same_direction(admin_api):
    leads = [LeadFactory(topic="Same") for _ in range(3)]
    asc = ids(admin_api.get("/api/v1/leads", {"sort": "topic"}))
    desc = ids(admin_api.get("/api/v1/leads", {"sort": "-topic"}))
    assert asc == [lead.pk for lead in leads]
    assert desc == list(reversed(asc))


def test_opportunities_sort_by_value(admin_api):
    values = [300, 100, 200]
    opportunities = {v: OpportunityFactory(value=v) for v in values}
    assert ids(admin_api.get("/api/v1/opportunities", {"sort": "value"})) == [
        opportunities[v].pk for v in (100, 200, 300)
    ]
    assert ids(admin_api.get("/api/v1/opportunities", {"sort": "-value"})) == [
        opportunities[v].pk for v in (300, 200, 100)
    ]


# Pages ---------------------------------------------------------------------------------------


def test_pagination(admin_api):
    leads = [LeadFactory(topic=f"Topic {i:02d}") for i in range(7)]
    expected = [lead.pk for lead in leads]
    seen = []
    for page in (1, 2, 3):
        body = admin_api.get(
            "/api/v1/leads", {"sort": "topic", "page_size": 3, "page": page}
        ).json()
        assert body["count"] == 7
        assert (body["page"], body["page_size"]) == (page, 3)
        seen += [item["id"] for item in body["items"]]
    assert seen == expected
    beyond = admin_api.get("/api/v1/leads", {"page_size": 3, "page": 4}).json()
    assert beyond["items"] == [] and beyond["count"] == 7


def test_page_count_follows_filters(admin_api):
    LeadFactory.create_batch(4, status="open")
    LeadFactory.create_batch(2, status="disqualified")
    body = admin_api.get("/api/v1/leads", {"status": "disqualified", "page_size": 1}).json()
    assert body["count"] == 2 and len(body["items"]) == 1


def test_default_page_size_is_25(admin_api):
    AccountFactory.create_batch(30)
    body = admin_api.get("/api/v1/accounts").json()
    assert (body["count"], body["page_size"], len(body["items"])) == (30, 25, 25)


# History -------------------------------------------------------------------------------------


def test_history_lists_who_changed_what_newest_first(api_client):
    admin = api_client("administrator")
    created = admin.post(
        "/api/v1/contacts",
        {"email": "anna@example.com", "job_title": "CTO"},
        content_type="application/json",
    ).json()
    admin.patch(
        f"/api/v1/contacts/{created['id']}", {"job_title": "CEO"}, content_type="application/json"
    )

    response = api_client("marketer").get(f"/api/v1/contacts/{created['id']}/history")

    assert response.status_code == 200
    entries = response.json()
    assert [e["action"] for e in entries] == ["update", "create"]
    assert all(e["actor"] == "administrator-user" for e in entries)
    assert entries[0]["changes"] == {"job_title": ["CTO", "CEO"]}
    assert entries[1]["changes"]["email"] == [None, "anna@example.com"]
    assert all(e["at"] for e in entries)


def test_history_of_a_record_changed_by_the_system_has_no_actor(admin_api):
    from leadcycle.crm.services import account_create

    account = account_create(by=None, data={"name": "System made"})
    [entry] = admin_api.get(f"/api/v1/accounts/{account.pk}/history").json()
    assert entry["action"] == "create" and entry["actor"] is None


def test_history_is_only_the_records_own(admin_api):
    first = admin_api.post(
        "/api/v1/accounts", {"name": "First"}, content_type="application/json"
    ).json()
    admin_api.post("/api/v1/accounts", {"name": "Second"}, content_type="application/json")
    entries = admin_api.get(f"/api/v1/accounts/{first['id']}/history").json()
    assert len(entries) == 1 and entries[0]["changes"]["name"] == [None, "First"]


def test_history_of_a_deleted_record_is_404(admin_api):
    account = admin_api.post(
        "/api/v1/accounts", {"name": "Gone"}, content_type="application/json"
    ).json()
    admin_api.delete(f"/api/v1/accounts/{account['id']}")
    response = admin_api.get(f"/api/v1/accounts/{account['id']}/history")
    assert response.status_code == 404


def test_interactions_are_listed_by_contact(admin_api, people):
    mine = InteractionFactory(contact=people["anna"], kind="email_clicked")
    InteractionFactory(contact=people["erik"])
    assert ids(admin_api.get("/api/v1/interactions", {"contact": people["anna"].pk})) == [mine.pk]


# Query counts --------------------------------------------------------------------------------


def _count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (
            "/api/v1/leads",
            lambda: LeadFactory(
                parent_contact=ContactFactory(account=AccountFactory()), owner=UserFactory()
            ),
        ),
        ("/api/v1/contacts", lambda: ContactFactory(account=AccountFactory(), owner=UserFactory())),
        ("/api/v1/accounts", lambda: AccountFactory(owner=UserFactory())),
        (
            "/api/v1/opportunities",
            lambda: OpportunityFactory(lead=LeadFactory(), account=AccountFactory()),
        ),
        ("/api/v1/tasks", lambda: TaskFactory(assignee=UserFactory(), lead=LeadFactory())),
    ],
)
def test_list_query_count_does_not_grow_with_rows(admin_api, path, make):
    make()
    admin_api.get(path)  # warm up: token "last used" stamp and permission cache
    few = _count_queries(admin_api, path)
    for _ in range(12):
        make()
    assert _count_queries(admin_api, path) == few
