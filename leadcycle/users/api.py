"""``/api/v1/me``: who the caller is and what their role allows."""

from django.http import HttpRequest
from ninja import Router, Schema

from leadcycle.users.roles import ROLE_PERMISSIONS
from leadcycle.users.selectors import user_roles

router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    username: str
    roles: list[str]
    permissions: dict[str, list[str]]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    roles = user_roles(request.user)
    permissions: dict[str, set[str]] = {}
    for role in roles:
        for model, actions in ROLE_PERMISSIONS[role].items():
            permissions.setdefault(model, set()).update(actions)
    return {
        "id": request.user.pk,
        "username": request.user.get_username(),
        "roles": roles,
        "permissions": {m: sorted(a) for m, a in sorted(permissions.items())},
    }
