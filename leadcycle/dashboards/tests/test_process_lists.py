"""The role dashboards' business-process lists."""

import pytest

from leadcycle.process.services import steps_set
from leadcycle.testing.factories import LeadFactory

pytestmark = pytest.mark.django_db


def card(html, element_id):
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def test_each_role_sees_its_process_work_list(ui_client, role_user):
    seller = role_user("seller")
    call = LeadFactory(topic="Call me")
    steps_set(lead=call, by=None, values={"telemarketing_ready": True})
    waiting = LeadFactory(topic="Waiting for a seller")
    steps_set(lead=waiting, by=None, values={"sales_ready": True})
    mine = LeadFactory(topic="Accepted for the seller")
    steps_set(lead=mine, by=None, values={"sales_ready": True})
    steps_set(lead=mine, by=None, values={"owner": seller.pk, "sales_accepted": True})
    telemarketer = ui_client("telemarketer").get("/").content.decode()
    assert 'id="dash-telemarketing"' in telemarketer and "Call me" in telemarketer
    assert 'id="dash-unassigned"' not in telemarketer
    manager = ui_client("sales_manager").get("/").content.decode()
    section = card(manager, "dash-unassigned")
    assert "Waiting for a seller" in section and "Accepted for the seller" not in section
    seller_page = ui_client("seller").get("/").content.decode()
    section = card(seller_page, "dash-my-sales-ready")
    assert "Accepted for the seller" in section and "Waiting for a seller" not in section
