from __future__ import annotations

from rest_framework import serializers

from allocations.applications.api.serializers import MAX_INT, OrganisationRefSerializer, TeamMemberCreateSerializer
from allocations.applications.models import (
    ApplicationStatus,
)
from allocations.catalogue.models import Site, SiteCapacity
from allocations.grants.models import Allocation, AllocationQuota, ChangeKind, ChangeRequest, SyncState

# ------------------------------------------------------------------------------------ allocations

class QuotaOutSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = AllocationQuota
        fields = ["site", "gpu_hours", "cpu_core_hours", "storage_tb"]
        read_only_fields = fields


class SyncAttemptSerializer(serializers.Serializer):
    site = serializers.CharField(source="site.code")
    kind = serializers.CharField()
    outcome = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)


class UsageSerializer(serializers.Serializer):
    site = serializers.CharField(source="site.code")
    taken_at = serializers.DateTimeField()
    gpu_hours_used = serializers.SerializerMethodField()
    cpu_core_hours_used = serializers.SerializerMethodField()

    def get_gpu_hours_used(self, snap) -> float:
        return round(snap.gpu_minutes / 60, 2)

    def get_cpu_core_hours_used(self, snap) -> float:
        return round(snap.cpu_minutes / 60, 2)


class ProvisioningSerializer(serializers.Serializer):
    sync_state = serializers.ChoiceField(choices=SyncState.choices)
    desired_version = serializers.IntegerField()
    synced_version = serializers.IntegerField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    last_attempt = serializers.SerializerMethodField()

    def get_last_attempt(self, alloc) -> SyncAttemptSerializer(allow_null=True):
        attempts = getattr(alloc, "last_attempts", [])
        return SyncAttemptSerializer(attempts[0]).data if attempts else None


class AllocationSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(read_only=True)
    application = serializers.CharField(source="application.reference", read_only=True)
    quotas = QuotaOutSerializer(many=True, read_only=True)
    provisioning = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()

    class Meta:
        model = Allocation
        fields = ["reference", "application", "organisation", "status", "status_reason", "start_date", "end_date",
                  "slurm_account", "quotas", "provisioning", "usage", "created_at"]
        read_only_fields = fields

    def get_provisioning(self, alloc) -> ProvisioningSerializer:
        return ProvisioningSerializer(alloc).data

    def get_usage(self, alloc) -> UsageSerializer(many=True):
        return UsageSerializer(getattr(alloc, "latest_usage", []), many=True).data


class ConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class ChangeRequestSerializer(serializers.ModelSerializer):
    allocation = serializers.CharField(source="allocation.reference", read_only=True)

    class Meta:
        model = ChangeRequest
        fields = ["id", "allocation", "kind", "payload", "justification", "status", "requested_at", "decided_at",
                  "decision_reason"]
        read_only_fields = fields


class TopUpRowSerializer(serializers.Serializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.all())
    gpu_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    cpu_core_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    storage_tb = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, default=0,
                                          help_text="Extra storage in TB, on a site that offers storage.")


class ChangeRequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    justification = serializers.CharField(allow_blank=True, max_length=5000)
    end_date = serializers.DateField(required=False, allow_null=True, help_text="extension: the new end date.")
    quotas = TopUpRowSerializer(many=True, required=False, max_length=20,
                                help_text="top_up: extra hours (and storage) per site.")
    members = TeamMemberCreateSerializer(many=True, required=False, max_length=20,
                                         help_text="add_members: the people to add.")

    def payload(self) -> dict:
        data = self.validated_data
        kind = data["kind"]
        if kind == ChangeKind.EXTENSION:
            end = data.get("end_date")
            return {"end_date": end.isoformat() if end else ""}
        if kind == ChangeKind.TOP_UP:
            return {"quotas": {str(row["site"].pk): {"gpu_hours": row["gpu_hours"],
                                                     "cpu_core_hours": row["cpu_core_hours"],
                                                     **({"storage_tb": str(row["storage_tb"])}
                                                        if row["storage_tb"] else {})}
                               for row in data.get("quotas") or []}}
        return {"members": [dict(m) for m in data.get("members") or []]}


class AllocationStatusChangeSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000, required=False, default="",
                                   help_text="Required to suspend or revoke; shown to the organisation.")


class QuarterHoursSerializer(serializers.Serializer):
    gpu_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)
    cpu_core_hours = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)


def split_field(**kwargs) -> serializers.DictField:
    """The hours per site and quarter a manager sets instead of the pro-rata split:
    {"zellik": {"2027-Q1": {"gpu_hours": 600, "cpu_core_hours": 0}, ...}}."""
    return serializers.DictField(
        child=serializers.DictField(child=QuarterHoursSerializer(), allow_empty=False), allow_empty=False,
        required=False, allow_null=True, default=None,
        help_text="Optional: site code -> quarter (\"2027-Q1\") -> GPU-hours and CPU core-hours reserved in it, "
                  "instead of the pro-rata split over the quarters the allocation spans (from today when it has "
                  "started). Per site the quarters must add up to what is granted (a quarter left out gets "
                  "nothing) and none may take more than it has free; errors are keyed "
                  "\"split.<site>.<quarter>.<gpu_hours|cpu_core_hours>\".", **kwargs)


def split_by_site_id(split: dict | None) -> dict | None:
    """The split keyed by site code (API) -> keyed by site id (services); an unknown code is a 400."""
    if split is None:
        return None
    sites = {s.code: s.pk for s in Site.objects.filter(code__in=list(split))}
    unknown = sorted(set(split) - set(sites))
    if unknown:
        raise serializers.ValidationError({"split": [f"Unknown site: {code[:40]}." for code in unknown]})
    return {sites[code]: quarters for code, quarters in split.items()}


class ChangeDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, max_length=2000, required=False, default="")
    aid_confirmed = serializers.BooleanField(
        required=False, default=False, help_text="For a top-up under a de minimis access mode that warns: record it "
                                                 "even above the single undertaking's ceiling (docs/aid.md).")
    split = split_field()


STATUS_CHOICES = ApplicationStatus.choices


# ------------------------------------------------------------------------------------ capacity

class CapacityQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2999, required=False,
                                    help_text="The year whose quarters to show (default: this year).")


class SiteCapacitySerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code")
    site_name = serializers.CharField(source="site.name")
    remaining_gpu_hours = serializers.IntegerField()
    remaining_cpu_core_hours = serializers.IntegerField()
    gpu_percent = serializers.IntegerField(help_text="Share of the GPU-hours granted, in percent.")
    used_gpu_hours = serializers.IntegerField(
        help_text="GPU-hours used in the quarter by the allocations that hold a reservation in it (each "
                  "allocation's use fills its quarters in order).")

    class Meta:
        model = SiteCapacity
        fields = ["site", "site_name", "gpu_hours", "committed_gpu_hours", "used_gpu_hours", "remaining_gpu_hours",
                  "gpu_percent",
                  "cpu_core_hours", "committed_cpu_core_hours", "remaining_cpu_core_hours", "storage_tb",
                  "committed_storage_tb"]
        read_only_fields = fields


class CapacityQuarterSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    label = serializers.CharField(help_text="e.g. 2026-Q2")
    sites = SiteCapacitySerializer(many=True)


class CapacitySerializer(serializers.Serializer):
    year = serializers.IntegerField()
    years = serializers.ListField(child=serializers.IntegerField(), help_text="Years with published capacity.")
    quarters = CapacityQuarterSerializer(many=True)
