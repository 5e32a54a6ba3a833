"""The segment query language: what each node means in SQL (checked against the data), and
bad queries refused naming the node at fault."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from leadcycle.segments import compiler
from leadcycle.testing.factories import ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db

KINDS = {"email_clicked": "Email clicked", "email_opened": "Email opened"}


def found(tree):
    group = compiler.Parser(KINDS, lambda pk: False).parse(tree)
    condition, params = compiler.compile_sql(group, now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.id FROM crm_contact c WHERE {condition}", params)
        return {row[0] for row in cursor.fetchall()}


def clicks(contact, n, days_ago=1):
    for _ in range(n):
        InteractionFactory(
            contact=contact,
            kind="email_clicked",
            occurred_at=timezone.now() - datetime.timedelta(days=days_ago),
        )


def test_interaction_counts_at_least_exactly_and_within_days():
    one, two, old = ContactFactory(), ContactFactory(), ContactFactory()
    clicks(one, 1)
    clicks(two, 2)
    clicks(old, 2, days_ago=100)
    block = {"interaction": {"all": []}, "kind": "email_clicked"}
    assert found({"all": [{**block, "count": {"exactly": 1}}]}) == {one.pk}
    assert found({"all": [{**block, "count": {"at_least": 2}}]}) == {two.pk, old.pk}
    assert found({"all": [{**block, "count": {"at_least": 2}, "within_days": 90}]}) == {two.pk}
    assert found({"all": [{**block, "has": False}]}) == set()
    assert found({"all": [{**block, "count": {"exactly": 0}, "within_days": 90}]}) == {old.pk}


@pytest.mark.parametrize(
    ("tree", "path", "code"),
    [
        ({"all": [{"field": "salary", "op": "eq", "value": "1"}]}, "all.0.field", "unknown_field"),
        (
            {"all": [{"lead": {"all": [{"field": "topic", "op": "near", "value": "x"}]}}]},
            "all.0.lead.all.0.op",
            "unknown_operator",
        ),
        (
            {"all": [{"account": {"all": [{"field": "employees", "op": "gt", "value": "ten"}]}}]},
            "all.0.account.all.0.value",
            "type_mismatch",
        ),
        ({"all": [{"planet": {}}]}, "all.0", "unknown_node"),
        (
            {"all": [{"interaction": {"all": []}, "kind": "telepathy"}]},
            "all.0.kind",
            "unknown_kind",
        ),
        (
            {"all": [{"interaction": {"all": []}, "kind": "email_clicked", "count": {"most": 2}}]},
            "all.0.count",
            "invalid_count",
        ),
        (
            {"all": [{"lead": {"all": [{"account": {"all": []}}]}}]},
            "all.0.lead.all.0.account",
            "too_far",
        ),
        ({"all": [{"segment": 99}]}, "all.0.segment", "unknown_segment"),
        ({"every": []}, "query", "invalid_group"),
    ],
)
def test_bad_queries_name_the_node(tree, path, code):
    with pytest.raises(ValidationError) as caught:
        compiler.Parser(KINDS, lambda pk: False).parse(tree)
    assert caught.value.error_dict[path][0].code == code
