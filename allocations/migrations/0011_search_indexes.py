"""Trigram indexes for the staff lists' search (portal.listquery.search), on PostgreSQL only.

``icontains`` and ``istartswith`` compile to ``UPPER(column::text) LIKE UPPER(pattern)`` on PostgreSQL;
a GIN index of ``UPPER(column)`` with ``gin_trgm_ops`` serves both, with the pattern anywhere in the
column. SQLite (development) has no such index: this migration does nothing there."""

from django.db import migrations

INDEXES = {
    "application_title_trgm": ("allocations_application", "title"),
    "application_reference_trgm": ("allocations_application", "reference"),
    "allocation_reference_trgm": ("allocations_allocation", "reference"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("allocations", "0010_capacity_reservations")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
