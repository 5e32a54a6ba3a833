"""Reads for users: token lookup and role names."""

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from leadcycle.users.models import ApiToken, token_digest
from leadcycle.users.roles import ADMINISTRATOR, ROLES


def api_token_user(*, raw_token: str) -> User | None:
    """The active user a raw bearer token belongs to, or ``None``."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(raw_token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute so a busy client does not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_roles(user: User | AnonymousUser) -> list[str]:
    """The role names of a user; superusers count as administrators."""
    if not user.is_authenticated:
        return []
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    if user.is_superuser and ADMINISTRATOR not in names:
        names.append(ADMINISTRATOR)
    return names
