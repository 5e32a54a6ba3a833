"""``leadcycle segments refresh``: the nightly recompute, and its refusals."""

import pytest
from django.core.management import CommandError, call_command

from leadcycle.crm.models import Contact
from leadcycle.segments import services
from leadcycle.testing.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_refresh_recomputes_live_segments_and_says_who_moved(capsys):
    ada = ContactFactory(role="decision_maker")
    query = {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]}
    segment = services.segment_create(by=None, data={"name": "DMs", "query": query})
    services.segment_go_live(segment=segment, by=None)
    # A change that bypassed the services (a bulk fix in SQL): only the refresh sees it
    Contact.objects.filter(pk=ada.pk).update(role="other")
    call_command("segments", "refresh")
    assert "DMs: 0 members, 0 joined, 1 left" in capsys.readouterr().out


def test_refresh_refuses_unknown_or_static_segments():
    static = services.segment_create(by=None, data={"name": "List", "kind": "static"})
    with pytest.raises(CommandError, match="No live dynamic segment"):
        call_command("segments", "refresh", "--segment", str(static.pk))
    with pytest.raises(CommandError):
        call_command("segments", "refresh")
