"""Hot read paths cost a fixed number of queries, however many rows a page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcycle.testing.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_lead_list_api_query_count_does_not_grow_with_page_size(admin_api):
    account = AccountFactory()
    for _ in range(30):
        LeadFactory(parent_contact=ContactFactory(account=account), parent_account=account)
    admin_api.get("/api/v1/me")  # the first use of a token stamps last_used_at once
    small = _queries(admin_api, "/api/v1/leads?page_size=2")
    large = _queries(admin_api, "/api/v1/leads?page_size=30")
    assert small == large


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/leads/", "/contacts/", "/accounts/", "/opportunities/", "/tasks/"])
def test_list_pages_query_count_does_not_grow_with_rows(client, path):
    admin = UserFactory(username="admin-q", role="administrator")
    client.force_login(admin)
    account = AccountFactory()
    LeadFactory(parent_contact=ContactFactory(account=account), parent_account=account)
    few = _queries(client, path)
    for _ in range(20):
        LeadFactory(parent_contact=ContactFactory(account=account), parent_account=account)
    many = _queries(client, path)
    assert many == few


@pytest.mark.django_db
def test_contact_page_query_count_is_fixed(client):
    admin = UserFactory(username="admin-c", role="administrator")
    client.force_login(admin)
    contact = ContactFactory(account=AccountFactory())
    LeadFactory(parent_contact=contact)
    few = _queries(client, f"/contacts/{contact.pk}/")
    for _ in range(15):
        LeadFactory(parent_contact=contact)
    many = _queries(client, f"/contacts/{contact.pk}/")
    assert many == few
