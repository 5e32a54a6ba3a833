"""Importing files as a marketer would: leads that find their contacts (and create the
missing ones, marketing-only, with their accounts), bad rows reported and the rest imported,
dry runs that write nothing, re-runs that create nothing twice."""

import csv
import gc
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadcycle.crm.models import Account, Contact, Lead
from leadcycle.imports import services
from leadcycle.imports.models import ImportJob, ImportRowError
from leadcycle.imports.tests.conftest import csv_file
from leadcycle.intake.models import MatchingStrategy
from leadcycle.testing.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

LEADS = """Email,First Name,Last Name,Company,Website,Topic
 ADA@Example.com ,Ada,Lovelace,Analytical Engines,,Demo request
grace@navy.mil,Grace,Hopper,US Navy,https://www.navy.mil/about,Pricing
linus@kernel.org,Linus,Torvalds,Kernel Org,,Trial
"""


def run(text, entity="leads", *, dry_run=False, **options):
    job = services.import_create(
        by=None,
        entity=entity,
        upload=csv_file(text),
        file_name=f"{entity}.csv",
        options=options or None,
    )
    services.import_start(job=job, by=None, dry_run=dry_run, enqueue=False)
    return services.import_run(job_id=job.pk, dry_run=dry_run)


def test_leads_find_their_contacts_and_create_the_missing_ones_with_their_accounts():
    # Given Ada as a contact already (typed differently) and the Navy's account by domain
    ada = ContactFactory(email="ada@example.com", first_name="Ada", account=None)
    navy = AccountFactory(name="United States Navy", web_domain="navy.mil")
    # When a file of three leads is imported
    job = run(LEADS)
    # Then every row made a lead, linked to the right (or a new) contact and account
    assert (job.status, job.created, job.rejected, job.rows_done) == ("done", 3, 0, 3)
    assert (job.contacts_created, job.accounts_created) == (2, 2)
    leads = {lead.topic: lead for lead in Lead.objects.select_related("parent_contact")}
    assert leads["Demo request"].parent_contact == ada
    grace = leads["Pricing"].parent_contact
    assert grace.email == "grace@navy.mil" and grace.marketing_only and grace.account == navy
    assert leads["Pricing"].parent_account == navy
    linus = leads["Trial"].parent_contact
    assert linus.account.name == "Kernel Org" and linus.origin_channel == "import"
    # Ada's account is filled in from the file (she had none)
    ada.refresh_from_db()
    assert ada.account.name == "Analytical Engines"
    assert {lead.source_channel for lead in leads.values()} == {"import"}
    assert Contact.objects.count() == 3 and not Contact.objects.get(pk=ada.pk).marketing_only


def test_running_the_same_file_again_creates_nothing_twice():
    first = run(LEADS)
    again = run(LEADS)
    assert (first.created, again.created, again.unchanged) == (3, 0, 3)
    assert Lead.objects.count() == 3 and Contact.objects.count() == 3
    assert Account.objects.count() == 3


def test_bad_rows_are_reported_and_the_good_ones_imported():
    text = (
        "Email,Last Name,Employees,Topic\n"
        "ok@example.com,Ok,10,Demo\n"
        "not-an-email,Bad,10,Demo\n"
        ",,,Demo\n"
        "fine@example.com,Fine,10,\n"
    )
    job = run(text, default_topic="")
    assert (job.created, job.rejected) == (1, 3)
    errors = list(
        ImportRowError.objects.filter(job=job).values_list("row_number", "column", "reason")
    )
    assert errors[0] == (3, "Email", "'not-an-email' is not an email address.")
    assert errors[1][0] == 4 and "no person" in errors[1][2]
    assert errors[2] == (5, "Topic", "The lead topic is empty.")
    report = list(
        csv.reader(io.StringIO("\r\n".join(",".join(row) for row in services.errors_csv_rows(job))))
    )
    assert report[0] == ["Email", "Last Name", "Employees", "Topic", "Row", "Reason"]
    assert report[1][:2] == ["not-an-email", "Bad"] and report[1][-1].startswith("Email: ")


