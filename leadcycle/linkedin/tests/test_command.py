"""``leadcycle linkedin sync``: prints what each run did; exits non-zero with the reason when a
sync fails."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadcycle.linkedin.models import Connector, SyncRun
from leadcycle.linkedin.tests.conftest import lead_response, now_ms

pytestmark = pytest.mark.django_db


def test_sync_prints_the_counts(connector, fake_linkedin):
    fake_linkedin.add(
        lead_response("r-1", now_ms(-60)), lead_response("r-2", now_ms(-30), email="b@example.com")
    )
    out = io.StringIO()

    call_command("linkedin", "sync", stdout=out)

    run = SyncRun.objects.get()
    assert run.trigger == "schedule"
    assert f"sync #{run.pk} succeeded: fetched 2, created 2, updated 0, skipped 0" in out.getvalue()


def test_a_failed_sync_exits_non_zero_with_the_reason(connector, fake_linkedin):
    fake_linkedin.fail = (
        401,
        {"status": 401, "code": "EXPIRED_ACCESS_TOKEN", "message": "Expired"},
    )
    err = io.StringIO()

    # A CommandError is what `leadcycle` turns into a message on stderr and exit status 1.
    with pytest.raises(CommandError, match="EXPIRED_ACCESS_TOKEN") as failed:
        call_command("linkedin", "sync", stderr=err)

    assert failed.value.returncode == 1
    assert "failed" in err.getvalue()
    assert SyncRun.objects.get().status == "failed"


def test_nothing_to_sync_is_an_error(db):
    with pytest.raises(CommandError, match="No LinkedIn connector"):
        call_command("linkedin", "sync")


def test_a_disabled_connector_named_explicitly_says_why(connector):
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    with pytest.raises(CommandError, match="not enabled"):
        call_command("linkedin", "sync", "--connector", str(connector.pk), "--trigger", "manual")
