"""``leadcycle duplicates``: list, merge with a chosen value, undo; refusals exit non-zero."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadcycle.crm.models import Contact, Lead
from leadcycle.duplicates.models import Merge
from leadcycle.testing.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("duplicates", *args, stdout=out)
    return out.getvalue()


def test_list_merge_and_undo_from_the_command_line():
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@a.example")
    twin = ContactFactory(first_name="ADA", last_name="lovelace", email="ada@b.example")
    lead = LeadFactory(parent_contact=twin)
    listed = run("list", "contacts")
    assert "1 group of likely duplicates." in listed
    assert f"#{ada.pk}" in listed and f"#{twin.pk}" in listed

    merged = run("merge", "contact", str(ada.pk), str(twin.pk), "--keep", "email=merged")
    merge = Merge.objects.get()
    assert "Moved: 1 crm.lead.parent_contact" in merged
    assert f"leadcycle duplicates undo {merge.pk}" in merged
    assert Contact.objects.get(pk=ada.pk).email == "ada@b.example"
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == ada.pk
    assert "merged" in run("history", "--record", str(ada.pk))

    assert "is back" in run("undo", str(merge.pk))
    assert Lead.objects.get(pk=lead.pk).parent_contact_id == twin.pk


def test_refusals_exit_with_the_reason():
    ada = ContactFactory()
    with pytest.raises(CommandError, match="same_record"):
        run("merge", "contact", str(ada.pk), str(ada.pk))
    other = ContactFactory()
    with pytest.raises(CommandError, match=r"keep\.salary"):
        run("merge", "contact", str(ada.pk), str(other.pk), "--keep", "salary=merged")
    with pytest.raises(CommandError, match="FIELD=survivor"):
        run("merge", "contact", str(ada.pk), str(other.pk), "--keep", "email")
    with pytest.raises(CommandError, match="not_found"):
        run("undo", "999999")
    assert Contact.objects.filter(pk=other.pk).exists()
