"""The expression language answers the same in SQL and in Python, for every operator, on
every pair of values from a small vocabulary (exhaustive, on the database under test)."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from leadcycle import expressions
from leadcycle.crm.models import Account
from leadcycle.testing.factories import AccountFactory

pytestmark = pytest.mark.django_db

TEXTS = ["", "Software", "software services", "services", "Soft_ware", "100%", "Retail"]
NUMBERS = [None, 0, 10, 50, 500]


def _sql_matches(expression, account_ids):
    sql, params = expressions.compile_sql(expression, "a")
    return set(
        Account.objects.extra(where=[sql.replace("a.", "crm_account.")], params=params)
        .filter(pk__in=account_ids)
        .values_list("pk", flat=True)
    )


def test_text_operators_agree_with_python():
    accounts = {AccountFactory(industry=text).pk: {"industry": text} for text in TEXTS}
    for op, value in itertools.product(
        ["eq", "ne", "contains", "starts_with", "lt", "ge", "is_empty"], TEXTS[1:]
    ):
        expression = expressions.parse(
            "account", {"field": "industry", "op": op, "value": value}, "e"
        )
        expected = {pk for pk, row in accounts.items() if expressions.evaluate(expression, row)}
        assert _sql_matches(expression, list(accounts)) == expected, (op, value)
    listed = expressions.parse(
        "account", {"field": "industry", "op": "in", "value": ["software", "RETAIL"]}, "e"
    )
    expected = {pk for pk, row in accounts.items() if expressions.evaluate(listed, row)}
    assert _sql_matches(listed, list(accounts)) == expected and len(expected) == 2


def test_number_operators_agree_with_python():
    accounts = {AccountFactory(employees=n).pk: {"employees": n} for n in NUMBERS}
    for op, value in itertools.product(["eq", "ne", "lt", "le", "gt", "ge"], [0, 10, 60]):
        expression = expressions.parse(
            "account", {"field": "employees", "op": op, "value": value}, "e"
        )
        expected = {pk for pk, row in accounts.items() if expressions.evaluate(expression, row)}
        assert _sql_matches(expression, list(accounts)) == expected, (op, value)
    empty = expressions.parse(
        "account", {"field": "employees", "op": "is_empty", "value": None}, "e"
    )
    assert len(_sql_matches(empty, list(accounts))) == 1


def test_like_wildcards_in_values_are_taken_literally():
    plain = AccountFactory(industry="Software").pk
    underscore = AccountFactory(industry="Soft_ware").pk
    expression = expressions.parse(
        "account", {"field": "industry", "op": "contains", "value": "t_w"}, "e"
    )
    assert _sql_matches(expression, [plain, underscore]) == {underscore}


@pytest.mark.parametrize(
    ("raw", "path", "code"),
    [
        ({"field": "nope", "op": "eq", "value": "x"}, "e.field", "unknown_field"),
        ({"field": "industry", "op": "matches", "value": "x"}, "e.op", "unknown_operator"),
        ({"field": "employees", "op": "eq", "value": "ten"}, "e.value", "type_mismatch"),
        ({"field": "industry", "op": "in", "value": []}, "e.value", "type_mismatch"),
        ({"field": "industry", "op": "eq", "value": " "}, "e.value", "required"),
        ({"field": "industry", "op": "in", "value": ["a", ""]}, "e.value", "required"),
        ("industry = x", "e", "invalid"),
    ],
)
def test_bad_expressions_name_the_part(raw, path, code):
    with pytest.raises(ValidationError) as caught:
        expressions.parse("account", raw, "e")
    ((name, errors),) = caught.value.error_dict.items()
    assert (name, errors[0].code) == (path, code)
