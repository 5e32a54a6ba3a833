"""Reads for segments: a page of members with their names, and membership history."""

from typing import Any

from leadcycle.crm.models import Contact
from leadcycle.segments.models import MembershipChange, Segment, SegmentMember


def members_page(*, segment: Segment, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """Members by contact id, with their email and name: two queries whatever the page."""
    rows = list(
        SegmentMember.objects.filter(segment=segment)
        .order_by("contact_id")
        .values_list("contact_id", "added_at")[offset : offset + limit]
    )
    people: dict[int, dict[str, Any]] = {
        c["id"]: dict(c)
        for c in Contact.objects.filter(pk__in=[r[0] for r in rows]).values(
            "id", "email", "first_name", "last_name"
        )
    }
    results = [
        {
            "contact_id": pk,
            "email": people.get(pk, {}).get("email", ""),
            "first_name": people.get(pk, {}).get("first_name", ""),
            "last_name": people.get(pk, {}).get("last_name", ""),
            "added_at": added,
        }
        for pk, added in rows
    ]
    return {"count": segment.member_count, "results": results}


def recent_changes(*, segment: Segment, limit: int = 50) -> list[MembershipChange]:
    return list(MembershipChange.objects.filter(segment=segment)[:limit])