def test_a_dry_run_counts_and_writes_nothing():
    ContactFactory(email="ada@example.com")
    job = run(LEADS, dry_run=True)
    assert job.dry_run["created"] == 3 and job.dry_run["contacts_created"] == 2
    assert Lead.objects.count() == 0 and Contact.objects.count() == 1
    assert ImportJob.objects.get(pk=job.pk).status == "draft"


@pytest.mark.parametrize(
    ("mode", "title", "phone"),
    [("update", "CTO", "+46 1"), ("skip", "Engineer", ""), ("fill_empty", "Engineer", "+46 1")],
)
def test_a_matched_contact_is_updated_as_the_import_says(mode, title, phone):
    ContactFactory(email="ada@example.com", job_title="Engineer", phone="")
    job = run("E-mail,Job Title,Phone\nada@example.com,CTO,+46 1\n", "contacts", on_match=mode)
    ada = Contact.objects.get()
    assert (ada.job_title, ada.phone) == (title, phone)
    assert (job.updated, job.unchanged) == ((1, 0) if mode != "skip" else (0, 1))


def test_accounts_match_by_domain_then_name():
    AccountFactory(name="Contoso Ltd", web_domain="contoso.com", industry="")
    AccountFactory(name="Fabrikam", web_domain="")
    text = "Name,Website,Industry\nContoso,contoso.com,Retail\nFABRIKAM,,Software\nNew Co,new.co,\n"
    job = run(text, "accounts")
    assert (job.created, job.updated) == (1, 2)
    assert (
        dict(Account.objects.values_list("name", "industry"))
        == {"Contoso": "Retail", "Fabrikam": "Software", "New Co": ""}
        or dict(Account.objects.values_list("web_domain", "industry"))["contoso.com"] == "Retail"
    )


