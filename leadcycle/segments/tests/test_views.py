"""The segment pages: list, editor with its live count, the members page, CSV export."""

import json

import pytest

from leadcycle.segments.models import Segment
from leadcycle.segments.tests.test_segments import CONTOSO
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_a_marketer_writes_a_segment_sees_its_count_takes_it_live_and_exports_it(ui_client):
    ada = ContactFactory(role="decision_maker", email="ada@example.com", first_name="Ada")
    LeadFactory(parent_contact=ada, topic="Contoso Ltd Conference")
    ContactFactory(role="other")
    marketer = ui_client("marketer")
    assert "New segment" in marketer.get("/segments/").content.decode()
    count = marketer.post(
        "/segments/count/", {"query": json.dumps(CONTOSO)}, headers={"HX-Request": "true"}
    )
    assert "1 contact now" in count.content.decode()
    bad = marketer.post(
        "/segments/count/",
        {"query": '{"all": [{"field": "salary"}]}'},
        headers={"HX-Request": "true"},
    )
    assert "query.all.0.field" in bad.content.decode()
    saved = marketer.post(
        "/segments/new/", {"name": "Contoso DMs", "kind": "dynamic", "query": json.dumps(CONTOSO)}
    )
    segment = Segment.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/segments/{segment.pk}/"
    marketer.post(f"/segments/{segment.pk}/go-live/")
    page = marketer.get(f"/segments/{segment.pk}/").content.decode()
    assert "ada@example.com" in page and "joined" in page
    export = b"".join(marketer.get(f"/segments/{segment.pk}/members.csv").streaming_content)
    lines = export.decode("utf-8-sig").splitlines()
    assert lines[0] == "contact_id,email,first_name,last_name,member_since"
    assert lines[1].startswith(f"{ada.pk},ada@example.com,Ada,") and len(lines) == 2


def test_other_roles_read_segments_but_do_not_change_them(ui_client):
    seller = ui_client("seller")
    assert seller.get("/segments/").status_code == 200
    assert seller.post("/segments/new/", {"name": "X"}).status_code == 403


BUILDER = {
    "name": "Contoso DMs",
    "kind": "dynamic",
    "mode": "builder",
    "op": "all",
    "row-0-type": "contact",
    "row-0-field": "role",
    "row-0-op": "eq",
    "row-0-value": "decision_maker",
    "row-1-type": "lead",
    "row-1-has": "yes",
    "row-1-inner": "all",
    "row-1-where-0-field": "topic",
    "row-1-where-0-op": "eq",
    "row-1-where-0-value": "Contoso Ltd Conference",
}


def test_the_tree_builder_saves_the_query_it_shows(ui_client):
    marketer = ui_client("marketer")
    editor = marketer.get("/segments/new/").content.decode()
    # The example opens in the builder, not as JSON
    assert 'name="row-1-where-0-value" value="Contoso Ltd Conference"' in editor
    saved = marketer.post("/segments/new/", BUILDER)
    assert saved.status_code == 302
    assert Segment.objects.get().query == CONTOSO


def test_the_builder_adds_rows_and_points_at_the_input_at_fault(ui_client):
    marketer = ui_client("marketer")
    hx = {"HX-Request": "true"}
    added = marketer.post("/segments/tree/", {**BUILDER, "edit": "add-interaction"}, headers=hx)
    html = added.content.decode()
    assert 'name="row-2-kind"' in html and 'name="row-2-count"' in html
    bad = marketer.post(
        "/segments/count/",
        {
            **BUILDER,
            "row-2-type": "interaction",
            "row-2-kind": "email_clicked",
            "row-2-count": "many",
        },
        headers=hx,
    ).content.decode()
    assert 'id="err-row-2-count"' in bad and "A whole number" in bad
    gone = marketer.post("/segments/tree/", {**BUILDER, "edit": "remove-row-0"}, headers=hx)
    assert 'name="row-0-type" value="lead"' in gone.content.decode()


