"""Writes for scoring: models and their rules, going live and stopping, and computing scores.

Computing is set-based (``leads_score``): for one model and one set of leads — the leads of a
range of contact (account) ids in a full recompute, the leads of changed records in near real
time — three statements:

1. an upsert of every eligible lead's score from one ``SELECT`` (``compiler.score_select``),
   keeping the previous score and when it last changed;
2. one history row per score that changed, from the rows the upsert stamped (a first score
   is not a change: a full recompute of a new model writes no history);
3. ``sales_ready`` set on the open leads that reached the model's sales-ready score (when the
   setting is on), with their audit entries, and the ``lead_sales_ready`` event after commit.

Scores of leads in the set that are no longer eligible (closed, unlinked) are removed.
"""

import datetime
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from leadcycle.audit.models import AuditEntry
from leadcycle.audit.services import (
    Actor,
    audit_create,
    audit_record,
    audit_update,
    record_snapshot,
)
from leadcycle.bulk import insert_rows
from leadcycle.crm.models import Contact, Lead
from leadcycle.errors import DomainError
from leadcycle.interactions.selectors import kinds_known
from leadcycle.scoring import compiler
from leadcycle.scoring.events import lead_sales_ready, leads_scored
from leadcycle.scoring.models import LeadScore, ScoringModel, ScoringRule, ScoringSettings

EDITABLE = ("name", "description", "target", "sales_ready_score", "grades")
RESCORE_CHUNK = 2_000


def scoring_settings() -> ScoringSettings:
    settings, _ = ScoringSettings.objects.get_or_create(pk=1)
    return settings


@transaction.atomic
def scoring_settings_update(*, by: Actor, data: Mapping[str, Any]) -> ScoringSettings:
    settings = scoring_settings()
    before = record_snapshot(settings)
    for name in ("auto_sales_ready", "auto_qualification", "remove_scores_when_stopped"):
        if name in data:
            setattr(settings, name, bool(data[name]))
    settings.save()
    audit_update(actor=by, instance=settings, before=before)
    return settings


@dataclass(frozen=True)
class CompiledModel:
    model: ScoringModel
    rules: list[compiler.Rule]
    grades: list[compiler.Grade]


def model_compile(
    model: ScoringModel, rules: Sequence[Mapping[str, Any]] | None = None
) -> CompiledModel:
    """Check a model's rules and grades (``ValidationError`` naming the part at fault)."""
    if rules is None:
        rules = [
            {"name": r.name, "points": r.points, "conditions": r.conditions}
            for r in model.rules.all()
        ]
    return CompiledModel(
        model,
        compiler.parse_rules(model.target, rules, kinds_known()),
        compiler.parse_grades(model.grades),
    )


