"""What intake channels may read and write on each record, and how values are normalised.

One whitelist serves matching strategies (which fields a strategy may compare) and form
mapping (which record field a form field may fill). Normalising makes matching ignore case,
surrounding and repeated spaces, and Unicode form.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from leadcycle.crm.normalize import normalize_domain, normalize_email


def normalize_text(value: object) -> str:
    """NFKC, case-folded, trimmed, inner whitespace collapsed: ``" Anna  SMITH"`` (in any
    Unicode width) → ``"anna smith"``."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return " ".join(text.split()).casefold()


def normalize_phone(value: object) -> str:
    """Digits only, keeping a leading ``+``: ``"+46 (70) 123-45"`` → ``"+467012345"``."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    digits = re.sub(r"\D", "", text)
    return ("+" + digits) if text.startswith("+") and digits else digits


def _email(value: object) -> str:
    return normalize_email(str(value or "")) or ""


def _domain(value: object) -> str:
    return normalize_domain(str(value or ""))


@dataclass(frozen=True)
class IntakeField:
    """A record field intake may match on or fill."""

    entity: str  # contact, lead or account
    name: str  # the model field
    label: str
    kind: str = "text"  # text, email, phone, choice, boolean, number, textarea
    normalize: Callable[[object], str] = normalize_text
    max_length: int = 200


_FIELDS = [
    IntakeField("contact", "email", "Email", "email", _email, 254),
    IntakeField("contact", "first_name", "First name", max_length=100),
    IntakeField("contact", "last_name", "Last name", max_length=100),
    IntakeField("contact", "job_title", "Job title", max_length=150),
    IntakeField("contact", "phone", "Phone", "phone", normalize_phone, 50),
    IntakeField("contact", "country", "Country", max_length=100),
    IntakeField("contact", "role", "Role", "choice", max_length=20),
    IntakeField("lead", "topic", "Topic"),
    IntakeField("lead", "campaign", "Campaign"),
    IntakeField("lead", "origin_ref", "Origin (form, event, LinkedIn form…)"),
    IntakeField("lead", "source_channel", "Source channel", "choice", max_length=20),
    IntakeField("lead", "description", "Description / message", "textarea", max_length=10_000),
    IntakeField("account", "name", "Company", max_length=200),
    IntakeField("account", "web_domain", "Company website", "text", _domain),
    IntakeField("account", "industry", "Industry", max_length=100),
    IntakeField("account", "country", "Company country", max_length=100),
]
FIELDS: dict[str, IntakeField] = {f"{f.entity}.{f.name}": f for f in _FIELDS}

# What a strategy of each target may compare. A lead strategy may use the parent contact's
# email (the person) with the lead's own fields (the context, e.g. which form).
MATCHABLE: dict[str, tuple[str, ...]] = {
    "contact": (
        "contact.email",
        "contact.first_name",
        "contact.last_name",
        "contact.phone",
        "contact.country",
        "account.name",
    ),
    "lead": (
        "contact.email",
        "contact.first_name",
        "contact.last_name",
        "lead.origin_ref",
        "lead.topic",
        "lead.campaign",
        "lead.source_channel",
    ),
}


def normalized(path: str, value: object) -> str:
    """The comparable form of ``value`` for the field at ``path`` (``contact.email``)."""
    return FIELDS[path].normalize(value)
