"""Serializers of the operator's provisioning endpoints: explicit fields, read from the selectors' rows."""

from __future__ import annotations

from rest_framework import serializers

from allocations.catalogue.models import ProvisioningMode, SlurmBackendKind
from allocations.provisioning.models import ComparedSetting, HandoverKind, SyncOutcome


class SyncCountsSerializer(serializers.Serializer):
    """Allocations with a quota on the site, per sync state (one field per allocations.grants SyncState)."""

    in_sync = serializers.IntegerField()
    needs_sync = serializers.IntegerField()
    error = serializers.IntegerField()
    handed_over = serializers.IntegerField()


class FullReconcileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=SyncOutcome.choices)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    differences = serializers.SerializerMethodField(help_text="Changes the reconcile planned (drift found).")
    error = serializers.CharField(allow_blank=True)

    def get_differences(self, attempt) -> int:
        return len(attempt.drift or [])


class SiteSyncSerializer(serializers.Serializer):
    code = serializers.CharField(source="site.code")
    name = serializers.CharField(source="site.name")
    cluster = serializers.CharField(source="site.slurm_cluster")
    is_active = serializers.BooleanField(source="site.is_active")
    provisioning_mode = serializers.ChoiceField(source="site.provisioning_mode", choices=ProvisioningMode.choices)
    backend = serializers.ChoiceField(choices=SlurmBackendKind.choices)
    sync_counts = SyncCountsSerializer(source="counts")
    last_full_reconcile = FullReconcileSerializer(source="last_full", allow_null=True)


class DriftRowSerializer(serializers.Serializer):
    account = serializers.CharField()
    field = serializers.ChoiceField(choices=ComparedSetting.choices)
    label = serializers.SerializerMethodField()
    desired = serializers.CharField(allow_blank=True, help_text="As text; empty: not set (or no users).")
    actual = serializers.CharField(allow_blank=True, allow_null=True,
                                   help_text="As text; empty: not set; null: Slurm does not hold the account.")
    differs = serializers.BooleanField()

    def get_label(self, row) -> str:
        return str(ComparedSetting(row.field).label)


class SiteDriftSerializer(serializers.Serializer):
    site = serializers.CharField(source="site.code")
    backend = serializers.ChoiceField(choices=SlurmBackendKind.choices)
    readable = serializers.BooleanField(help_text="False for a hand-over site: the portal does not read it.")
    in_sync = serializers.BooleanField(allow_null=True, help_text="Null when the site was never read.")
    read_at = serializers.DateTimeField(allow_null=True, help_text="When the rows below were read from Slurm "
                                        "(a task: POST .../sites/<code>/refresh/ on the HTML page asks for one).")
    error = serializers.CharField(allow_blank=True, help_text="Why the last read failed (the rows are older).")
    error_at = serializers.DateTimeField(allow_null=True)
    changes = serializers.ListField(child=serializers.CharField(), help_text="What a reconcile would have changed "
                                    "at read_at.")
    rows = DriftRowSerializer(many=True, help_text="Every setting the planner compares, per desired account.")


class HandoverTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=HandoverKind.choices, help_text="slurm: the Slurm account of a hand-over "
                                   "site; storage: the project directory and its quota.")
    site = serializers.CharField(source="site.code")
    allocation = serializers.CharField(source="allocation.reference")
    desired_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    changes = serializers.JSONField(help_text="slurm: the desired accounts to set up (a list); storage: the request "
                                    "(path, group, owner, quota_tb).")
    commands = serializers.ListField(child=serializers.CharField(), help_text="The sacctmgr lines to run, "
                                     "from what the last task done put there.")
    fields = serializers.ListField(child=serializers.DictField(), help_text="The settings to confirm afterwards: "
                                   "account, field, value.")
    done_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class HandoverDoneSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class QueuedSerializer(serializers.Serializer):
    message = serializers.CharField()
