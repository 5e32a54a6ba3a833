from typing import Any

from django import template

register = template.Library()


@register.filter
def get_value(values: dict[str, Any], key: str) -> Any:
    value = values.get(key) if isinstance(values, dict) else None
    return "" if value is None else value


@register.filter
def get_error(errors: dict[str, Any], key: str) -> Any:
    return errors.get(key) if isinstance(errors, dict) else None
