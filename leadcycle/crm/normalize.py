"""Normalising values that identify people: matching ignores case, spaces and Unicode form."""

import unicodedata


def normalize_email(value: str | None) -> str | None:
    """Trimmed, NFKC-normalised, lower-cased email; ``None`` for empty input.

    ``" Anna.Smith@Example.COM "`` (also with a full-width ``A``) and
    ``"anna.smith@example.com"`` normalise to the same value.
    """
    if value is None:
        return None
    cleaned = unicodedata.normalize("NFKC", value).strip().casefold()
    return cleaned or None


def display_email(value: str | None) -> str:
    """The email as stored for display: trimmed and NFKC-normalised (full-width letters become
    ASCII), case kept. ``normalize_email`` of it is the matching key."""
    if not value:
        return ""
    return unicodedata.normalize("NFKC", value).strip()


def normalize_domain(value: str | None) -> str:
    """A web domain without scheme, ``www.``, path or case: ``https://WWW.Contoso.com/x`` →
    ``contoso.com``."""
    if not value:
        return ""
    cleaned = unicodedata.normalize("NFKC", value).strip().lower()
    for scheme in ("https://", "http://"):
        if cleaned.startswith(scheme):
            cleaned = cleaned[len(scheme) :]
    cleaned = cleaned.split("/", 1)[0].split("?", 1)[0]
    if cleaned.startswith("www."):
        cleaned = cleaned[4:]
    return cleaned