def _apply(model: ScoringModel, data: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    unknown = sorted(set(data) - {*EDITABLE, "rules"})
    if unknown:
        raise ValidationError({unknown[0]: ValidationError("Unknown field.", code="unknown_field")})
    for name in EDITABLE:
        if name in data:
            setattr(model, name, data[name])
    rules = data.get("rules")
    if rules is not None and not isinstance(rules, list):
        raise ValidationError({"rules": ValidationError("A list of rules.", code="invalid")})
    return rules


def _check(model: ScoringModel, rules: list[dict[str, Any]] | None) -> None:
    model.full_clean(exclude=["status", "version"], validate_unique=False)
    if ScoringModel.objects.filter(name__iexact=model.name).exclude(pk=model.pk or 0).exists():
        raise ValidationError(
            {"name": ValidationError("Another model has this name.", code="duplicate")}
        )
    if rules is not None or model.pk is None:
        model_compile(model, rules or [])
    else:
        model_compile(model)


def _rules_save(model: ScoringModel, rules: list[dict[str, Any]]) -> None:
    model.rules.all().delete()
    ScoringRule.objects.bulk_create(
        ScoringRule(
            model=model,
            position=position,
            name=str(rule["name"]).strip(),
            points=rule["points"],
            conditions=rule["conditions"],
        )
        for position, rule in enumerate(rules)
    )


@transaction.atomic
def scoring_model_create(*, by: Actor, data: Mapping[str, Any]) -> ScoringModel:
    """Create a draft model with its rules."""
    model = ScoringModel()
    rules = _apply(model, data) or []
    _check(model, rules)
    model.save()
    _rules_save(model, rules)
    audit_create(actor=by, instance=model)
    return model


@transaction.atomic
def scoring_model_update(
    *, model: ScoringModel, by: Actor, data: Mapping[str, Any]
) -> ScoringModel:
    """Change a model (``rules``, when given, replace all of them). Every change is a new
    version; a live model's leads are rescored with it."""
    model = ScoringModel.objects.select_for_update().get(pk=model.pk)
    before = record_snapshot(model)
    if "target" in data and data["target"] != model.target and model.status != "draft":
        raise DomainError(
            "model_not_draft",
            "Only a draft model can change its target.",
            fields={"target": "The model has scored leads already."},
        )
    rules = _apply(model, data)
    _check(model, rules)
    model.version += 1
    model.save()
    if rules is not None:
        _rules_save(model, rules)
    audit_update(actor=by, instance=model, before=before)
    if model.status == ScoringModel.Status.LIVE:
        _enqueue_recompute(model.pk)
    return model


@transaction.atomic
def scoring_model_go_live(*, model: ScoringModel, by: Actor) -> ScoringModel:
    """Take a draft (or stopped) model live: it must compile and have a rule; every eligible
    lead is then scored in the background."""
    model = ScoringModel.objects.select_for_update().get(pk=model.pk)
    if model.status == ScoringModel.Status.LIVE:
        raise DomainError("model_live", f"“{model}” is live already.")
    compiled = model_compile(model)
    if not compiled.rules:
        raise DomainError(
            "model_has_no_rules", "Add a rule before going live.", fields={"rules": "Empty."}
        )
    before = record_snapshot(model)
    if model.status == ScoringModel.Status.STOPPED:
        model.version += 1
    model.status = ScoringModel.Status.LIVE
    model.live_since = timezone.now()
    model.save()
    audit_update(actor=by, instance=model, before=before)
    _enqueue_recompute(model.pk)
    return model


@transaction.atomic
def scoring_model_stop(*, model: ScoringModel, by: Actor) -> ScoringModel:
    """Stop a live model; its scores go too when the setting says so (history stays)."""
    model = ScoringModel.objects.select_for_update().get(pk=model.pk)
    if model.status != ScoringModel.Status.LIVE:
        raise DomainError("model_not_live", f"“{model}” is not live.")
    before = record_snapshot(model)
    model.status = ScoringModel.Status.STOPPED
    model.save()
    if scoring_settings().remove_scores_when_stopped:
        LeadScore.objects.filter(model=model).delete()
    audit_update(actor=by, instance=model, before=before)
    return model


@transaction.atomic
def scoring_model_delete(*, model: ScoringModel, by: Actor) -> None:
    """Delete a model that never went live; a model that scored leads is stopped instead."""
    if model.status != ScoringModel.Status.DRAFT:
        raise DomainError(
            "model_not_draft", "A model that has scored leads cannot be deleted; stop it."
        )
    audit_record(
        actor=by, action=AuditEntry.Action.DELETE, instance=model, before=record_snapshot(model)
    )
    model.delete()


def _enqueue_recompute(model_id: int) -> None:
    from leadcycle.scoring.tasks import recompute_model

    transaction.on_commit(lambda: recompute_model.enqueue(model_id))


# Computing scores ---------------------------------------------------------------------------


def leads_score(
    *,
    compiled: CompiledModel,
    lead_filter: tuple[str, list[Any]],
    now: datetime.datetime,
    interaction_filter: tuple[str, list[Any]] | None = None,
) -> list[int]:
    """Score the eligible leads matching ``lead_filter`` (a condition on lead alias ``l``)
    under one model; ``interaction_filter`` may name the interactions to count directly (see
    ``compiler.score_select``). Returns the ids of leads that became sales-ready. Runs in the
    caller's transaction."""
    model = compiled.model
    select_sql, select_params = compiler.score_select(
        compiled.rules, model.target, now, lead_filter, interaction_filter=interaction_filter
    )
    grade_sql, grade_params = compiler.grade_case(compiled.grades, "s.score")
    # The grade reads the score several times: keep the database from inlining the scoring
    # subquery (which would compute every score once per reading).
    fence = " OFFSET 0" if connection.vendor == "postgresql" else " LIMIT -1"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # JIT compiling these wide generated statements costs seconds and saves nothing.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            "INSERT INTO scoring_leadscore (lead_id, model_id, score, grade, model_version,"  # noqa: S608 - fixed fragments, values as parameters
            " previous_score, computed_at, changed_at)"
            f" SELECT s.lead_id, %s, s.score, {grade_sql}, %s, NULL, %s, %s"
            f" FROM ({select_sql}{fence}) s WHERE 1 = 1"
            " ON CONFLICT (lead_id, model_id) DO UPDATE SET"
            " previous_score = scoring_leadscore.score,"
            " changed_at = CASE WHEN scoring_leadscore.score <> excluded.score"
            " THEN excluded.changed_at ELSE scoring_leadscore.changed_at END,"
            " score = excluded.score, grade = excluded.grade,"
            " model_version = excluded.model_version, computed_at = excluded.computed_at",
            [model.pk, *grade_params, model.version, now, now, *select_params],
        )
        ids_sql, ids_params = _ids_in(lead_filter)
        # History: the scores this run changed. A first score is no change: it is the score
        # itself until it changes, and then the first change's old score.
        cursor.execute(
            "INSERT INTO scoring_leadscorechange (lead_id, model_id, old_score, new_score,"  # noqa: S608
            " model_version, changed_at)"
            " SELECT lead_id, model_id, previous_score, score, model_version, changed_at"
            " FROM scoring_leadscore"
            " WHERE model_id = %s AND changed_at = %s AND computed_at = %s"
            " AND previous_score IS NOT NULL"
            f" AND lead_id IN ({ids_sql})",
            [model.pk, now, now, *ids_params],
        )
        # Leads of the set no longer eligible keep no score.
        cursor.execute(
            "DELETE FROM scoring_leadscore WHERE model_id = %s AND computed_at < %s"  # noqa: S608
            f" AND lead_id IN ({ids_sql})",
            [model.pk, now, *ids_params],
        )
        if not scoring_settings().auto_sales_ready:
            return []
        cursor.execute(
            "UPDATE crm_lead SET sales_ready = %s, updated_at = %s"  # noqa: S608
            " WHERE sales_ready = %s AND status = 'open' AND id IN ("
            " SELECT lead_id FROM scoring_leadscore"
            f" WHERE model_id = %s AND computed_at = %s AND score >= %s AND lead_id IN ({ids_sql}))"
            " RETURNING id",
            [True, now, False, model.pk, now, model.sales_ready_score, *ids_params],
        )
        became = [row[0] for row in cursor.fetchall()]
    if became:
        insert_rows(
            AuditEntry,
            [
                {
                    "actor_id": None,
                    "action": AuditEntry.Action.UPDATE,
                    "record_type": "crm.lead",
                    "record_id": lead_id,
                    "record_repr": f"Lead {lead_id}",
                    "changes": {
                        "sales_ready": [False, True],
                        "by": f"scoring model “{model.name}” v{model.version}",
                    },
                    "at": now,
                }
                for lead_id in became
            ],
            columns=(
                "actor_id",
                "action",
                "record_type",
                "record_id",
                "record_repr",
                "changes",
                "at",
            ),
        )
        ids = list(became)
        transaction.on_commit(
            lambda: lead_sales_ready.send(ScoringModel, lead_ids=ids, model_id=model.pk)
        )
    return became


