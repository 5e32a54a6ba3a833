"""Migration operations more than one app uses."""

from collections.abc import Iterator
from typing import Any

from django.db import migrations, models


def fk_indexes_dropped(
    app_label: str, alter_fields: list[migrations.AlterField]
) -> migrations.SeparateDatabaseAndState:
    """Foreign keys that lose their own index (``db_index=False``) because a composite or
    unique index already leads with their column. Django would apply each ``AlterField`` by
    copying the whole table on SQLite, and on PostgreSQL by dropping the foreign key and
    validating it again over every row; this drops just the index, by the name Django gave
    it, and creates it again when the migration is unapplied."""
    pairs = [(op.model_name, op.name) for op in alter_fields]

    def indexes(apps: Any, schema_editor: Any) -> Iterator[tuple[type[models.Model], Any, str]]:
        for model_name, field_name in pairs:
            model = apps.get_model(app_label, model_name)
            field = model._meta.get_field(field_name)
            name = schema_editor._create_index_name(model._meta.db_table, [field.column])
            yield model, field, name

    def drop(apps: Any, schema_editor: Any) -> None:
        for _, _, name in indexes(apps, schema_editor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps: Any, schema_editor: Any) -> None:
        for model, field, _ in indexes(apps, schema_editor):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(drop, create)],
        state_operations=list(alter_fields),
    )
