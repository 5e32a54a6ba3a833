"""The CRM pages, driven with Django's test client as a logged-in user of each role."""

import hashlib
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadcycle.audit.models import AuditEntry
from leadcycle.crm import services
from leadcycle.crm.models import Account, Contact, Lead, Opportunity, Task
from leadcycle.testing.expectations import ALLOWED
from leadcycle.testing.factories import (
    AccountFactory,
    ContactFactory,
    InteractionFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
    UserFactory,
)
from leadcycle.users.models import ApiToken

pytestmark = pytest.mark.django_db


MODELS = {
    "accounts": Account,
    "contacts": Contact,
    "leads": Lead,
    "opportunities": Opportunity,
    "tasks": Task,
}
MAKE = {
    "accounts": lambda: AccountFactory(name="Nordic Systems"),
    "contacts": lambda: ContactFactory(first_name="Anna", last_name="Berg"),
    "leads": lambda: LeadFactory(topic="Analytics webinar"),
    "opportunities": lambda: OpportunityFactory(name="Big deal"),
    "tasks": lambda: TaskFactory(subject="Call Anna"),
}
PAGES = {"list": "v", "detail": "v", "new": "a", "edit": "c"}


def page_text(response):
    return response.content.decode()


def near_field(html, name, message):
    """Whether ``message`` is shown between the input for ``name`` and its neighbours' inputs."""
    spots = [m.start() for m in re.finditer(r'name="([a-z_]+)"', html)]
    names = re.findall(r'name="([a-z_]+)"', html)
    if name not in names:
        return False
    i = names.index(name)
    start = spots[i - 1] if i > 0 else 0
    end = spots[i + 1] if i + 1 < len(spots) else len(html)
    return message in html[start:end]


# Who may open which page -------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("resource", MODELS)
@pytest.mark.parametrize("role", ALLOWED)
def test_page_access_per_role(ui_client, role, resource, page):
    record = MAKE[resource]()
    url = {
        "list": f"/{resource}/",
        "detail": f"/{resource}/{record.pk}/",
        "new": f"/{resource}/new/",
        "edit": f"/{resource}/{record.pk}/edit/",
    }[page]
    response = ui_client(role).get(url)
    if PAGES[page] in ALLOWED[role][resource]:
        assert response.status_code == 200, (url, response.status_code)
        if page in ("list", "detail", "edit"):
            assert str(record) in page_text(response)
    else:
        assert response.status_code == 403, (url, response.status_code)


@pytest.mark.parametrize("resource", MODELS)
@pytest.mark.parametrize("role", ALLOWED)
def test_delete_per_role(ui_client, role, resource):
    record = MAKE[resource]()
    response = ui_client(role).post(f"/{resource}/{record.pk}/delete/")
    exists = MODELS[resource].objects.filter(pk=record.pk).exists()
    if "d" in ALLOWED[role][resource]:
        assert response.status_code == 302
        assert response["Location"] == f"/{resource}/"
        assert not exists
        deletions = AuditEntry.objects.filter(
            record_type=record._meta.label_lower, record_id=record.pk, action="delete"
        )
        assert deletions.count() == 1
    else:
        assert response.status_code == 403
        assert exists


@pytest.mark.parametrize(
    ("role", "resource", "data"),
    [
        ("marketer", "opportunities", {"name": "Sneaky", "value": "1", "stage": "qualify"}),
        (
            "telemarketer",
            "contacts",
            {"email": "x@example.com", "role": "other", "consent": "unknown"},
        ),
        ("telemarketer", "leads", {"topic": "X", "status": "open", "source_channel": "manual"}),
        ("telemarketer", "accounts", {"name": "X"}),
    ],
)
def test_forbidden_create_by_form_writes_nothing(ui_client, role, resource, data):
    model = MODELS[resource]
    response = ui_client(role).post(f"/{resource}/new/", data)
    assert response.status_code == 403
    assert not model.objects.exists()
    assert not AuditEntry.objects.exists()


