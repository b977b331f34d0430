"""The audit trail's models move from compliance to portal (the core), without touching data.

Only Django's model state changes: the tables keep their names (Meta.db_table), so the rows, their
indexes and the PostgreSQL append-only trigger on compliance_auditevent (compliance 0002) stay as
they are. compliance 0006 removes the models from compliance's state."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

AUDIT_MODELS = ("auditevent", "auditchainhead", "auditeventcontext")


def move_content_types(apps, schema_editor):
    """Keep the content types (and so the permissions granted to groups, e.g. view_auditevent, and the
    admin log entries) of a database migrated before the move: relabel them instead of creating new ones."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in AUDIT_MODELS:
        if not ContentType.objects.using(db).filter(app_label="portal", model=model).exists():
            ContentType.objects.using(db).filter(app_label="compliance", model=model).update(app_label="portal")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in AUDIT_MODELS:
        if not ContentType.objects.using(db).filter(app_label="compliance", model=model).exists():
            ContentType.objects.using(db).filter(app_label="portal", model=model).update(app_label="compliance")


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0001_outbox"),
        ("compliance", "0005_ethics_review_list_indexes"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("seq", models.BigIntegerField(unique=True)),
                        ("created_at", models.DateTimeField()),
                        ("action", models.CharField(db_index=True, max_length=80)),
                        ("object_type", models.CharField(max_length=80)),
                        ("object_id", models.CharField(max_length=64)),
                        ("changes", models.JSONField(default=dict)),
                        ("request_id", models.CharField(blank=True, max_length=64)),
                        ("prev_hash", models.CharField(max_length=64)),
                        ("hash", models.CharField(max_length=64, unique=True)),
                        ("actor", models.ForeignKey(blank=True, db_constraint=False, null=True,
                                                    on_delete=django.db.models.deletion.DO_NOTHING,
                                                    related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "audit event",
                        "verbose_name_plural": "audit events",
                        "db_table": "compliance_auditevent",
                        "ordering": ["seq"],
                        "indexes": [
                            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
                            models.Index(fields=["created_at"], name="audit_created_idx"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="AuditChainHead",
                    fields=[
                        ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                        ("seq", models.BigIntegerField(default=0)),
                        ("head_hash", models.CharField(default="0" * 64, max_length=64)),
                    ],
                    options={
                        "db_table": "compliance_auditchainhead",
                        "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)),
                                                               name="audit_chain_head_singleton")],
                    },
                ),
                migrations.CreateModel(
                    name="AuditEventContext",
                    fields=[
                        ("event", models.OneToOneField(db_constraint=False,
                                                       on_delete=django.db.models.deletion.DO_NOTHING,
                                                       primary_key=True, related_name="context", serialize=False,
                                                       to="portal.auditevent")),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                    ],
                    options={"db_table": "compliance_auditeventcontext"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
