"""The intake staff pages, driven with Django's test client as a logged-in user of each role:
forms and their field builder with its live preview, submissions, strategies and settings."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadcycle.crm.models import Contact, Lead
from leadcycle.intake.models import FormField, IntakeSettings, MarketingForm, MatchingStrategy
from leadcycle.intake.services import demo_forms_create, form_field_create, form_submit
from leadcycle.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "builder"}

# Who may open which page, written out here rather than derived from users.roles.
# fmt: off
PAGE_ACCESS = {
    #                forms  form   new    edit   subs   strats strat+ strat~ settings
    "marketer":      (True, True,  True,  True,  True,  True,  False, False, False),
    "telemarketer":  (False, False, False, False, False, False, False, False, False),
    "seller":        (False, False, False, False, True,  False, False, False, False),
    "sales_manager": (True, True,  False, False, True,  True,  False, False, False),
    "administrator": (True, True,  True,  True,  True,  True,  True,  True,  True),
}
# fmt: on


def text(response):
    return response.content.decode()


def section(html, element_id):
    """The HTML of the element with ``element_id`` (up to its closing tag at the same depth)."""
    start = html.index(f'id="{element_id}"')
    start = html.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", html[start:]).group(1)
    depth, pos = 0, start
    for match in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            pos = start + match.end()
            break
    return html[start:pos]


def question_labels(html):
    return re.findall(
        r'<li class="question[^"]*" id="question-\d+">\s*<div class="q-main">\s*<b>([^<]+)</b>',
        html,
    )


def preview_names(html):
    """The input names the preview shows, in order (the honeypot left out)."""
    return [
        n for n in re.findall(r'name="([\w-]+)"', section(html, "preview")) if n != "website_url_hp"
    ]


@pytest.mark.parametrize("role", PAGE_ACCESS)
def test_each_role_opens_exactly_the_intake_pages_it_may(ui_client, make_form, role):
    # Given a form and a user with the role
    form = make_form()
    strategy = MatchingStrategy.objects.get(name="Contact by email")
    pages = [
        "/intake/forms/",
        f"/intake/forms/{form.pk}/",
        "/intake/forms/new/",
        f"/intake/forms/{form.pk}/edit/",
        f"/intake/forms/{form.pk}/submissions/",
        "/intake/strategies/",
        "/intake/strategies/new/",
        f"/intake/strategies/{strategy.pk}/edit/",
        "/intake/settings/",
    ]
    client = ui_client(role)

    # When the user opens each page, then it opens exactly when the role allows it
    got = tuple(client.get(url).status_code for url in pages)
    assert got == tuple(200 if ok else 403 for ok in PAGE_ACCESS[role]), list(
        zip(pages, got, strict=True)
    )


@pytest.mark.parametrize("role", PAGE_ACCESS)
def test_forbidden_roles_cannot_change_forms_by_posting(ui_client, make_form, role):
    # Given a form
    form = make_form()
    client = ui_client(role)

    # When the user posts a new question and a move
    added = client.post(
        f"/intake/forms/{form.pk}/fields/new/", {"label": "Phone", "key": "phone", "kind": "phone"}
    )
    moved = client.post(
        f"/intake/forms/{form.pk}/fields/{form.fields.last().pk}/move/", {"direction": "up"}
    )

    # Then only roles that change forms get through
    may_change = PAGE_ACCESS[role][3]
    assert (added.status_code, moved.status_code) == ((302, 302) if may_change else (403, 403))
    assert FormField.objects.filter(key="phone").exists() is may_change


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("marketer", ["Forms", "Strategies"]),
        ("sales_manager", ["Forms", "Strategies"]),
        ("administrator", ["Forms", "Strategies"]),
        ("seller", []),
        ("telemarketer", []),
    ],
)
def test_navigation_shows_forms_and_strategies_to_roles_that_may_see_them(ui_client, role, links):
    html = text(ui_client(role).get("/intake/forms/" if links else "/tokens/"))
    nav = section(html, "main-nav")
    assert [name for name in ("Forms", "Strategies") if f">{name}</a>" in nav] == links


def test_form_list_shows_each_form_with_its_address_mode_and_submission_count(ui_client, make_form):
    # Given two forms, one offline, and two submissions to the first
    webinar = make_form("webinar", name="Webinar signup")
    make_form("old-offer", name="Old offer", is_live=False, update_mode="only_contacts")
    form_submit(form=webinar, raw={"email": "a@example.com"})
    form_submit(form=webinar, raw={"email": "b@example.com"})

    # When a marketer opens the list
    html = text(ui_client("marketer").get("/intake/forms/"))

    # Then each row shows the name, address, update mode, live state, count and hosted link
    rows = re.findall(r"<tr>(.*?)</tr>", section(html, "form-table"), re.S)[1:]
    first, second = rows  # ordered by name
    assert "Old offer" in first and "Only contacts" in first and "offline" in first
    assert "Webinar signup" in second and "Contacts and leads" in second
    assert re.search(r'submissions/">2</a>', second)
    assert 'href="/f/webinar"' in second and 'href="/f/old-offer"' not in first


def test_form_list_filters_by_live_state(ui_client, make_form):
    make_form("live-one", name="Live one")
    make_form("gone", name="Gone one", is_live=False)
    html = text(
        ui_client("marketer").get("/intake/forms/?is_live=false", headers={"HX-Request": "true"})
    )
    assert "Gone one" in html and "Live one" not in html


def test_new_form_preselects_the_default_strategies_and_offers_only_matching_targets(ui_client):
    # Given an extra contact strategy and lead strategy, and defaults pointing elsewhere
    by_name = MatchingStrategy.objects.create(
        name="By names", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    settings = IntakeSettings.objects.get()
    settings.default_contact_strategy = by_name
    settings.save()

    # When a marketer opens the new-form page
    html = text(ui_client("marketer").get("/intake/forms/new/"))

    # Then the contact select holds only contact strategies, with the default chosen
    contact_select = section(html, "id_contact_strategy")
    lead_select = section(html, "id_lead_strategy")
    assert re.search(rf'<option value="{by_name.pk}" selected>By names', contact_select)
    assert "Lead by email and form" not in contact_select
    assert "Contact by email" not in lead_select
    assert re.search(r'<option value="\d+" selected>Lead by email and form', lead_select)


def test_creating_a_form_leads_to_its_builder(ui_client):
    settings = IntakeSettings.objects.get()
    response = ui_client("marketer").post(
        "/intake/forms/new/",
        {
            "name": "Partner day",
            "slug": "partner-day",
            "title": "Partner day 2026",
            "update_mode": "contacts_and_leads",
            "contact_strategy": settings.default_contact_strategy_id,
            "lead_strategy": settings.default_lead_strategy_id,
            "lead_topic": "Partner day",
            "submit_label": "Sign up",
            "thank_you_message": "See you there",
            "is_live": "on",
        },
    )
    form = MarketingForm.objects.get(slug="partner-day")
    assert response.status_code == 302 and response["Location"] == f"/intake/forms/{form.pk}/"
    builder = ui_client("marketer").get(response["Location"])
    assert "No questions yet" in text(builder)


def test_form_settings_show_a_taken_address_and_a_bad_origin_next_to_their_fields(
    ui_client, make_form
):
    # Given a form at /f/webinar and another form
    make_form("webinar")
    other = make_form("other")
    settings = IntakeSettings.objects.get()

    # When the marketer gives the other form the same address and a path as an origin
    response = ui_client("marketer").post(
        f"/intake/forms/{other.pk}/edit/",
        {
            "name": other.name,
            "slug": "webinar",
            "title": other.title,
            "update_mode": "contacts_and_leads",
            "lead_topic": "x",
            "contact_strategy": settings.default_contact_strategy_id,
            "lead_strategy": settings.default_lead_strategy_id,
            "submit_label": "Go",
            "thank_you_message": "Thanks",
            "allowed_origins": "https://www.example.com/landing",
        },
        headers={"HX-Request": "true"},
    )

    # Then the page says so next to each field, and nothing changed
    html = text(response)
    assert response.status_code == 422
    assert "already" in section(html, "field-slug")
    assert "not an origin" in section(html, "field-allowed_origins")
    other.refresh_from_db()
    assert other.slug == "other"


def test_builder_adds_a_question_that_appears_in_the_list_and_the_preview(ui_client, make_form):
    # Given a form with six questions
    form = make_form()
    client = ui_client("marketer")

    # When the marketer adds a phone question through the builder (htmx)
    response = client.post(
        f"/intake/forms/{form.pk}/fields/new/",
        {
            "label": "Mobile phone",
            "key": "mobile",
            "kind": "phone",
            "maps_to": "contact.phone",
            "required": "on",
        },
        headers=HTMX,
    )

    # Then the builder lists it last and the preview (swapped out of band) shows its input
    html = text(response)
    assert response.status_code == 200
    assert question_labels(html)[-1] == "Mobile phone"
    assert 'hx-swap-oob="true"' in section(html, "preview")
    assert preview_names(html)[-1] == "mobile"
    assert 'type="tel"' in section(html, "preview")
    # …and the embed example (also swapped) sends an answer for it
    assert "&quot;mobile&quot;: &quot;+46 70 123 45 67&quot;" in section(html, "curl-example")
    # …and the hosted page asks it too
    assert 'name="mobile"' in text(client.get(f"/f/{form.slug}"))


def test_builder_moves_a_question_up_and_the_preview_follows(ui_client, make_form):
    form = make_form()
    client = ui_client("marketer")
    last_name = form.fields.get(key="last_name")

    # When the marketer moves "Last name" above "First name"
    response = client.post(
        f"/intake/forms/{form.pk}/fields/{last_name.pk}/move/", {"direction": "up"}, headers=HTMX
    )

    # Then the list and the preview both show the new order
    html = text(response)
    assert question_labels(html)[:3] == ["Email", "Last name", "First name"]
    assert preview_names(html)[:3] == ["email", "last_name", "first_name"]

    # And moving the first question up changes nothing
    email = form.fields.get(key="email")
    html = text(
        client.post(
            f"/intake/forms/{form.pk}/fields/{email.pk}/move/", {"direction": "up"}, headers=HTMX
        )
    )
    assert question_labels(html)[0] == "Email"


def test_builder_removes_a_question_from_the_list_and_the_preview(ui_client, make_form):
    form = make_form()
    company = form.fields.get(key="company")
    html = text(
        ui_client("marketer").post(
            f"/intake/forms/{form.pk}/fields/{company.pk}/delete/", headers=HTMX
        )
    )
    assert "Company" not in question_labels(html)
    assert "company" not in preview_names(html)
    assert not FormField.objects.filter(pk=company.pk).exists()


def test_builder_edits_a_question_in_place(ui_client, make_form):
    form = make_form()
    client = ui_client("marketer")
    first = form.fields.get(key="first_name")

    # When the marketer opens the question in the editor…
    editor = text(client.get(f"/intake/forms/{form.pk}/fields/{first.pk}/edit/", headers=HTMX))
    assert "Edit “First name”" in editor and 'value="first_name"' in editor

    # …and saves a new label, required
    html = text(
        client.post(
            f"/intake/forms/{form.pk}/fields/{first.pk}/edit/",
            {
                "label": "Given name",
                "key": "first_name",
                "kind": "text",
                "maps_to": "contact.first_name",
                "required": "on",
            },
            headers=HTMX,
        )
    )

    # Then the list and the preview show it
    assert question_labels(html)[1] == "Given name"
    assert "Given name *" in section(html, "preview")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"kind": "text", "maps_to": "contact.consent"},
            "Only a consent checkbox can fill contact.consent.",
        ),
        (
            {"kind": "consent", "maps_to": "contact.email"},
            "A consent checkbox maps to contact.consent.",
        ),
        ({"kind": "text", "maps_to": "contact.first_name"}, "already fills contact.first_name"),
        (
            {"kind": "choice", "maps_to": "contact.role", "choices": "CEO\nCTO"},
            "contact.role takes a choice question",
        ),
        ({"kind": "text", "maps_to": "lead.topics"}, "Select a valid choice"),
    ],
)
def test_an_invalid_mapping_is_shown_next_to_the_mapping_and_nothing_is_saved(
    ui_client, make_form, answer, message
):
    # Given a form whose "first_name" question already fills contact.first_name
    form = make_form()

    # When the marketer adds a question with a mapping that cannot work
    response = ui_client("marketer").post(
        f"/intake/forms/{form.pk}/fields/new/",
        {"label": "Extra", "key": "extra", **answer},
        headers=HTMX,
    )

    # Then the builder answers 422 with the message right at the mapping select, keeps the input…
    html = text(response)
    assert response.status_code == 422
    assert message in section(html, "question-field-maps_to")
    assert 'value="extra"' in section(html, "field-editor")
    # …and the form still has its six questions
    assert form.fields.count() == 6


def test_a_duplicate_key_and_a_choice_without_options_are_refused_inline(ui_client, make_form):
    form = make_form()
    html = text(
        ui_client("marketer").post(
            f"/intake/forms/{form.pk}/fields/new/",
            {"label": "Email again", "key": "email", "kind": "choice"},
            headers=HTMX,
        )
    )
    assert "already uses the key “email”" in section(html, "question-field-key")
    assert "List the options" in section(html, "question-field-choices")


def test_preview_shows_the_question_being_written_before_it_is_saved(ui_client, make_form):
    form = make_form()
    html = text(
        ui_client("marketer").get(
            f"/intake/forms/{form.pk}/preview/",
            {
                "draft": "1",
                "label": "Favourite product",
                "key": "product",
                "kind": "choice",
                "choices": "Suite\nCloud",
            },
        )
    )
    assert "Favourite product" in html and ">Cloud</option>" in html
    assert "not saved yet" in html
    assert not FormField.objects.filter(key="product").exists()


def test_builder_without_javascript_posts_and_comes_back_to_the_builder(ui_client, make_form):
    form = make_form()
    client = ui_client("marketer")
    response = client.post(
        f"/intake/forms/{form.pk}/fields/new/", {"label": "Job", "key": "job", "kind": "text"}
    )
    assert response.status_code == 302 and response["Location"] == f"/intake/forms/{form.pk}/"
    page = text(client.get(response["Location"]))
    assert "Question “Job” added." in page and question_labels(page)[-1] == "Job"


def test_builder_warns_when_the_contact_strategy_has_nothing_to_compare(ui_client, make_form):
    form = make_form()
    client = ui_client("marketer")
    email = form.fields.get(key="email")
    html = text(client.post(f"/intake/forms/{form.pk}/fields/{email.pk}/delete/", headers=HTMX))
    assert "every submission will create a new contact" in section(html, "builder-warnings")


def test_form_page_shows_the_endpoint_and_an_example_with_the_question_keys(ui_client, make_form):
    form = make_form()
    html = text(ui_client("sales_manager").get(f"/intake/forms/{form.pk}/"))
    assert "http://testserver/api/v1/public/forms/webinar/submissions" in section(
        html, "submit-url"
    )
    curl = section(html, "curl-example")
    assert "&quot;email&quot;: &quot;ada.lovelace@example.com&quot;" in curl
    assert "&quot;consent&quot;: true" in curl
    # A role that only views forms gets no editing controls
    assert "field-editor" not in html and "Remove" not in section(html, "builder")


def test_submissions_list_shows_what_each_submission_did(ui_client, make_form):
    # Given a submission that created Ada, one that updated her, and a rejected one
    form = make_form()
    form_submit(form=form, raw={"email": "ada@example.com"})
    form_submit(form=form, raw={"email": "ADA@example.com", "first_name": "Ada"})
    with pytest.raises(Exception):  # noqa: B017 - SubmissionRejected
        form_submit(form=form, raw={"email": "not-an-email"})
    ada = Contact.objects.get()
    lead = Lead.objects.get()

    # When a marketer opens the form's submissions
    html = text(ui_client("marketer").get(f"/intake/forms/{form.pk}/submissions/"))

    # Then, newest first: the rejected one with its error, then the update, then the creation
    rows = re.findall(r'<tr id="submission-\d+">(.*?)</tr>', html, re.S)
    assert len(rows) == 3
    rejected, updated, created = rows
    assert "rejected" in rejected and "Enter a valid email address." in rejected
    assert f'href="/contacts/{ada.pk}/"' in updated and ">updated<" in updated
    assert f'href="/leads/{lead.pk}/"' in updated and ">matched<" in updated
    assert ">created<" in created and f'href="/contacts/{ada.pk}/"' in created


def test_submissions_filter_by_status_and_page(ui_client, make_form):
    form = make_form()
    for n in range(27):
        form_submit(form=form, raw={"email": f"p{n}@example.com"})
    form_submit(form=form, raw={"website_url_hp": "spam", "email": "bot@example.com"})
    client = ui_client("seller")

    rejected = text(
        client.get(
            f"/intake/forms/{form.pk}/submissions/?status=rejected", headers={"HX-Request": "true"}
        )
    )
    assert rejected.count('<tr id="submission-') == 1 and "Hidden field filled in." in rejected

    second = text(client.get(f"/intake/forms/{form.pk}/submissions/?status=accepted&page=2"))
    assert second.count('<tr id="submission-') == 2 and "Page 2 of 2 · 27 submissions" in second
    # A seller may see submissions but not the form's builder, so the form name is not a link
    assert f'href="/intake/forms/{form.pk}/"' not in second

    bad = client.get(f"/intake/forms/{form.pk}/submissions/?status=maybe")
    assert bad.status_code == 400 and "Must be one of: accepted, rejected." in text(bad)


def test_possible_duplicates_are_linked_from_the_submission(ui_client, make_form):
    # Given two contacts with the same name and a form that matches on names
    by_names = MatchingStrategy.objects.create(
        name="By names", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    first = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada1@example.com")
    second = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada2@example.com")
    form = make_form(contact_strategy=by_names)
    form.fields.filter(key="email").update(required=False)
    form_submit(form=form, raw={"first_name": "Ada", "last_name": "Lovelace"})

    html = text(ui_client("marketer").get(f"/intake/forms/{form.pk}/submissions/"))
    row = re.findall(r'<tr id="submission-\d+">(.*?)</tr>', html, re.S)[0]
    assert f'href="/contacts/{first.pk}/"' in row  # the oldest is used
    assert f'<a href="/contacts/{second.pk}/">contact #{second.pk}</a>' in row
    # and one click compares the two, ready to merge
    assert f'href="/duplicates/contacts/{first.pk}/merge/{second.pk}/"' in row


def test_administrator_creates_a_strategy_with_ordered_fields(ui_client):
    client = ui_client("administrator")
    response = client.post(
        "/intake/strategies/new/",
        {
            "name": "Lead by email and campaign",
            "target": "lead",
            "field_0": "lead.campaign",
            "field_1": "contact.email",
            "field_2": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/intake/strategies/"
    strategy = MatchingStrategy.objects.get(name="Lead by email and campaign")
    assert strategy.fields == ["lead.campaign", "contact.email"]
    listing = text(client.get("/intake/strategies/"))
    assert "Lead by email and campaign" in section(listing, f"strategy-{strategy.pk}")


@pytest.mark.parametrize(
    ("posted", "where", "message"),
    [
        (
            {"field_0": "contact.email", "field_1": "contact.email"},
            "strategy-fields",
            "A field is listed twice.",
        ),
        ({"field_0": ""}, "strategy-fields", "List at least one field."),
        ({"field_0": "lead.origin_ref"}, "id_field_0", "Select a valid choice"),
        (
            {"name": "contact BY email", "field_0": "contact.phone"},
            "field-name",
            "Another strategy already has this name.",
        ),
    ],
)
def test_strategy_form_shows_invalid_choices_inline(ui_client, posted, where, message):
    response = ui_client("administrator").post(
        "/intake/strategies/new/",
        {"name": "New one", "target": "contact", "field_0": "", "field_1": "", **posted},
        headers={"HX-Request": "true"},
    )
    html = text(response)
    assert response.status_code == 422
    spot = section(html, where) if where != "id_field_0" else section(html, "field-field_0")
    assert message in spot
    assert MatchingStrategy.objects.filter(name__in=["New one", "contact BY email"]).count() == 0


def test_changing_the_target_offers_that_records_fields(ui_client):
    html = text(
        ui_client("administrator").post(
            "/intake/strategies/new/",
            {"name": "Mine", "target": "lead", "field_0": "contact.phone", "_refresh": "1"},
            headers={"HX-Request": "true"},
        )
    )
    places = section(html, "strategy-fields")
    assert "lead.origin_ref" in places and "contact.phone" not in places
    assert 'value="Mine"' in html and "errorlist" not in html


def test_a_strategy_in_use_keeps_its_target_and_cannot_be_deleted(ui_client, make_form):
    make_form()
    strategy = MatchingStrategy.objects.get(name="Contact by email")
    client = ui_client("administrator")

    changed = client.post(
        f"/intake/strategies/{strategy.pk}/edit/",
        {"name": strategy.name, "target": "lead", "field_0": "contact.email"},
        headers={"HX-Request": "true"},
    )
    assert changed.status_code == 422
    assert "cannot change" in section(text(changed), "field-target")

    deleted = client.post(f"/intake/strategies/{strategy.pk}/delete/", follow=True)
    assert "is used by form “Form webinar”, the default pair in settings" in text(deleted)
    assert MatchingStrategy.objects.filter(pk=strategy.pk).exists()


def test_administrator_changes_the_default_pair_and_new_forms_start_with_it(ui_client):
    by_names = MatchingStrategy.objects.create(
        name="By names", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    client = ui_client("administrator")
    lead_default = IntakeSettings.objects.get().default_lead_strategy_id
    response = client.post(
        "/intake/settings/",
        {"default_contact_strategy": by_names.pk, "default_lead_strategy": lead_default},
    )
    assert response.status_code == 302
    assert IntakeSettings.objects.get().default_contact_strategy == by_names
    new_form = text(client.get("/intake/forms/new/"))
    assert re.search(
        rf'<option value="{by_names.pk}" selected>', section(new_form, "id_contact_strategy")
    )


def test_settings_refuse_a_lead_strategy_as_the_contact_default(ui_client):
    lead_strategy = MatchingStrategy.objects.get(name="Lead by email and form")
    response = ui_client("administrator").post(
        "/intake/settings/",
        {"default_contact_strategy": lead_strategy.pk, "default_lead_strategy": lead_strategy.pk},
    )
    assert response.status_code == 422
    assert "Select a valid choice" in section(text(response), "field-default_contact_strategy")


def test_deleting_a_form_with_submissions_is_refused(ui_client, make_form):
    form = make_form()
    form_submit(form=form, raw={"email": "ada@example.com"})
    page = ui_client("administrator").post(f"/intake/forms/{form.pk}/delete/", follow=True)
    assert "cannot be deleted; take it offline instead" in text(page)
    assert MarketingForm.objects.filter(pk=form.pk).exists()


def test_demo_forms_are_created_once_and_take_submissions(client):
    created = demo_forms_create()
    assert [f.slug for f in created] == ["spring-webinar", "contact-sales"]
    assert demo_forms_create() == []
    response = client.post(
        "/f/contact-sales",
        {
            "email": "eva@example.com",
            "company": "Nordic Systems",
            "consent": "on",
            "interest": "Cloud Platform",
        },
    )
    assert response.status_code == 200
    eva = Contact.objects.get(email_normalized="eva@example.com")
    assert eva.account.name == "Nordic Systems" and eva.consent == "granted"
    assert Lead.objects.get(parent_contact=eva).topic == "Sales inquiry"


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_lists_and_builder_take_as_many_queries_for_many_rows_as_for_one(ui_client, make_form):
    # Given one form with one submission, and a client warmed up (session, permissions)
    form = make_form()
    form_submit(form=form, raw={"email": "first@example.com"})
    client = ui_client("marketer")
    urls = [
        "/intake/forms/",
        f"/intake/forms/{form.pk}/",
        f"/intake/forms/{form.pk}/submissions/",
        "/intake/strategies/",
    ]
    for url in urls:
        client.get(url)
    few = [_queries(client, url) for url in urls]

    # When there are many forms, questions and submissions
    for n in range(12):
        make_form(f"more-{n}")
        form_submit(form=form, raw={"email": f"p{n}@example.com", "first_name": f"P{n}"})
    for n in range(6):
        form_field_create(form=form, by=None, data={"key": f"extra_{n}", "label": f"Extra {n}"})

    # Then every page still takes the same number of queries
    assert [_queries(client, url) for url in urls] == few
