"""The audit models moved from compliance to portal in model state only: same tables, same trigger."""

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accounts.roles import ROLE_PERMISSIONS
from portal.models import AuditChainHead, AuditEvent, AuditEventContext

TABLES = {AuditEvent: "compliance_auditevent", AuditChainHead: "compliance_auditchainhead",
          AuditEventContext: "compliance_auditeventcontext"}
MOVE = [("portal", "0002_audit_models_from_compliance"), ("compliance", "0006_audit_models_to_portal"),
        ("portal", "0003_audit_action_choices")]


def test_models_keep_their_tables():
    for model, table in TABLES.items():
        assert model._meta.app_label == "portal"
        assert model._meta.db_table == table


def test_migration_state_has_the_models_in_portal_only():
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    for name in ("auditevent", "auditchainhead", "auditeventcontext"):
        assert ("portal", name) in state.models
        assert ("compliance", name) not in state.models
    assert state.models["portal", "auditevent"].options["db_table"] == "compliance_auditevent"
    # The compliance state drops the models only after portal has taken them over.
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    assert ("portal", "0002_audit_models_from_compliance") in graph.forwards_plan(MOVE[1])
    assert ("compliance", "0005_ethics_review_list_indexes") in graph.forwards_plan(MOVE[0])


# transaction=True: on SQLite the schema editor sqlmigrate opens refuses to run inside a transaction.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("app_label, name", MOVE)
def test_the_move_runs_no_schema_change(app_label, name):
    out = StringIO()
    call_command("sqlmigrate", app_label, name, stdout=out)
    sql = out.getvalue().upper()
    for statement in ("CREATE TABLE", "DROP TABLE", "ALTER TABLE", "CREATE INDEX", "DROP INDEX"):
        assert statement not in sql


@pytest.mark.django_db
def test_no_missing_migration():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


@pytest.mark.django_db
def test_permissions_granted_to_roles_exist_under_portal():
    assert ContentType.objects.get_for_model(AuditEvent).app_label == "portal"
    for dotted in {p for perms in ROLE_PERMISSIONS.values() for p in perms}:
        app_label, codename = dotted.split(".")
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), dotted


def test_the_append_only_trigger_guards_the_models_table(postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                       [AuditEvent._meta.db_table])
        assert [row[0] for row in cursor.fetchall()] == ["compliance_auditevent_no_update"]
