"""A trigram index on organisation names, for the staff lists' search by organisation
(portal.listquery.search), on PostgreSQL only; SQLite (development) has none: nothing happens there."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS organisation_name_trgm ON accounts_organisation "
                          "USING gin (UPPER(legal_name) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS organisation_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_merge_0003_addressed_mail_limits_0003_notifications")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