def test_forbidden_edit_by_form_changes_nothing(ui_client):
    account = AccountFactory(name="Kept")
    response = ui_client("telemarketer").post(f"/accounts/{account.pk}/edit/", {"name": "Changed"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Kept"


@pytest.mark.parametrize("url", ["/", "/leads/", "/contacts/1/", "/tokens/", "/accounts/new/"])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert f"next={url}" in response["Location"].replace("%2F", "/")


def test_login_page_logs_in(client, role_user):
    role_user("seller")
    response = client.post("/login/", {"username": "seller-user", "password": "pw-for-tests-123"})
    assert response.status_code == 302
    assert client.get("/leads/").status_code == 200


def test_menu_shows_only_what_the_role_may_see(ui_client):
    html = page_text(ui_client("telemarketer").get("/leads/"))
    assert 'href="/leads/"' in html and 'href="/tasks/"' in html
    assert 'href="/opportunities/"' not in html


def test_new_button_only_for_roles_that_may_add(ui_client):
    assert 'href="/accounts/new/"' not in page_text(ui_client("telemarketer").get("/accounts/"))
    assert 'href="/accounts/new/"' in page_text(ui_client("seller").get("/accounts/"))
    assert 'href="/opportunities/new/"' not in page_text(
        ui_client("marketer").get("/opportunities/")
    )


def test_record_page_offers_only_the_allowed_actions(ui_client):
    contact = ContactFactory()
    telemarketer = page_text(ui_client("telemarketer").get(f"/contacts/{contact.pk}/"))
    assert f"/contacts/{contact.pk}/edit/" in telemarketer
    assert f"/contacts/{contact.pk}/delete/" not in telemarketer
    marketer = page_text(ui_client("marketer").get(f"/contacts/{contact.pk}/"))
    assert f"/contacts/{contact.pk}/delete/" in marketer


# The contact page: the 360° view ------------------------------------------------------------


@pytest.fixture
def anna():
    admin = UserFactory(username="boss", role="administrator")
    contact = services.contact_create(
        by=admin,
        data={
            "first_name": "Anna",
            "last_name": "Berg",
            "email": "anna@example.com",
            "job_title": "CTO",
        },
    )
    services.contact_update(
        contact=contact, by=admin, data={"job_title": "Chief Technology Officer"}
    )
    webinar = LeadFactory(
        parent_contact=contact, topic="Analytics webinar", campaign="Spring Webinar Series"
    )
    LeadFactory(parent_contact=contact, topic="Trade fair Stockholm")
    OpportunityFactory(lead=webinar, contact=contact, name="Analytics Suite deal")
    InteractionFactory(
        contact=contact, kind="email_clicked", campaign="Newsletter Q3", lead=webinar
    )
    TaskFactory(contact=contact, subject="Call Anna back")
    return contact


def test_contact_page_shows_leads_interactions_opportunities_tasks_and_history(ui_client, anna):
    response = ui_client("administrator").get(f"/contacts/{anna.pk}/")
    html = page_text(response)
    assert response.status_code == 200
    for text in (
        "Analytics webinar",
        "Trade fair Stockholm",
        "Analytics Suite deal",
        "Email clicked",
        "Newsletter Q3",
        "Call Anna back",
        "anna@example.com",
    ):
        assert text in html, text
    # the history: who created and changed it, and what changed
    assert "boss" in html
    assert "job_title" in html and "CTO" in html and "Chief Technology Officer" in html


def test_contact_page_hides_opportunities_from_a_role_that_may_not_see_them(ui_client, anna):
    html = page_text(ui_client("telemarketer").get(f"/contacts/{anna.pk}/"))
    assert "Analytics webinar" in html
    assert "Analytics Suite deal" not in html


def test_lead_page_shows_its_contact_other_leads_and_history(ui_client, anna):
    lead = anna.leads.get(topic="Analytics webinar")
    services.lead_update(lead=lead, by=None, data={"sales_ready": True})
    html = page_text(ui_client("seller").get(f"/leads/{lead.pk}/"))
    assert "Anna Berg" in html and "Trade fair Stockholm" in html
    assert "sales_ready" in html


@pytest.mark.parametrize("resource", ["accounts", "opportunities", "tasks"])
def test_record_pages_show_their_history(ui_client, resource):
    admin = UserFactory(username="boss", role="administrator")
    create, update = {
        "accounts": (
            lambda: services.account_create(
                by=admin, data={"name": "Nordic", "industry": "Retail"}
            ),
            lambda r: services.account_update(account=r, by=admin, data={"industry": "Energy"}),
        ),
        "opportunities": (
            lambda: services.opportunity_create(by=admin, data={"name": "Deal", "value": 10}),
            lambda r: services.opportunity_update(
                opportunity=r, by=admin, data={"stage": "propose"}
            ),
        ),
        "tasks": (
            lambda: services.task_create(by=admin, data={"subject": "Call", "queue": "sales"}),
            lambda r: services.task_update(task=r, by=admin, data={"subject": "Call again"}),
        ),
    }[resource]
    record = create()
    update(record)
    html = page_text(ui_client("administrator").get(f"/{resource}/{record.pk}/"))
    assert "boss" in html
    assert {"accounts": "Energy", "opportunities": "propose", "tasks": "Call again"}[
        resource
    ] in html
    assert {"accounts": "industry", "opportunities": "stage", "tasks": "subject"}[resource] in html


# Forms ----------------------------------------------------------------------------------------

CONTACT_FORM = {
    "first_name": "Anna",
    "last_name": "Berg",
    "email": "anna@example.com",
    "role": "other",
    "consent": "unknown",
}


def test_create_contact_by_form(ui_client):
    response = ui_client("marketer").post("/contacts/new/", CONTACT_FORM)
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert (contact.first_name, contact.email_normalized) == ("Anna", "anna@example.com")
    entry = AuditEntry.objects.get(record_type="crm.contact", record_id=contact.pk)
    assert entry.action == "create" and entry.actor.username == "marketer-user"
    assert contact.owner.username == "marketer-user"


def test_created_contact_page_confirms_the_creation(ui_client):
    client = ui_client("marketer")
    response = client.post("/contacts/new/", CONTACT_FORM, follow=True)
    assert response.status_code == 200
    assert "created" in page_text(response)


def test_invalid_email_in_form_is_shown_next_to_the_field_and_nothing_is_written(ui_client):
    response = ui_client("marketer").post("/contacts/new/", {**CONTACT_FORM, "email": "anna@"})
    assert response.status_code == 422
    html = page_text(response)
    assert "Enter a valid email address." in html
    assert near_field(html, "email", "Enter a valid email address.")
    assert 'value="Berg"' in html  # what the user typed is kept
    assert not Contact.objects.exists()
    assert not AuditEntry.objects.exists()


def test_duplicate_email_in_form_is_shown_next_to_the_field(ui_client):
    ContactFactory(email="anna@example.com")
    response = ui_client("marketer").post(
        "/contacts/new/", {**CONTACT_FORM, "email": " ANNA@example.com"}
    )
    assert response.status_code == 422
    assert near_field(page_text(response), "email", services.DUPLICATE_EMAIL)
    assert Contact.objects.count() == 1


def test_missing_required_field_in_form_is_shown_next_to_it(ui_client):
    response = ui_client("seller").post(
        "/leads/new/", {"topic": "", "status": "open", "source_channel": "manual"}
    )
    assert response.status_code == 422
    assert near_field(page_text(response), "topic", "This field is required.")
    assert not Lead.objects.exists()


def test_htmx_form_submission_gets_the_form_fragment_or_a_redirect_header(ui_client):
    client = ui_client("marketer")
    bad = client.post(
        "/contacts/new/", {**CONTACT_FORM, "email": "nope"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 422 and "<html" not in page_text(bad)
    good = client.post("/contacts/new/", CONTACT_FORM, headers={"HX-Request": "true"})
    contact = Contact.objects.get()
    assert good.status_code == 204
    assert good["HX-Redirect"] == f"/contacts/{contact.pk}/"


LEAD_FORM = {"topic": "Demo request", "status": "open", "source_channel": "manual"}


def test_lead_form_with_new_contact_creates_both(ui_client):
    response = ui_client("seller").post(
        "/leads/new/",
        {
            **LEAD_FORM,
            "new_contact_email": "New.Person@Example.com",
            "new_contact_first_name": "New",
            "new_contact_last_name": "Person",
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert lead.parent_contact.email_normalized == "new.person@example.com"
    assert lead.parent_contact.full_name == "New Person"
    assert set(AuditEntry.objects.values_list("record_type", flat=True)) == {
        "crm.lead",
        "crm.contact",
    }


def test_lead_form_with_the_email_of_an_existing_contact_links_it(ui_client):
    anna = ContactFactory(email="anna@example.com")
    ui_client("seller").post("/leads/new/", {**LEAD_FORM, "new_contact_email": "ANNA@example.com"})
    assert Contact.objects.count() == 1
    assert Lead.objects.get().parent_contact == anna


def test_lead_form_linking_an_existing_contact(ui_client):
    anna = ContactFactory(account=AccountFactory())
    response = ui_client("seller").post("/leads/new/", {**LEAD_FORM, "parent_contact": anna.pk})
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.parent_contact, lead.parent_account) == (anna, anna.account)


def test_lead_form_with_invalid_new_contact_email_writes_nothing(ui_client):
    response = ui_client("seller").post("/leads/new/", {**LEAD_FORM, "new_contact_email": "bad@"})
    assert response.status_code == 422
    assert near_field(page_text(response), "new_contact_email", "Enter a valid email address.")
    assert not Lead.objects.exists() and not Contact.objects.exists()


def test_editing_a_contact_records_before_and_after_shown_on_its_page(ui_client):
    client = ui_client("telemarketer")
    contact = ContactFactory(
        first_name="Anna", last_name="Berg", email="anna@example.com", job_title="CTO"
    )
    form = {**CONTACT_FORM, "job_title": "Head of IT"}
    # when the telemarketer changes only the job title
    response = client.post(f"/contacts/{contact.pk}/edit/", form)
    assert response.status_code == 302
    # then one update entry holds only that change, and the page shows it
    entry = AuditEntry.objects.get(record_id=contact.pk, action="update")
    assert entry.changes == {"job_title": ["CTO", "Head of IT"]}
    assert entry.actor.username == "telemarketer-user"
    html = page_text(client.get(f"/contacts/{contact.pk}/"))
    assert "job_title" in html and "CTO" in html and "Head of IT" in html


def test_saving_an_unchanged_form_records_nothing(ui_client):
    contact = ContactFactory(**{k: v for k, v in CONTACT_FORM.items()})
    response = ui_client("marketer").post(f"/contacts/{contact.pk}/edit/", CONTACT_FORM)
    assert response.status_code == 302
    assert not AuditEntry.objects.exists()


def test_editing_with_a_bad_email_changes_nothing(ui_client):
    contact = ContactFactory(**CONTACT_FORM)
    response = ui_client("marketer").post(
        f"/contacts/{contact.pk}/edit/", {**CONTACT_FORM, "email": "x@"}
    )
    assert response.status_code == 422
    contact.refresh_from_db()
    assert contact.email == "anna@example.com"
    assert not AuditEntry.objects.exists()


def test_disqualifying_a_lead_with_an_opportunity_shows_the_reason(ui_client):
    lead = LeadFactory(status="qualified")
    OpportunityFactory(lead=lead)
    response = ui_client("sales_manager").post(
        f"/leads/{lead.pk}/edit/",
        {
            "topic": lead.topic,
            "status": "disqualified",
            "source_channel": lead.source_channel,
        },
    )
    assert response.status_code == 422
    assert "opportunity" in page_text(response)
    lead.refresh_from_db()
    assert lead.status == "qualified"


def test_deleting_a_lead_with_an_opportunity_explains_why_not(ui_client):
    lead = LeadFactory()
    OpportunityFactory(lead=lead)
    response = ui_client("administrator").post(f"/leads/{lead.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "cannot be deleted" in page_text(response)
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_new_lead_form_is_prefilled_from_the_contact_page_link(ui_client):
    anna = ContactFactory(first_name="Anna", last_name="Berg")
    html = page_text(ui_client("seller").get(f"/leads/new/?parent_contact={anna.pk}"))
    assert "Anna Berg" in html


def test_record_picker_finds_contacts(ui_client):
    ContactFactory(first_name="Anna", last_name="Berg", email="anna@example.com")
    ContactFactory(first_name="Erik", last_name="Nowak")
    html = page_text(ui_client("seller").get("/pick/contacts/", {"q": "anna"}))
    assert "Anna Berg" in html and "Erik" not in html


def test_record_picker_respects_roles(ui_client):
    assert ui_client("telemarketer").get("/pick/leads/", {"q": "x"}).status_code == 200
    user = UserFactory(username="nobody")  # a user without any role
    client = Client()
    client.force_login(user)
    assert client.get("/pick/contacts/", {"q": "x"}).status_code == 403


# Lists ----------------------------------------------------------------------------------------


def test_list_search_filter_and_sort(ui_client):
    LeadFactory(topic="Alpha webinar", status="open")
    LeadFactory(topic="Beta webinar", status="open")
    LeadFactory(topic="Gamma webinar", status="disqualified")
    LeadFactory(topic="Trade fair", status="open")
    client = ui_client("seller")

    html = page_text(client.get("/leads/", {"q": "webinar", "status": "open", "sort": "-topic"}))
    assert "Gamma webinar" not in html and "Trade fair" not in html
    assert html.index("Beta webinar") < html.index("Alpha webinar")

    html = page_text(client.get("/leads/", {"q": "webinar", "sort": "topic"}))
    assert html.index("Alpha webinar") < html.index("Beta webinar") < html.index("Gamma webinar")


def test_list_pages(ui_client):
    for i in range(30):
        AccountFactory(name=f"Account {i:02d}")
    client = ui_client("seller")
    first = page_text(client.get("/accounts/", {"sort": "name"}))
    second = page_text(client.get("/accounts/", {"sort": "name", "page": 2}))
    assert "Account 00" in first and "Account 24" in first and "Account 25" not in first
    assert "Account 25" in second and "Account 29" in second and "Account 00" not in second


def test_htmx_list_request_gets_only_the_table(ui_client):
    LeadFactory(topic="Alpha webinar")
    client = ui_client("seller")
    full = page_text(client.get("/leads/"))
    partial = client.get("/leads/", {"q": "alpha"}, headers={"HX-Request": "true"})
    html = page_text(partial)
    assert partial.status_code == 200
    assert "<html" in full
    assert "<html" not in html and "<body" not in html and "<nav" not in html
    assert "Alpha webinar" in html and "<table" in html


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"sort": "password"}, "sort"),
        ({"status": "won"}, "status"),
        ({"sales_ready": "maybe"}, "sales_ready"),
        ({"page": "abc"}, "page"),
    ],
)
def test_bad_list_parameters_show_an_error_not_a_crash(ui_client, params, param):
    LeadFactory(topic="Still listed")
    response = ui_client("seller").get("/leads/", params)
    assert 400 <= response.status_code < 500
    html = page_text(response)
    assert param in html
    assert "Still listed" in html  # the unfiltered list is shown below the error


def test_bad_list_parameter_with_htmx_also_shows_the_error(ui_client):
    response = ui_client("seller").get("/leads/", {"sort": "nope"}, headers={"HX-Request": "true"})
    assert 400 <= response.status_code < 500
    assert "sort" in page_text(response)


# Tokens page ----------------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_only_as_its_digest(ui_client):
    client = ui_client("seller")
    response = client.post("/tokens/", {"name": "website integration"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    raw = re.search(r"lc_[A-Za-z0-9_-]{20,}", page_text(response)).group(0)
    # stored: a digest, never the raw value
    assert token.digest != raw and raw not in token.digest and raw not in token.prefix + token.name
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.name == "website integration" and token.user.username == "seller-user"
    # it works on the API
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/leads").status_code == 200
    # and it is never shown again
    again = page_text(client.get("/tokens/"))
    assert raw not in again and "website integration" in again


def test_revoking_a_token_on_the_tokens_page(ui_client):
    client = ui_client("seller")
    raw = re.search(
        r"lc_[A-Za-z0-9_-]{20,}", page_text(client.post("/tokens/", {"name": "t"}))
    ).group(0)
    token = ApiToken.objects.get()
    response = client.post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/leads").status_code == 401
    )
    assert "revoked" in page_text(client.get("/tokens/"))


def test_nobody_can_revoke_another_users_token(ui_client):
    ui_client("seller").post("/tokens/", {"name": "mine"})
    token = ApiToken.objects.get()
    response = ui_client("marketer").post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_page_lists_only_the_users_own_tokens(ui_client):
    ui_client("seller").post("/tokens/", {"name": "seller token"})
    html = page_text(ui_client("marketer").get("/tokens/"))
    assert "seller token" not in html


# Query counts --------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("url", "make"),
    [
        (
            "/leads/",
            lambda: LeadFactory(
                parent_contact=ContactFactory(account=AccountFactory()), owner=UserFactory()
            ),
        ),
        ("/contacts/", lambda: ContactFactory(account=AccountFactory(), owner=UserFactory())),
        ("/accounts/", lambda: AccountFactory(owner=UserFactory())),
        (
            "/opportunities/",
            lambda: OpportunityFactory(account=AccountFactory(), contact=ContactFactory()),
        ),
        (
            "/tasks/",
            lambda: TaskFactory(
                assignee=UserFactory(), lead=LeadFactory(), contact=ContactFactory()
            ),
        ),
    ],
)
def test_list_page_query_count_does_not_grow_with_rows(ui_client, url, make):
    client = ui_client("administrator")
    make()
    client.get(url)
    few = _queries(client, url)
    for _ in range(10):
        make()
    assert _queries(client, url) == few


def test_contact_page_query_count_does_not_grow_with_its_records(ui_client):
    client = ui_client("administrator")
    contact = ContactFactory(account=AccountFactory())
    admin = UserFactory(role="administrator")

    def add_activity():
        lead = LeadFactory(parent_contact=contact, owner=UserFactory())
        OpportunityFactory(lead=lead, contact=contact, account=contact.account, owner=UserFactory())
        InteractionFactory(contact=contact, lead=lead)
        TaskFactory(contact=contact, lead=lead, assignee=UserFactory())
        services.contact_update(
            contact=contact, by=admin, data={"job_title": f"Title {Lead.objects.count()}"}
        )

    add_activity()
    url = f"/contacts/{contact.pk}/"
    client.get(url)
    few = _queries(client, url)
    for _ in range(8):
        add_activity()
    assert _queries(client, url) == few


@pytest.mark.parametrize("resource", ["leads", "accounts", "opportunities", "tasks"])
def test_record_page_query_count_does_not_grow(ui_client, resource):
    client = ui_client("administrator")
    account = AccountFactory()
    contact = ContactFactory(account=account)
    record = {
        "leads": lambda: LeadFactory(parent_contact=contact),
        "accounts": lambda: account,
        "opportunities": lambda: OpportunityFactory(
            account=account, contact=contact, lead=LeadFactory()
        ),
        "tasks": lambda: TaskFactory(contact=contact, lead=LeadFactory(parent_contact=contact)),
    }[resource]()

    def grow():
        lead = LeadFactory(parent_contact=contact, parent_account=account)
        InteractionFactory(contact=contact, lead=record if resource == "leads" else lead)
        TaskFactory(lead=record if resource == "leads" else lead, assignee=UserFactory())
        ContactFactory(account=account)
        OpportunityFactory(account=account, contact=ContactFactory(), lead=lead)

    grow()
    url = f"/{resource}/{record.pk}/"
    client.get(url)
    few = _queries(client, url)
    for _ in range(6):
        grow()
    assert _queries(client, url) == few


# Safety ---------------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_refused(role_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user("marketer"))
    response = client.post("/contacts/new/", CONTACT_FORM)
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_names_typed_by_users_are_shown_as_text_not_markup(ui_client):
    evil = "<script>alert(1)</script>"
    admin = UserFactory(role="administrator")
    contact = services.contact_create(by=admin, data={"first_name": evil, "job_title": "CTO"})
    services.contact_update(contact=contact, by=admin, data={"job_title": evil})
    LeadFactory(parent_contact=contact, topic=evil)
    client = ui_client("administrator")
    for url in (f"/contacts/{contact.pk}/", "/contacts/", "/leads/", f"/leads/?q={evil}"):
        html = page_text(client.get(url))
        assert evil not in html, url
        assert "&lt;script&gt;" in html, url


def test_opportunity_form_from_a_lead_takes_the_leads_contact_and_account(ui_client):
    account = AccountFactory()
    lead = LeadFactory(parent_contact=ContactFactory(account=account), parent_account=account)
    response = ui_client("seller").post(
        "/opportunities/new/", {"name": "Deal", "lead": lead.pk, "value": "100", "stage": "qualify"}
    )
    assert response.status_code == 302
    opportunity = Opportunity.objects.get()
    assert (opportunity.contact_id, opportunity.account_id) == (lead.parent_contact_id, account.pk)


def test_saving_an_unchanged_task_form_records_nothing(ui_client):
    import datetime

    due = datetime.datetime(2026, 1, 1, 10, 0, 30, tzinfo=datetime.UTC)
    task = TaskFactory(due_at=due, queue="telemarketing")
    client = ui_client("administrator")
    shown = re.search(
        r'name="due_at" value="([^"]+)"', page_text(client.get(f"/tasks/{task.pk}/edit/"))
    )
    form = {
        "subject": task.subject,
        "kind": task.kind,
        "queue": task.queue,
        "due_at": shown.group(1),
    }
    assert client.post(f"/tasks/{task.pk}/edit/", form).status_code == 302
    task.refresh_from_db()
    assert task.due_at == due
    assert not AuditEntry.objects.exists()
