from django.http import HttpRequest

from leadcycle.users.roles import ROLE_LABELS
from leadcycle.users.selectors import user_roles


def roles(request: HttpRequest) -> dict[str, object]:
    names = user_roles(request.user)
    return {"user_roles": names, "user_role_labels": [ROLE_LABELS[n] for n in names]}
