"""The schema the migrations build has a foreign key's own index exactly where the model asks
for one: the covered ones dropped by ``migration_ops.fk_indexes_dropped``, the rest kept."""

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db


def test_foreign_keys_have_their_own_index_exactly_where_the_models_say():
    wrong = []
    checked = 0
    editor = connection.SchemaEditorClass(connection)  # for its index names only
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model.__module__.startswith("leadcycle"):
                continue
            present = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for field in model._meta.local_fields:
                if not isinstance(field, models.ForeignKey) or field.unique:
                    continue
                name = editor._create_index_name(model._meta.db_table, [field.column])
                checked += 1
                if (name in present) != field.db_index:
                    wrong.append(f"{model.__name__}.{field.name}")
    assert checked > 50 and wrong == []
