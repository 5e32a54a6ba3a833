"""What the tests expect, written out independently of the code they check."""

# Who may do what, per role and record: v view (list, get), a add, c change, d delete.
# Written out on purpose instead of importing users.roles, so a wrong matrix fails the tests.
# fmt: off
ALLOWED = {
    "marketer":      {"accounts": "vac",  "contacts": "vacd", "leads": "vacd", "opportunities": "v",    "tasks": "vac"},  # noqa: E501
    "telemarketer":  {"accounts": "v",    "contacts": "vc",   "leads": "vc",   "opportunities": "",     "tasks": "vac"},  # noqa: E501
    "seller":        {"accounts": "vac",  "contacts": "vac",  "leads": "vac",  "opportunities": "vac",  "tasks": "vac"},  # noqa: E501
    "sales_manager": {"accounts": "vac",  "contacts": "vac",  "leads": "vacd", "opportunities": "vacd", "tasks": "vacd"},  # noqa: E501
    "administrator": {"accounts": "vacd", "contacts": "vacd", "leads": "vacd", "opportunities": "vacd", "tasks": "vacd"},  # noqa: E501
}
# fmt: on


def fullwidth(text: str) -> str:
    """``text`` in full-width Unicode forms (U+FF01..U+FF5E), which NFKC folds back to ASCII."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