NESTED = {
    "all": [
        {"field": "role", "op": "eq", "value": "decision_maker"},
        {
            "any": [
                {
                    "lead": {
                        "all": [{"field": "topic", "op": "eq", "value": "Contoso Ltd Conference"}]
                    }
                },
                {"none": [{"field": "country", "op": "eq", "value": "NO"}]},
            ]
        },
    ]
}


def test_the_builder_draws_nested_groups_and_reads_back_what_it_drew(ui_client):
    marketer = ui_client("marketer")
    segment = Segment.objects.create(name="Nested", query=NESTED)
    html = marketer.get(f"/segments/{segment.pk}/edit/").content.decode()
    # The second row is a group whose rows carry its path, the third level included
    assert 'name="row-1-type" value="group"' in html
    assert 'name="row-1.0-where-0-value" value="Contoso Ltd Conference"' in html
    assert 'name="row-1.1.0-value" value="NO"' in html
    assert 'name="mode" value="builder"' in html and "as-json" in html
    posted = {
        "name": "Nested", "kind": "dynamic", "mode": "builder", "op": "all",
        "row-0-type": "contact", "row-0-field": "role", "row-0-op": "eq",
        "row-0-value": "decision_maker",
        "row-1-type": "group", "row-1-inner": "any",
        "row-1.0-type": "lead", "row-1.0-has": "yes", "row-1.0-inner": "all",
        "row-1.0-where-0-field": "topic", "row-1.0-where-0-op": "eq",
        "row-1.0-where-0-value": "Contoso Ltd Conference",
        "row-1.1-type": "group", "row-1.1-inner": "none",
        "row-1.1.0-type": "contact", "row-1.1.0-field": "country", "row-1.1.0-op": "eq",
        "row-1.1.0-value": "NO",
    }  # fmt: skip
    assert marketer.post(f"/segments/{segment.pk}/edit/", posted).status_code == 302
    segment.refresh_from_db()
    assert segment.query == NESTED


def test_add_group_makes_a_group_that_takes_rows_and_errors_land_inside_it(ui_client):
    marketer = ui_client("marketer")
    hx = {"HX-Request": "true"}
    added = marketer.post("/segments/tree/", {**BUILDER, "edit": "add-group"}, headers=hx)
    html = added.content.decode()
    assert 'name="row-2-type" value="group"' in html
    assert 'value="add-contact-in-2"' in html and 'value="add-group-in-2"' in html
    with_row = marketer.post(
        "/segments/tree/",
        {**BUILDER, "row-2-type": "group", "row-2-inner": "any", "edit": "add-contact-in-2"},
        headers=hx,
    ).content.decode()
    assert 'name="row-2.0-field"' in with_row and 'aria-label="Row 3.1 field"' in with_row
    bad = marketer.post(
        "/segments/count/",
        {
            **BUILDER,
            "row-2-type": "group",
            "row-2-inner": "any",
            "row-2.0-type": "contact",
            "row-2.0-field": "marketing_only",
            "row-2.0-op": "eq",
            "row-2.0-value": "perhaps",
        },
        headers=hx,
    ).content.decode()
    assert 'id="err-row-2.0-value"' in bad
    assert "0 contacts" not in bad  # an error, not a count
    gone = marketer.post(
        "/segments/tree/",
        {**BUILDER, "row-2-type": "group", "row-2.0-type": "contact", "edit": "remove-row-2.0"},
        headers=hx,
    ).content.decode()
    assert 'name="row-2.0-type"' not in gone and "An empty group" in gone


def test_groups_stop_at_the_depth_the_builder_draws():
    from leadcycle.segments.builder import MAX_GROUP_DEPTH, Tree

    tree = Tree.from_json({"all": []})
    path = ""
    for _ in range(MAX_GROUP_DEPTH + 1):
        tree.edit(f"add-group-in-{path}" if path else "add-group")
        path = f"{path}.0" if path else "0"
    depth, rows = 0, tree.rows
    while rows:
        depth, rows = depth + 1, rows[0].children
    assert depth == MAX_GROUP_DEPTH
    deeper: dict = {"all": []}
    for _ in range(MAX_GROUP_DEPTH + 1):
        deeper = {"all": [deeper]}
    assert Tree.from_json(deeper) is None  # edited as JSON instead
