"""LinkedIn webhook security: the validation challenge and the notification signature.

Both are hex-encoded HMAC-SHA256 keyed with the LinkedIn app's client secret:

- validation: ``challengeResponse = hex(HMACSHA256(challengeCode, clientSecret))``;
- notifications: header ``X-LI-Signature``, "the HMACSHA256 hash of the JSON-encoded string
  representation of the POST body prefixed by ``hmacsha256=``". Read literally the prefix is
  part of the signed text; it is also commonly read as a prefix of the header value. Both
  readings are accepted (each needs the secret), compared in constant time.
"""

import hashlib
import hmac

PREFIX = b"hmacsha256="


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def challenge_response(challenge_code: str, client_secret: str) -> str:
    """The ``challengeResponse`` LinkedIn expects for ``challengeCode``."""
    return _hex_hmac(client_secret, challenge_code.encode())


def signature_valid(body: bytes, header: str | None, client_secret: str) -> bool:
    """Whether ``X-LI-Signature`` signs ``body`` (the raw bytes received) with the secret."""
    if not header or not client_secret:
        return False
    given = header.strip()
    if given[: len(PREFIX)].lower() == PREFIX.decode():
        given = given[len(PREFIX) :]
    given_bytes = given.lower().encode("utf-8", "replace")
    expected = (_hex_hmac(client_secret, PREFIX + body), _hex_hmac(client_secret, body))
    # Both comparisons always run, so the time taken does not tell which one was close.
    results = [hmac.compare_digest(given_bytes, candidate.encode()) for candidate in expected]
    return any(results)
