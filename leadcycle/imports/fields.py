"""What an import may write, per entity, and which field a file's header most likely means.

Targets are field paths (``contact.email``, ``account.name``, ``lead.topic``); a leads file
may also carry the person's and the company's fields, which find (or create) the lead's parent
contact and account. Suggestions compare headers with the names common exports use, ignoring
case, spaces and punctuation ("E-mail", "First Name", "Company", "Job Title").
"""

import re
from dataclasses import dataclass

from leadcycle.crm.models import Contact


@dataclass(frozen=True)
class Target:
    path: str
    label: str
    kind: str = "text"  # text, email, choice, boolean, integer, decimal
    max_length: int = 200
    choices: tuple[tuple[str, str], ...] = ()


_ACCOUNT = [
    Target("account.name", "Company name", max_length=200),
    Target("account.web_domain", "Company website", max_length=253),
    Target("account.industry", "Industry", max_length=100),
    Target("account.employees", "Employees", "integer"),
    Target("account.annual_revenue", "Annual revenue", "decimal"),
    Target("account.country", "Company country", max_length=100),
]
_CONTACT = [
    Target("contact.email", "Email", "email", 254),
    Target("contact.first_name", "First name", max_length=100),
    Target("contact.last_name", "Last name", max_length=100),
    Target("contact.job_title", "Job title", max_length=150),
    Target("contact.phone", "Phone", max_length=50),
    Target("contact.country", "Country", max_length=100),
    Target("contact.role", "Role", "choice", 20, tuple(Contact.Role.choices)),
    Target("contact.consent", "Consent", "choice", 20, tuple(Contact.Consent.choices)),
    Target("contact.marketing_only", "Marketing-only", "boolean"),
]
_LEAD = [
    Target("lead.topic", "Lead topic", max_length=200),
    Target("lead.campaign", "Campaign", max_length=200),
    Target("lead.description", "Description", max_length=10_000),
]

TARGETS: dict[str, dict[str, Target]] = {
    "accounts": {t.path: t for t in _ACCOUNT},
    "contacts": {t.path: t for t in [*_CONTACT, *_ACCOUNT[:2]]},
    "leads": {t.path: t for t in [*_LEAD, *_CONTACT, *_ACCOUNT]},
}

# Header (lower-case letters and digits only) → field, per entity; "country" and "name" mean
# the company's in an accounts file and the person's otherwise.
_COMMON = {
    "email": "contact.email",
    "emailaddress": "contact.email",
    "mail": "contact.email",
    "workemail": "contact.email",
    "businessemail": "contact.email",
    "firstname": "contact.first_name",
    "first": "contact.first_name",
    "givenname": "contact.first_name",
    "forename": "contact.first_name",
    "lastname": "contact.last_name",
    "last": "contact.last_name",
    "surname": "contact.last_name",
    "familyname": "contact.last_name",
    "jobtitle": "contact.job_title",
    "title": "contact.job_title",
    "position": "contact.job_title",
    "phone": "contact.phone",
    "phonenumber": "contact.phone",
    "telephone": "contact.phone",
    "mobile": "contact.phone",
    "tel": "contact.phone",
    "country": "contact.country",
    "role": "contact.role",
    "consent": "contact.consent",
    "marketingonly": "contact.marketing_only",
    "company": "account.name",
    "companyname": "account.name",
    "account": "account.name",
    "accountname": "account.name",
    "organization": "account.name",
    "organisation": "account.name",
    "employer": "account.name",
    "website": "account.web_domain",
    "web": "account.web_domain",
    "domain": "account.web_domain",
    "webdomain": "account.web_domain",
    "companywebsite": "account.web_domain",
    "companydomain": "account.web_domain",
    "url": "account.web_domain",
    "industry": "account.industry",
    "employees": "account.employees",
    "numberofemployees": "account.employees",
    "companysize": "account.employees",
    "annualrevenue": "account.annual_revenue",
    "revenue": "account.annual_revenue",
    "companycountry": "account.country",
    "topic": "lead.topic",
    "leadtopic": "lead.topic",
    "subject": "lead.topic",
    "interest": "lead.topic",
    "campaign": "lead.campaign",
    "campaignname": "lead.campaign",
    "description": "lead.description",
    "notes": "lead.description",
    "message": "lead.description",
    "comments": "lead.description",
}
_ACCOUNTS_ONLY = {"name": "account.name", "country": "account.country"}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def suggest(entity: str, headers: list[str]) -> list[str | None]:
    """The likely field of each header, or None; a field is suggested for one column only."""
    allowed = TARGETS[entity]
    taken: set[str] = set()
    suggested: list[str | None] = []
    for header in headers:
        key = _key(header)
        path = (_ACCOUNTS_ONLY.get(key) if entity == "accounts" else None) or _COMMON.get(key)
        if path in allowed and path not in taken:
            taken.add(path)
            suggested.append(path)
        else:
            suggested.append(None)
    return suggested


def from_template(headers: list[str], columns: dict[str, str]) -> list[str | None]:
    """A saved template applied to a file: by header, ignoring case and punctuation."""
    by_key = {_key(header): path for header, path in columns.items()}
    return [by_key.get(_key(header)) for header in headers]