def test_encodings_delimiters_and_workbooks_are_read():
    latin = csv_file("Email;Nom\nrene@example.fr;René Müller\n", "cp1252")
    job = services.import_create(
        by=None,
        entity="contacts",
        upload=latin,
        file_name="x.csv",
        mapping={"Nom": "contact.last_name"},
    )
    assert (job.encoding, job.delimiter, job.headers) == ("cp1252", ";", ["Email", "Nom"])
    bom = csv_file("\ufeffE-mail,First Name\nzoe@example.com,Zoë\n")
    job = services.import_create(by=None, entity="contacts", upload=bom, file_name="bom.csv")
    assert job.headers == ["E-mail", "First Name"]
    assert job.mapping == ["contact.email", "contact.first_name"]
    book = openpyxl.Workbook()
    book.active.append(["Email", "Company", "Employees"])
    book.active.append(["x@example.com", "Xco", 12.0])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    job = services.import_create(by=None, entity="contacts", upload=data, file_name="c.xlsx")
    assert (job.file_format, job.rows_total) == ("xlsx", 1)
    services.import_start(job=job, by=None, enqueue=False)
    done = services.import_run(job_id=job.pk)
    assert done.created == 1 and Contact.objects.get().account.name == "Xco"


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"entity": "planets"}, "entity", "unknown_entity"),
        ({"upload": io.BytesIO(b"\x00\x01\x02binary")}, "file", "unreadable_file"),
        ({"upload": io.BytesIO(b"")}, "file", "empty_file"),
        ({"mapping": {"Email": "contact.salary"}}, "mapping.Email", "unknown_field"),
        ({"mapping": {"Nope": "contact.email"}}, "mapping.Nope", "unknown_column"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(kwargs, field, code, settings):
    args = {
        "by": None,
        "entity": "leads",
        "upload": csv_file(LEADS),
        "file_name": "l.csv",
        **kwargs,
    }
    with pytest.raises(ValidationError) as caught:
        services.import_create(**args)
    assert caught.value.error_dict[field][0].code == code
    assert not ImportJob.objects.exists()
    media = settings.MEDIA_ROOT / "imports"
    assert not media.exists() or not any(media.iterdir())


def test_the_default_lead_strategy_updates_the_lead_of_an_earlier_run():
    strategy = MatchingStrategy.objects.get(
        target="lead", fields=["contact.email", "lead.origin_ref"]
    )
    first = run("Email,Topic,Campaign\nada@example.com,Demo,Spring\n", lead_strategy=strategy.pk)
    second = run("Email,Topic,Campaign\nada@example.com,Demo,Autumn\n", lead_strategy=strategy.pk)
    # Different files are different origins: a second lead
    assert (first.created, second.created) == (1, 1)
    again = run(
        "Email,Topic,Campaign\nada@example.com,Demo,Autumn\n",
        lead_strategy=strategy.pk,
        on_match="update",
    )
    assert (again.created, again.unchanged) == (0, 1)
    assert Lead.objects.count() == 2


def test_without_creating_missing_contacts_unknown_people_are_rejected():
    ContactFactory(email="ada@example.com")
    job = run(LEADS, create_missing=False)
    assert (job.created, job.rejected) == (1, 2)
    assert (
        "creating missing contacts is off" in ImportRowError.objects.filter(job=job).first().reason
    )


def _leads_file(n, tag="p"):
    lines = ["Email,Company,Topic"]
    lines += [f"{tag}{i}@example.com,{tag} Co {i % 7},Topic {i}" for i in range(n)]
    return "\n".join(lines) + "\n"


def _queries_for(n, tag):
    # Half the people exist already (typed in capitals), the others and their companies not
    for i in range(0, n, 2):
        ContactFactory(email=f"{tag.upper()}{i}@EXAMPLE.COM")
    job = services.import_create(
        by=None,
        entity="leads",
        upload=csv_file(_leads_file(n, tag)),
        file_name="q.csv",
        options={"batch_size": 5000},
    )
    services.import_start(job=job, by=None, enqueue=False)
    with CaptureQueriesContext(connection) as captured:
        services.import_run(job_id=job.pk)
    assert Lead.objects.filter(import_key__startswith=job.file_sha256[:16]).count() == n
    return len(captured)


def test_a_batch_costs_the_same_number_of_queries_whatever_its_size():
    assert _queries_for(20, "a") == _queries_for(400, "b")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_the_contact_lookup_probes_the_email_index_instead_of_reading_every_contact():
    """The lookup ran once per batch as a full walk of the contacts table (a UNION ordered by
    id), which at a million contacts cost more than the batch's inserts."""
    for i in range(300):
        ContactFactory(email=f"known{i}@example.com")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    job = services.import_create(
        by=None,
        entity="leads",
        upload=csv_file(_leads_file(40, "known")),
        file_name="plan.csv",
    )
    services.import_start(job=job, by=None, enqueue=False)
    with CaptureQueriesContext(connection) as captured:
        services.import_run(job_id=job.pk)
    lookups = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT c.id") and "email_normalized IN" in q["sql"]
    ]
    assert lookups
    with connection.cursor() as cursor:
        for sql in lookups:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = [row[-1] for row in cursor.fetchall()]
            assert not any(step.startswith("SCAN c") for step in plan), plan


def test_an_import_that_fails_mid_file_resumes_to_the_same_end(monkeypatch):
    # Given a file of 10 batches whose 4th batch fails (say, the database went away)
    text = _leads_file(100)
    job = services.import_create(
        by=None,
        entity="leads",
        upload=csv_file(text),
        file_name="r.csv",
        options={"batch_size": 10},
    )
    services.import_start(job=job, by=None, enqueue=False)
    real = services._leads_import
    calls = {"n": 0, "collector_on": []}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        calls["collector_on"].append(gc.isenabled())
        if calls["n"] == 4:
            raise RuntimeError("connection lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_leads_import", flaky)
    with pytest.raises(RuntimeError):
        services.import_run(job_id=job.pk)
    failed = ImportJob.objects.get(pk=job.pk)
    assert (failed.status, failed.rows_done, failed.created) == ("failed", 30, 30)
    # (the cycle collector was paused over the batches, and the worker has it back)
    assert calls["collector_on"] == [False] * 4 and gc.isenabled()
    # When it resumes
    services.import_resume(job=failed, by=None, enqueue=False)
    done = services.import_run(job_id=job.pk)
    # Then it ends as one clean run would: every row once
    assert (done.status, done.rows_done, done.created) == ("done", 100, 100)
    assert Lead.objects.count() == 100 and Contact.objects.count() == 100


