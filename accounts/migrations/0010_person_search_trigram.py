"""Trigram indexes on people's names and e-mail addresses, for the audit trail's search by the person who
acted (compliance.selectors.audit_event_overview), on PostgreSQL only; SQLite (development) has none.

Without them the search reads every account: 12 to 23 ms for 10,000 people, on every search of the trail,
whatever the text."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS user_full_name_trgm ON accounts_user "
                          "USING gin (UPPER(full_name) gin_trgm_ops)")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS user_email_trgm ON accounts_user "
                          "USING gin (UPPER(email) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS user_full_name_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS user_email_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_notification_kinds_merged")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
