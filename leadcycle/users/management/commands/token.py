"""``leadcycle token create --user NAME [--name LABEL]`` prints a new API token;
``leadcycle token revoke PREFIX`` revokes one; ``leadcycle token list --user NAME``."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.users.models import ApiToken
from leadcycle.users.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it (shown only once).")
        create.add_argument("--user", required=True, help="Username the token acts as.")
        create.add_argument("--name", default="CLI token", help="A label for the token.")
        listing = sub.add_parser("list", help="List a user's tokens.")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix", help="The first characters shown by `token list`.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            tokens = list(
                ApiToken.objects.filter(prefix=options["prefix"], revoked_at__isnull=True)
            )
            if len(tokens) != 1:
                raise CommandError(f"No single active token starts with {options['prefix']!r}.")
            api_token_revoke(token=tokens[0])
            self.stdout.write(f"Revoked {tokens[0]}.")
            return
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        if action == "create":
            issued = api_token_create(user=user, name=options["name"])
            self.stdout.write(issued.raw)
        else:
            for token in ApiToken.objects.filter(user=user):
                state = "active" if token.is_active else "revoked"
                self.stdout.write(
                    f"{token.prefix}\t{token.name}\t{state}\t{token.created_at:%Y-%m-%d}"
                )
