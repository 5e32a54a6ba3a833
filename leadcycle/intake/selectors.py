"""Reads for intake: finding the records a matching strategy says are the same."""

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from leadcycle.crm.listing import BOOL, Filter, ListSpec, Page, list_page
from leadcycle.crm.models import Contact, Lead
from leadcycle.crm.normalize import normalize_email
from leadcycle.intake.fields import FIELDS, MATCHABLE, normalized
from leadcycle.intake.models import (
    FormField,
    FormSubmission,
    IntakeSettings,
    MarketingForm,
    MatchingStrategy,
)

# How each matchable field narrows the candidates in the database (exact on stored normalised
# values where we have them, case-insensitive otherwise); every candidate is then checked with
# the full normalisation in Python, so the database filter only has to be generous.
_CONTACT_FILTERS = {
    "contact.email": lambda v: Q(email_normalized=normalize_email(v)),
    "contact.first_name": lambda v: Q(first_name__icontains=" ".join(str(v).split())),
    "contact.last_name": lambda v: Q(last_name__icontains=" ".join(str(v).split())),
    "contact.country": lambda v: Q(country__icontains=str(v).strip()),
    "account.name": lambda v: Q(account__name__icontains=" ".join(str(v).split())),
}
_LEAD_FILTERS = {
    "contact.email": lambda v: Q(parent_contact__email_normalized=normalize_email(v)),
    "contact.first_name": lambda v: Q(
        parent_contact__first_name__icontains=" ".join(str(v).split())
    ),
    "contact.last_name": lambda v: Q(parent_contact__last_name__icontains=" ".join(str(v).split())),
    "lead.origin_ref": lambda v: Q(origin_ref=str(v).strip()),
    "lead.topic": lambda v: Q(topic__icontains=" ".join(str(v).split())),
    "lead.campaign": lambda v: Q(campaign__icontains=" ".join(str(v).split())),
    "lead.source_channel": lambda v: Q(source_channel=str(v).strip()),
}

# Fields whose database filter above is an equality on the value as the full normalisation
# gives it (the stored normalised email) or on a value the channel itself writes (origin,
# channel): what the filter finds, the check in Python would keep.
_EXACT_IN_DATABASE = frozenset({"contact.email", "lead.origin_ref", "lead.source_channel"})


def _record_values(record: Contact | Lead, path: str) -> object:
    entity, name = path.split(".", 1)
    if isinstance(record, Contact):
        source: Any = record if entity == "contact" else record.account
    else:
        source = record if entity == "lead" else record.parent_contact
        if entity == "account":
            source = record.parent_account
    return getattr(source, name, "") if source is not None else ""


def strategy_values_complete(strategy: MatchingStrategy, values: Mapping[str, object]) -> bool:
    """Whether every field of the strategy has a non-empty normalised value."""
    return all(normalized(path, values.get(path)) for path in strategy.fields)


def records_matching(
    *, strategy: MatchingStrategy, values: Mapping[str, object], open_leads_only: bool = True
) -> list[Contact | Lead]:
    """The records equal to ``values`` on **all** the strategy's fields, oldest first.

    ``values`` maps field paths (``contact.email``) to submitted values. Empty values never
    match (a strategy on email does not match two people without email). Leads match only
    while open, so a qualified or disqualified lead is not reopened by a new submission.
    """
    if not strategy_values_complete(strategy, values):
        return []
    filters = _CONTACT_FILTERS if strategy.target == "contact" else _LEAD_FILTERS
    condition = Q()
    for path in strategy.fields:
        condition &= filters[path](values[path])
    # When every field is compared exactly in the database, a candidate is a match: no join
    # to load the related records for the check in Python.
    exact = all(path in _EXACT_IN_DATABASE for path in strategy.fields)
    qs: QuerySet[Any]
    if strategy.target == "contact":
        # The account comes along: channels link the contact's account to the lead.
        qs = Contact.objects.filter(condition).select_related("account")
    else:
        qs = Lead.objects.filter(condition)
        if not exact:
            qs = qs.select_related("parent_contact", "parent_account")
        if open_leads_only:
            qs = qs.filter(status=Lead.Status.OPEN)
    candidates: list[Contact | Lead] = list(qs.order_by("id")[:50])
    if exact:
        return candidates
    wanted = {path: normalized(path, values[path]) for path in strategy.fields}
    return [
        record
        for record in candidates
        if all(
            normalized(path, _record_values(record, path)) == want for path, want in wanted.items()
        )
    ]


def form_by_slug(slug: str) -> MarketingForm | None:
    """A live form with its fields and strategies, or ``None``.

    Public endpoints ask for the same few forms on every request, so each process keeps the
    forms it loaded and reuses one while its *revision* is unchanged: one indexed query on the
    form, its strategies and its questions (their ``updated_at`` and count), instead of loading
    the three tables through the ORM. Any saved change to the form, a question or a strategy, in
    this process or another, makes the next request load the form afresh.
    """
    with connection.cursor() as cursor:
        cursor.execute(_FORM_REVISION_SQL, [slug])
        row = cursor.fetchone()
    if row is None:
        _form_cache.pop(slug, None)
        return None
    revision = tuple(row)
    cached = _form_cache.get(slug)
    if cached is not None and cached[0] == revision:
        return cached[1]
    form = (
        MarketingForm.objects.filter(pk=row[0], is_live=True)
        .select_related("contact_strategy", "lead_strategy")
        .prefetch_related("fields")
        .first()
    )
    if form is not None:
        _form_cache[slug] = (revision, form)
    return form


