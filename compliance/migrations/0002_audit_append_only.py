"""Make the audit trail append-only on PostgreSQL, and create the chain head row.

UPDATE and DELETE are refused row by row. TRUNCATE is left to database privileges (the portal's
role should not own the table in production; see docs/deploy.md): test databases are emptied
with TRUNCATE between transactional tests."""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION compliance_auditevent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS compliance_auditevent_no_update ON compliance_auditevent;
CREATE TRIGGER compliance_auditevent_no_update BEFORE UPDATE OR DELETE ON compliance_auditevent
    FOR EACH ROW EXECUTE FUNCTION compliance_auditevent_immutable();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS compliance_auditevent_no_update ON compliance_auditevent;
DROP FUNCTION IF EXISTS compliance_auditevent_immutable();
"""


def install_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds PL/pgSQL's own '%' placeholder, which psycopg must not parse.
        schema_editor.execute(TRIGGER_SQL, params=None)


def remove_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def create_head(apps, schema_editor):
    AuditChainHead = apps.get_model("compliance", "AuditChainHead")
    AuditChainHead.objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [
        migrations.RunPython(install_trigger, remove_trigger),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
