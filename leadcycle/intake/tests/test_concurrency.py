"""Concurrent submissions: the same new person arrives once, different people all arrive.

Threads here are real concurrent database sessions. PostgreSQL is where the race is real
(SQLite serialises writers), so these run there; on SQLite they check the same outcome.
"""

import threading

import pytest
from django.db import close_old_connections, connection

from leadcycle.crm.models import Contact, Interaction, Lead
from leadcycle.intake.models import FormSubmission, MarketingForm
from leadcycle.intake.services import form_submit

N = 20


def _run_concurrently(form_id: int, payloads: list[dict[str, str]]) -> list[BaseException]:
    barrier = threading.Barrier(len(payloads))
    errors: list[BaseException] = []

    def submit(raw: dict[str, str]) -> None:
        try:
            form = MarketingForm.objects.select_related("contact_strategy", "lead_strategy").get(
                pk=form_id
            )
            barrier.wait(10)
            form_submit(form=form, raw=raw, channel="api")
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=submit, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_of_one_new_person(on_postgresql, make_form):
    form = make_form()
    spellings = ["ada@example.com", "ADA@example.com", " Ada@Example.COM ", "ada@EXAMPLE.com"]
    errors = _run_concurrently(
        form.pk, [{"email": spellings[i % 4], "first_name": "Ada"} for i in range(N)]
    )
    assert errors == []
    assert Contact.objects.count() == 1
    assert Lead.objects.count() == 1
    assert FormSubmission.objects.filter(status="accepted").count() == N
    assert (
        Interaction.objects.filter(kind="form_submitted", contact=Contact.objects.get()).count()
        == N
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_of_different_people(on_postgresql, make_form):
    form = make_form()
    errors = _run_concurrently(form.pk, [{"email": f"person{i}@example.com"} for i in range(N)])
    assert errors == []
    assert Contact.objects.count() == N
    assert Lead.objects.count() == N
    assert set(Lead.objects.values_list("parent_contact__email_normalized", flat=True)) == {
        f"person{i}@example.com" for i in range(N)
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_new_person_with_a_name_strategy(on_postgresql, make_form):
    from leadcycle.intake.models import MatchingStrategy

    strategy = MatchingStrategy.objects.create(
        name="By name", target="contact", fields=["contact.first_name", "contact.last_name"]
    )
    form = make_form(contact_strategy=strategy)
    errors = _run_concurrently(
        form.pk,
        [
            {
                "email": f"grace{i}@example.com",
                "first_name": "Grace",
                "last_name": "HOPPER" if i % 2 else "Hopper",
            }
            for i in range(N)
        ],
    )
    assert errors == []
    # one person by the strategy's rule, even though every submission brought a new email
    assert Contact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_naming_one_new_company_create_it_once(on_postgresql, make_form):
    from leadcycle.crm.models import Account

    form = make_form()
    errors = _run_concurrently(
        form.pk,
        [
            {"email": f"staff{i}@initech.example", "company": "Initech" if i % 2 else " INITECH "}
            for i in range(N)
        ],
    )
    assert errors == []
    assert Account.objects.count() == 1
    assert Contact.objects.filter(account__name__iexact="initech").count() == N
