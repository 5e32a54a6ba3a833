"""``leadcycle duplicates``: the duplicate review from the command line.

- ``list contacts|accounts [--page N]``: likely duplicates, a group a paragraph;
- ``merge contact|account SURVIVOR MERGED [--keep FIELD=merged …]``: merge, print what moved;
- ``undo MERGE``: undo a merge;
- ``history [--record ID]``: merges, newest first.

Runs as the system (no user); the audit trail says so. A refused merge or undo exits non-zero
with the reason and changes nothing."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadcycle.duplicates import selectors, services
from leadcycle.duplicates.models import Entity
from leadcycle.errors import DomainError

_ENTITY = {"contact": Entity.CONTACT, "contacts": Entity.CONTACT}
_ENTITY |= {"account": Entity.ACCOUNT, "accounts": Entity.ACCOUNT}


class Command(BaseCommand):
    help = "Duplicates: list likely duplicates, merge two records, undo a merge."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Likely duplicates, newest groups first.")
        listing.add_argument("entity", choices=["contacts", "accounts"])
        listing.add_argument("--page", type=int, default=1)
        merge = sub.add_parser("merge", help="Merge MERGED into SURVIVOR.")
        merge.add_argument("entity", choices=["contact", "account"])
        merge.add_argument("survivor", type=int)
        merge.add_argument("merged", type=int)
        merge.add_argument(
            "--keep",
            action="append",
            default=[],
            metavar="FIELD=survivor|merged",
            help="Whose value a field ends with (repeatable); default: the survivor's, "
            "filled from the merged record where empty.",
        )
        undo = sub.add_parser("undo", help="Undo a merge.")
        undo.add_argument("merge", type=int)
        history = sub.add_parser("history", help="Merges, newest first.")
        history.add_argument("--record", type=int, help="Only those this record took part in.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from exc

    def _list(self, options: dict[str, Any]) -> None:
        entity = _ENTITY[options["entity"]]
        groups, total = selectors.duplicate_groups(entity=entity, page=options["page"])
        self.stdout.write(f"{total:,} group{'s' if total != 1 else ''} of likely duplicates.")
        for group in groups:
            self.stdout.write(f"\n{group.label}: {group.value} ({group.size})")
            for record in group.records:
                extra = getattr(record, "email", "") or getattr(record, "web_domain", "")
                self.stdout.write(f"  #{record.pk}  {record}  {extra}".rstrip())

    def _merge(self, options: dict[str, Any]) -> None:
        keep: dict[str, str] = {}
        for item in options["keep"]:
            name, _, side = item.partition("=")
            if not side:
                raise CommandError(f"--keep {item}: write FIELD=survivor or FIELD=merged.")
            keep[name.strip()] = side.strip()
        merge = services.record_merge(
            entity=_ENTITY[options["entity"]],
            survivor_id=options["survivor"],
            merged_id=options["merged"],
            keep=keep,
            by=None,
        )
        moved = ", ".join(f"{n} {ref}" for ref, n in merge.moved.items()) or "nothing"
        changed = ", ".join(f"{k}={v!r}" for k, v in merge.survivor_after.items()) or "nothing"
        self.stdout.write(
            f"Merge {merge.pk}: #{merge.merged_id} {merge.merged_repr} into "
            f"#{merge.survivor_id}. Moved: {moved}. Changed: {changed}. "
            f"Undo: leadcycle duplicates undo {merge.pk}"
        )

    def _undo(self, options: dict[str, Any]) -> None:
        merge = services.merge_undo(merge_id=options["merge"], by=None)
        self.stdout.write(f"Merge {merge.pk} undone: #{merge.merged_id} is back.")

    def _history(self, options: dict[str, Any]) -> None:
        for merge in selectors.merges(entities=list(Entity.values), record_id=options["record"]):
            status = "undone" if merge.undone else "merged"
            self.stdout.write(
                f"{merge.pk}  {merge.at:%Y-%m-%d %H:%M}  {merge.entity} #{merge.merged_id} "
                f"into #{merge.survivor_id}  {merge.moved_total} rows  {status}"
            )