def form_cache_clear(**_: object) -> None:
    """Forget every cached form (connected to saves and deletes of forms, questions and
    strategies, so that a change made in this process is seen at once)."""
    _form_cache.clear()


_form_cache: dict[str, tuple[tuple[object, ...], MarketingForm]] = {}

# Table names are fixed here, never taken from input; the slug is a parameter.
_FORM_REVISION_SQL = (
    "SELECT f.id, f.updated_at, cs.updated_at, ls.updated_at,"
    " (SELECT count(*) FROM intake_formfield q WHERE q.form_id = f.id),"
    " (SELECT max(q.updated_at) FROM intake_formfield q WHERE q.form_id = f.id)"
    " FROM intake_marketingform f"
    " JOIN intake_matchingstrategy cs ON cs.id = f.contact_strategy_id"
    " JOIN intake_matchingstrategy ls ON ls.id = f.lead_strategy_id"
    " WHERE f.slug = %s AND f.is_live"
)


# Staff side: lists of forms, submissions and strategies (one code path for pages and API) ---

FORM_LIST: ListSpec[MarketingForm] = ListSpec(
    model=MarketingForm,
    search_fields=("name", "slug", "title", "campaign", "lead_topic"),
    filters={
        "is_live": Filter("is_live", BOOL, label="Live"),
        "update_mode": Filter(
            "update_mode", choices=tuple(MarketingForm.UpdateMode.values), label="Updates"
        ),
    },
    sort_fields=("name", "slug", "created_at", "submission_count"),
    default_sort="name",
    select_related=("contact_strategy", "lead_strategy"),
    annotate={"submission_count": Count("submissions")},
)

SUBMISSION_LIST: ListSpec[FormSubmission] = ListSpec(
    model=FormSubmission,
    search_fields=(
        "contact__email_normalized",
        "contact__first_name",
        "contact__last_name",
        "lead__topic",
    ),
    filters={
        "status": Filter("status", choices=tuple(FormSubmission.Status.values), label="Status"),
        "channel": Filter("channel", choices=("page", "api"), label="Channel"),
    },
    sort_fields=("created_at",),
    default_sort="-created_at",
    select_related=("contact", "lead"),
)

STRATEGY_LIST: ListSpec[MatchingStrategy] = ListSpec(
    model=MatchingStrategy,
    search_fields=("name", "description"),
    filters={
        "target": Filter("target", choices=tuple(MatchingStrategy.Target.values), label="Target")
    },
    sort_fields=("name", "target", "created_at"),
    default_sort="target",
)


def forms_page(*, params: Mapping[str, Any]) -> Page[MarketingForm]:
    """One page of forms with their submission counts."""
    return list_page(FORM_LIST, params)


def form_submissions_page(
    *, form: MarketingForm, params: Mapping[str, Any]
) -> Page[FormSubmission]:
    """One page of a form's submissions, newest first, with their contact and lead."""
    return list_page(SUBMISSION_LIST, params, base=FormSubmission.objects.filter(form=form))


def strategies_page(*, params: Mapping[str, Any]) -> Page[MatchingStrategy]:
    return list_page(STRATEGY_LIST, params)


def strategy_usage() -> dict[int, int]:
    """How many forms use each strategy (as contact or lead strategy), by strategy id."""
    usage: dict[int, int] = {}
    for column in ("contact_strategy_id", "lead_strategy_id"):
        for strategy_id, count in (
            MarketingForm.objects.values_list(column).annotate(n=Count("id")).order_by()
        ):
            usage[strategy_id] = usage.get(strategy_id, 0) + count
    return usage


def intake_settings() -> IntakeSettings | None:
    return (
        IntakeSettings.objects.select_related("default_contact_strategy", "default_lead_strategy")
        .order_by("id")
        .first()
    )


def strategies_for(target: str) -> QuerySet[MatchingStrategy]:
    return MatchingStrategy.objects.filter(target=target).order_by("name")


def form_questions(form: MarketingForm) -> list[FormField]:
    return list(FormField.objects.filter(form=form).order_by("position", "id"))


def form_warnings(form: MarketingForm, questions: list[FormField]) -> list[str]:
    """What a marketer should know before publishing: matching that cannot work with the
    questions asked (every submission would then create a new record)."""
    filled = {q.maps_to for q in questions if q.maps_to}
    warnings = []
    mode = form.update_mode
    if not questions:
        warnings.append("The form has no questions yet.")
    contacts = mode in ("contacts_and_leads", "only_contacts")
    if contacts:
        missing = [p for p in form.contact_strategy.fields if p not in filled]
        if missing:
            warnings.append(
                f"The contact strategy “{form.contact_strategy}” compares "
                f"{', '.join(FIELDS[p].label.lower() for p in missing)}, which no question asks: "
                "every submission will create a new contact."
            )
    leads = mode in ("contacts_and_leads", "only_leads")
    if leads and not form.generate_leads_without_matching:
        # The form supplies its own origin; the contact's email comes from the matched contact.
        # (The form's topic and campaign are not compared: only answers are.)
        supplied = filled | {"lead.origin_ref"}
        if contacts:
            supplied.add("contact.email")
        missing = [p for p in form.lead_strategy.fields if p not in supplied]
        if missing:
            warnings.append(
                f"The lead strategy “{form.lead_strategy}” compares "
                f"{', '.join(FIELDS[p].label.lower() for p in missing)}, which no question asks: "
                "every submission will create a new lead."
            )
    return warnings


def matchable_choices(target: str) -> list[tuple[str, str]]:
    """``(path, label)`` of the fields a strategy of ``target`` may compare."""
    return [(path, f"{FIELDS[path].label} ({path})") for path in MATCHABLE.get(target, ())]
