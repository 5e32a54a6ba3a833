"""Fixtures shared by the whole suite: one user per role, and API clients for them."""

from collections.abc import Callable

import pytest
from django.test import Client

from leadcycle.testing.factories import UserFactory
from leadcycle.users.roles import ROLES
from leadcycle.users.services import api_token_create

pytest_plugins = ["leadcycle.testing.browser"]


@pytest.fixture(autouse=True)
def _process_rules_fresh() -> None:
    """The process keeps its rules, and workflows their enabled list, for a few seconds; a
    test's rolled-back changes must not reach the next test through those caches."""
    from leadcycle.process.services import rules_cache_clear
    from leadcycle.workflows.dispatch import enabled_cache_clear

    rules_cache_clear()
    enabled_cache_clear()


@pytest.fixture
def role_user(db: None) -> Callable[[str], object]:
    """``role_user("seller")`` → a user with that role (created once per test)."""

    def make(role: str) -> object:
        assert role in ROLES
        return UserFactory(username=f"{role}-user", role=role)

    return make


@pytest.fixture
def api_client(role_user: Callable[[str], object]) -> Callable[[str], Client]:
    """``api_client("marketer")`` → a test client sending that role's bearer token."""

    def make(role: str) -> Client:
        user = role_user(role)
        token = api_token_create(user=user, name="test").raw  # type: ignore[arg-type]
        return Client(headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def admin_api(api_client: Callable[[str], Client]) -> Client:
    return api_client("administrator")


@pytest.fixture
def ui_client(role_user: Callable[[str], object]) -> Callable[[str], Client]:
    """``ui_client("seller")`` → a test client logged in (session) as a user with that role."""

    def make(role: str) -> Client:
        client = Client()
        client.force_login(role_user(role))  # type: ignore[arg-type]
        return client

    return make


@pytest.fixture
def on_postgresql() -> None:
    """Skip unless the suite runs on PostgreSQL: races need concurrent writers (SQLite
    serialises them)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the race needs concurrent writers: run with DATABASE_URL=postgres://…")
