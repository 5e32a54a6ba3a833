"""The ``leadcycle`` console command: a thin wrapper over Django's management commands.

``leadcycle serve | migrate | demo | token create --user NAME | worker | import ...`` and
every other ``manage.py`` command.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcycle.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["leadcycle", *args])


if __name__ == "__main__":
    main()
