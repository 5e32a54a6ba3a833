import pytest

from leadcycle.crm.models import Contact, Lead


@pytest.mark.django_db
def test_lead_with_new_contact_is_created_and_linked(admin_api):
    # given an empty database, when a lead is posted with a new contact
    response = admin_api.post(
        "/api/v1/leads",
        {"topic": "Demo request", "contact": {"email": " Anna@Example.COM ", "first_name": "Anna"}},
        content_type="application/json",
    )
    # then both exist and are linked, the email kept normalised
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.parent_contact.email_normalized == "anna@example.com"
    assert response.json()["contact_created"] is True
    assert Contact.objects.count() == 1
