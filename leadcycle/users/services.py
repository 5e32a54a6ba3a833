"""Writes for users: API tokens and demo users."""

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from leadcycle.users.models import ApiToken, token_digest
from leadcycle.users.roles import ROLES

TOKEN_PREFIX = "lc_"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


@transaction.atomic
def api_token_create(*, user: User, name: str) -> IssuedToken:
    """Create a token for ``user``; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100] or "API token", prefix=raw[:10], digest=token_digest(raw)
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token; requests carrying it are refused from now on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_set_role(*, user: User, role: str) -> None:
    """Give ``user`` exactly one role (its Django group)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    groups = user.groups  # type: ignore[attr-defined]
    groups.remove(*Group.objects.filter(name__in=ROLES))
    groups.add(Group.objects.get(name=role))


def roles_sync(**signal_kwargs: object) -> None:
    """Make the role groups and their permissions match ``users.roles`` exactly.

    The roles are created by a migration; this runs after every ``migrate`` (and after a test
    database flush) so a change to the matrix in code reaches existing installations.
    """
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    from leadcycle.users.roles import role_permissions

    for role in ROLES:
        role_group, _ = Group.objects.get_or_create(name=role)
        wanted = Q(pk__in=[])
        for app_label, codename in role_permissions(role):
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        role_group.permissions.set(Permission.objects.filter(wanted))