def test_cancelling_stops_after_the_batch_in_flight(monkeypatch):
    job = services.import_create(
        by=None,
        entity="leads",
        upload=csv_file(_leads_file(50)),
        file_name="c.csv",
        options={"batch_size": 10},
    )
    services.import_start(job=job, by=None, enqueue=False)
    real = services._leads_import

    def cancel_during_second(job_, *args, **kwargs):
        result = real(job_, *args, **kwargs)
        if Lead.objects.count() == 20:
            ImportJob.objects.filter(pk=job.pk).update(status="cancelling")
        return result

    monkeypatch.setattr(services, "_leads_import", cancel_during_second)
    done = services.import_run(job_id=job.pk)
    assert (done.status, done.rows_done) == ("cancelled", 20)
    assert Lead.objects.count() == 20


def test_rows_of_one_new_company_share_its_account_with_or_without_its_website():
    text = (
        "Email,Company,Website,Topic\n"
        "a@x.example,Xco,,Demo\n"
        "b@x.example,Xco,xco.example,Demo\n"
        "c@x.example,XCO Inc,xco.example,Demo\n"
    )
    job = run(text)
    assert job.accounts_created == 1 and Account.objects.count() == 1
    assert set(Contact.objects.values_list("account__name", flat=True)) == {"Xco"}