def _ids_in(lead_filter: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """The lead ids a filter on ``l`` selects, as a subquery (whether or not eligible)."""
    sql, params = lead_filter
    return f"SELECT l.id FROM crm_lead l WHERE {sql}", params  # noqa: S608


def model_recompute(*, model_id: int, now: datetime.datetime | None = None) -> int:
    """Score every eligible lead under a live model, in batches of contacts (accounts, for an
    account model) by id range, one transaction each, so that each batch reads its
    interactions as one index range; returns how many leads became sales-ready. ``now``: the
    time "the last N days" count back from (default: now)."""
    model = ScoringModel.objects.filter(pk=model_id, status=ScoringModel.Status.LIVE).first()
    if model is None:
        return 0
    compiled = model_compile(model)
    size = scoring_settings().rescore_batch_size
    now = now or timezone.now()
    contact_model = model.target == ScoringModel.Target.CONTACT
    owner = "l.parent_contact_id" if contact_model else "l.parent_account_id"
    scope = "i.contact_id" if contact_model else "ac.account_id"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(id), MAX(id) FROM "  # noqa: S608 - one of two table names
            + ("crm_contact" if contact_model else "crm_account")
        )
        low, high = cursor.fetchone()
    became = 0
    for start in range(low or 0, (high or -1) + 1, size):
        bounds = [start, start + size]
        with transaction.atomic():
            became += len(
                leads_score(
                    compiled=compiled,
                    lead_filter=(f"{owner} >= %s AND {owner} < %s", bounds),
                    interaction_filter=(f"{scope} >= %s AND {scope} < %s", bounds),
                    now=now,
                )
            )
    # Leads no batch scored are no longer eligible (closed, unlinked): no score.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM scoring_leadscore WHERE model_id = %s AND computed_at < %s",
            [model.pk, now],
        )
    leads_scored.send(ScoringModel, lead_ids=None)
    return became


