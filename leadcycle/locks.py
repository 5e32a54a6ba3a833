"""Serialising the creation of one record across concurrent transactions."""

import hashlib

from django.db import connection


def lock_for_create(kind: str, identity: str) -> bool:
    """Hold, until the transaction ends, a lock on creating the ``kind`` named ``identity``;
    returns whether a lock was taken (look again for the record after it).

    PostgreSQL: an advisory transaction lock on a 64-bit hash; a concurrent transaction asking
    for the same one waits until this one commits. SQLite needs none: its transactions take the
    write lock at BEGIN (``transaction_mode`` IMMEDIATE), so writers are serialised already.
    """
    if connection.vendor != "postgresql" or not identity:
        return False
    digest = hashlib.sha256(f"{kind}\x1f{identity}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
        )
    return True