def _peak_bytes(rows):
    import tracemalloc

    job = services.import_create(
        by=None,
        entity="leads",
        upload=csv_file(_leads_file(rows, f"m{rows}-")),
        file_name="m.csv",
        # Scoring off: the ids it is told about wait for a commit, which never comes inside
        # this test's transaction (in a real run each batch commits and hands them over).
        options={"batch_size": 500, "react": False},
    )
    services.import_start(job=job, by=None, enqueue=False)
    tracemalloc.start()
    services.import_run(job_id=job.pk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_stays_flat_whatever_the_file_size():
    # The file is read as a stream and held one batch at a time: eight times the rows, about
    # the same peak
    small, large = _peak_bytes(1000), _peak_bytes(8000)
    assert large < 1.5 * small, (small, large)


def test_people_without_email_are_not_created_twice_by_a_second_run():
    text = "First Name,Last Name,Company\nAda,Lovelace,Engines\nGrace,Hopper,Navy\n"
    first = run(text, "contacts", contact_strategy=None)
    again = run(text, "contacts", contact_strategy=None)
    assert (first.created, again.created, again.unchanged) == (2, 0, 2)
    assert Contact.objects.count() == 2


def test_contacts_match_by_another_strategy_compared_normalised():
    # Given a strategy matching people by first and last name, and Ada without an email
    by_name = MatchingStrategy.objects.create(
        name="By name", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", email="", job_title="")
    ContactFactory(first_name="Ada", last_name="Byron", email="")
    # When a file names her in other capitals and spacing
    text = "First Name,Last Name,Job Title\n ADA ,lovelace  ,Countess\nAlan,Turing,Mathematician\n"
    job = run(text, "contacts", contact_strategy=by_name.pk)
    # Then she is updated, not duplicated, and the unknown person is created
    assert (job.updated, job.created) == (1, 1)
    ada.refresh_from_db()
    assert ada.job_title == "Countess" and Contact.objects.count() == 3


def test_scoring_reacts_to_imported_leads_only_when_asked(django_capture_on_commit_callbacks):
    from leadcycle.scoring.models import LeadScore
    from leadcycle.scoring.services import scoring_model_create, scoring_model_go_live

    rules = [{"name": "Everyone", "points": 5, "conditions": [{"entity": "contact"}]}]
    model = scoring_model_create(by=None, data={"name": "M", "rules": rules})
    with django_capture_on_commit_callbacks(execute=True):
        scoring_model_go_live(model=model, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        quiet = run(LEADS, react=False)
    assert quiet.created == 3 and not LeadScore.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        run(LEADS.replace("Demo request", "Webinar"), react=True)
    # The second file's rows are new leads (another file), scored once their batch committed
    assert LeadScore.objects.count() == 3
    assert set(LeadScore.objects.values_list("score", flat=True)) == {5}


def _lead_row(contact, key):
    return (f"Topic {key}", "", "", contact.pk, None, key)  # services._LEAD_COLUMNS


def _lead_constants():
    now = timezone.now()
    return {
        "source_channel": "import", "origin_ref": "import:test", "status": "open",
        "sales_ready": False, "telemarketing_ready": False, "owner_id": None,
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def test_new_leads_get_their_own_ids_with_or_without_conflicts():
    """A new file's leads are inserted without a conflict clause on SQLite, their ids read
    from the statement's numbering: each id must be its own row's. A lead of the file that
    exists already (a second job of the same file) falls back to skipping it."""
    contact = ContactFactory()
    Lead.objects.create(topic="Earlier", parent_contact=contact, import_key="f:3")
    rows = [_lead_row(contact, f"f:{n}") for n in range(1, 6)]
    fresh = services._inserted(
        Lead,
        rows[3:],
        columns=services._LEAD_COLUMNS,
        constants=_lead_constants(),
        skip_conflicts_on="import_key",
        seen=False,
    )
    assert {Lead.objects.get(pk=pk).import_key: pk for pk in fresh.values()} == fresh
    assert set(fresh) == {"f:4", "f:5"}
    clash = services._inserted(
        Lead,
        rows[:3],
        columns=services._LEAD_COLUMNS,
        constants=_lead_constants(),
        skip_conflicts_on="import_key",
        seen=False,
    )  # "f:3" is taken: the fallback
    assert set(clash) == {"f:1", "f:2"}
    assert {Lead.objects.get(pk=pk).topic for pk in clash.values()} == {"Topic f:1", "Topic f:2"}
    assert Lead.objects.filter(import_key__startswith="f:").count() == 5


def test_a_strategy_comparing_the_company_finds_the_person_at_that_company_only():
    """The lookup joins the accounts only when the strategy compares the company: the row
    naming Ada at Engines is the Ada there, the row naming Ada at Looms is a new person."""
    by_name_and_company = MatchingStrategy.objects.create(
        name="By name and company",
        target="contact",
        fields=["contact.last_name", "account.name"],
    )
    engines = AccountFactory(name="Engines Ltd", web_domain="engines.example")
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", account=engines, email="")
    text = (
        "First Name,Last Name,Company,Job Title,Topic\n"
        "Ada,LOVELACE,engines ltd,Countess,Demo\n"
        "Ada,Lovelace,Looms Ltd,Weaver,Demo\n"
    )
    job = run(text, contact_strategy=by_name_and_company.pk, on_match="update")
    assert (job.created, job.rejected, job.contacts_created) == (2, 0, 1)
    ada.refresh_from_db()
    assert ada.job_title == "Countess"
    assert Lead.objects.filter(parent_contact=ada).count() == 1
    weaver = Contact.objects.get(job_title="Weaver")
    assert weaver.pk != ada.pk and weaver.account.name == "Looms Ltd"


def test_two_new_names_sharing_one_new_email_make_one_contact():
    """Matched by name, two rows are two new people, but one email can belong to one contact
    only: the first row creates it (the insert falls back to skipping the clash) and the
    second row's lead links to that contact."""
    by_name = MatchingStrategy.objects.create(
        name="By name", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    text = (
        "Email,First Name,Last Name,Topic\n"
        "shared@desk.example,Ada,Lovelace,Demo\n"
        "SHARED@desk.example,Charles,Babbage,Trial\n"
        "alan@turing.example,Alan,Turing,Demo\n"
    )
    job = run(text, contact_strategy=by_name.pk)
    assert (job.created, job.rejected, job.contacts_created) == (3, 0, 2)
    shared = Contact.objects.get(email_normalized="shared@desk.example")
    assert shared.first_name == "Ada"
    assert set(Lead.objects.filter(parent_contact=shared).values_list("topic", flat=True)) == {
        "Demo", "Trial",
    }  # fmt: skip
    assert Lead.objects.get(topic="Demo", parent_contact__email="alan@turing.example")