def leads_rescore(*, lead_ids: Iterable[int]) -> int:
    """Score these leads under every live model (near real time); returns how many became
    sales-ready."""
    ids = sorted(set(lead_ids))
    if not ids:
        return 0
    models = list(
        ScoringModel.objects.filter(status=ScoringModel.Status.LIVE).prefetch_related("rules")
    )
    compiled = [model_compile(model) for model in models]
    now = timezone.now()
    became = 0
    with transaction.atomic():
        # The ids appear in each of the statements: chunks keep them under SQLite's limit of
        # parameters per statement.
        for start in range(0, len(ids), RESCORE_CHUNK):
            chunk = ids[start : start + RESCORE_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            for model in compiled:
                became += len(
                    leads_score(compiled=model, lead_filter=(f"l.id IN ({marks})", chunk), now=now)
                )
        if compiled:
            transaction.on_commit(lambda: leads_scored.send(ScoringModel, lead_ids=ids))
    return became


def rescore_changed(
    *,
    contact_ids: Iterable[int] = (),
    lead_ids: Iterable[int] = (),
    account_ids: Iterable[int] = (),
) -> int:
    """Rescore what changed records count for: the given leads; for each contact its own
    leads and the account-based leads of its account; for each account the leads of its
    contacts and its account-based leads. Returns how many became sales-ready."""
    contacts = set(contact_ids)
    wanted = set(lead_ids)
    if not ScoringModel.objects.filter(status=ScoringModel.Status.LIVE).exists():
        return 0
    accounts = sorted(set(account_ids))
    if accounts:
        contacts.update(
            Contact.objects.filter(account_id__in=accounts).values_list("id", flat=True)
        )
        wanted.update(
            Lead.objects.filter(
                parent_contact__isnull=True, parent_account_id__in=accounts
            ).values_list("id", flat=True)
        )
    if contacts:
        of_contacts = Contact.objects.filter(pk__in=contacts, account__isnull=False).values(
            "account_id"
        )
        wanted.update(
            Lead.objects.filter(parent_contact_id__in=contacts).values_list("id", flat=True)
        )
        wanted.update(
            Lead.objects.filter(
                parent_contact__isnull=True, parent_account_id__in=of_contacts
            ).values_list("id", flat=True)
        )
    return leads_rescore(lead_ids=wanted)


def on_records_committed(
    *, contact_ids: list[int], lead_ids: list[int], account_ids: list[int], **_: object
) -> None:
    """Receiver of ``leadcycle.changes.records_committed``: one rescore task for what the
    transaction changed, queued only while a model is live."""
    if not live_models_exist():
        return
    from leadcycle.scoring.tasks import rescore

    rescore.enqueue(contact_ids, lead_ids, account_ids)


_live_cache: list[float | bool] = [0.0, False]
LIVE_CACHE_SECONDS = 2.0


def live_models_exist() -> bool:
    """Whether any model is live. Asked after every change, so each process remembers the
    answer for a moment; a model saved in this process clears it at once (``live_cache_clear``)
    and a full recompute follows every model going live in any case."""
    now = time.monotonic()
    if now >= float(_live_cache[0]):
        _live_cache[:] = [
            now + LIVE_CACHE_SECONDS,
            ScoringModel.objects.filter(status=ScoringModel.Status.LIVE).exists(),
        ]
    return bool(_live_cache[1])


def live_cache_clear(**_: object) -> None:
    _live_cache[:] = [0.0, False]


# Backtesting a model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    """What a model would have done at a past time ``as_of``."""

    as_of: datetime.datetime
    leads_scored: int
    sales_ready: int
    sales_ready_became_opportunities: int
    all_became_opportunities: int

    @property
    def conversion(self) -> float | None:
        """Of the leads it would have made sales-ready, the share that became opportunities."""
        return (
            self.sales_ready_became_opportunities / self.sales_ready if self.sales_ready else None
        )

    @property
    def overall_conversion(self) -> float | None:
        """Of every lead it would have scored, the share that became opportunities."""
        return self.all_became_opportunities / self.leads_scored if self.leads_scored else None


def model_backtest(*, model: ScoringModel, as_of: datetime.datetime) -> Backtest:
    """Try a model (a draft, typically) on past data: score the leads that existed at
    ``as_of`` with the interactions recorded up to then, and count how many it would have made
    sales-ready and how many of those became opportunities afterwards. One query; nothing is
    written. Contact and account fields are today's (there is no field history)."""
    if as_of >= timezone.now():
        raise ValidationError(
            {"as_of": ValidationError("Choose a time in the past.", code="in_future")}
        )
    compiled = model_compile(model)
    if not compiled.rules:
        raise DomainError("model_has_no_rules", "Add a rule first.", fields={"rules": "Empty."})
    sql, params = compiler.score_select(
        compiled.rules, model.target, as_of, ("1 = 1", []), as_of=True
    )
    fence = " OFFSET 0" if connection.vendor == "postgresql" else " LIMIT -1"
    became = (
        "EXISTS (SELECT 1 FROM crm_opportunity o"
        " WHERE o.lead_id = s.lead_id AND o.created_at >= %s)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            "SELECT COUNT(*),"  # noqa: S608 - fixed fragments, values as parameters
            " COALESCE(SUM(CASE WHEN s.score >= %s THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN s.score >= %s AND {became} THEN 1 ELSE 0 END), 0),"
            f" COALESCE(SUM(CASE WHEN {became} THEN 1 ELSE 0 END), 0)"
            f" FROM ({sql}{fence}) s",
            [model.sales_ready_score, model.sales_ready_score, as_of, as_of, *params],
        )
        scored, ready, ready_won, all_won = cursor.fetchone()
    return Backtest(as_of, int(scored), int(ready), int(ready_won), int(all_won))


# Explaining a score ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleContribution:
    rule: str
    occurrences: int
    points: int

    @property
    def total(self) -> int:
        return self.points * self.occurrences


def lead_explain(*, lead: Lead, model: ScoringModel) -> list[RuleContribution]:
    """Each rule's part in the lead's score under the model, computed now: which rule, how many
    occurrences it counted, its points. Empty when the lead is not eligible for the model."""
    compiled = model_compile(model)
    sql, params = compiler.score_select(
        compiled.rules, model.target, timezone.now(), ("l.id = %s", [lead.pk]), per_rule=True
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return []
    return [
        RuleContribution(rule.name, int(row[index + 1] or 0), rule.points)
        for index, rule in enumerate(compiled.rules)
    ]
