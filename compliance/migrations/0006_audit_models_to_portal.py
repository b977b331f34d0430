"""The audit trail's models now live in portal (portal 0002): drop them from compliance's model state.

State only: the tables, now owned by portal's models, are not dropped."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("compliance", "0005_ethics_review_list_indexes"),
        ("portal", "0002_audit_models_from_compliance"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEventContext"),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="AuditChainHead"),
            ],
            database_operations=[],
        ),
    ]
