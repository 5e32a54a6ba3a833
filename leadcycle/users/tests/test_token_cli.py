"""``leadcycle token``: create prints a working token, list shows it, revoke stops it."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from leadcycle.users.models import ApiToken

pytestmark = pytest.mark.django_db


def token_command(*args):
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def api(raw):
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_create_prints_a_token_that_works_as_that_user(role_user):
    role_user("seller")
    raw = token_command("create", "--user", "seller-user").strip()
    assert raw.startswith("lc_") and "\n" not in raw
    me = api(raw).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "seller-user"
    assert me.json()["roles"] == ["seller"]


def test_created_token_is_stored_only_as_its_digest(role_user):
    role_user("seller")
    raw = token_command("create", "--user", "seller-user", "--name", "nightly sync").strip()
    token = ApiToken.objects.get()
    assert token.name == "nightly sync"
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (token.digest, token.prefix, token.name)
    assert raw.startswith(token.prefix)


def test_token_acts_with_the_users_role(role_user):
    role_user("telemarketer")
    raw = token_command("create", "--user", "telemarketer-user").strip()
    response = api(raw).get("/api/v1/opportunities")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_unknown_user_is_an_error_and_creates_nothing(role_user):
    with pytest.raises(CommandError, match="nobody"):
        token_command("create", "--user", "nobody")
    assert not ApiToken.objects.exists()


def test_create_needs_a_user():
    with pytest.raises(CommandError):
        token_command("create")


def test_each_call_prints_a_new_token(role_user):
    role_user("seller")
    first = token_command("create", "--user", "seller-user").strip()
    second = token_command("create", "--user", "seller-user").strip()
    assert first != second
    assert ApiToken.objects.count() == 2


def test_list_shows_prefix_and_state_never_the_token(role_user):
    role_user("seller")
    raw = token_command("create", "--user", "seller-user", "--name", "sync").strip()
    listing = token_command("list", "--user", "seller-user")
    assert raw[:10] in listing and "sync" in listing and "active" in listing
    assert raw not in listing


def test_revoke_by_prefix_stops_the_token(role_user):
    role_user("seller")
    raw = token_command("create", "--user", "seller-user").strip()
    assert api(raw).get("/api/v1/me").status_code == 200
    token_command("revoke", ApiToken.objects.get().prefix)
    response = api(raw).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "revoked" in token_command("list", "--user", "seller-user")


def test_revoke_of_an_unknown_prefix_is_an_error(role_user):
    with pytest.raises(CommandError):
        token_command("revoke", "lc_nothing")


def test_the_leadcycle_console_command_runs_the_token_command(monkeypatch):
    # ``leadcycle token create --user NAME`` is Django's management command under another name
    # (run for real, it would close the test database connection when it ends).
    import django.core.management

    from leadcycle.cli import main

    seen = []
    monkeypatch.setattr(django.core.management, "execute_from_command_line", seen.append)
    main(["token", "create", "--user", "marketer-user"])
    assert seen == [["leadcycle", "token", "create", "--user", "marketer-user"]]
