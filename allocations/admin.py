"""Django admin for reference data and for looking at the review and allocation records.

Reference data (sites, capacities, access modes, calls, reviewer pools, standing conflict declarations)
is edited here, audited (portal.admin.AuditedAdmin). Everything that follows a workflow is read-only:
transitions go through the services, which check the transition table, write the audit trail and mark
the clusters for provisioning."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from allocations.aid.models import AidLedgerLine, LinkedEnterprise, SiteReferencePrice
from allocations.catalogue.models import AccessMode, Call, Site, SiteAccessMode, SiteCapacity
from allocations.grants.models import Allocation, AllocationQuota, ChangeRequest
from allocations.provisioning.identity.models import DirectoryAccount
from allocations.review.models import ConflictDeclaration, Decision, Review, ReviewAssignment, ReviewerPool
from allocations.terms.models import TermsAcceptance, TermsVersion
from portal.admin import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["name", "code", "slurm_cluster", "gpu_model", "provisioning_mode", "slurm_backend",
                    "identity_backend", "storage_backend", "is_active"]
    list_filter = ["is_active", "provisioning_mode", "slurm_backend", "identity_backend", "storage_backend",
                   "gpu_model"]
    search_fields = ["name", "code", "slurm_cluster"]
    # Connection settings may hold a credential: the trail records that they changed.
    audit_redacted_fields = ("backend_options",)


@admin.register(SiteAccessMode)
class SiteAccessModeAdmin(AuditedAdmin):
    """Fair share, default QOS and job limits the portal writes on the Slurm accounts of one access mode on one
    site; the next provisioning run or full reconcile writes them (docs/slurm.md)."""

    list_display = ["site", "access_mode", "fairshare", "default_qos", "max_running_jobs", "max_job_hours",
                    "max_gpus_at_once", "partitions"]
    list_filter = ["site", "access_mode"]
    list_select_related = ["site", "access_mode"]


@admin.register(DirectoryAccount)
class DirectoryAccountAdmin(ReadOnlyAdmin):
    """Which person holds which directory account on which site: read-only (the provisioning run binds)."""

    list_display = ["uid", "site", "uid_number", "bound_by", "created_by_portal", "bound_at", "locked_at"]
    list_filter = ["site", "bound_by", "created_by_portal"]
    search_fields = ["uid"]


@admin.register(SiteCapacity)
class SiteCapacityAdmin(AuditedAdmin):
    list_display = ["site", "period_start", "gpu_hours", "committed_gpu_hours", "cpu_core_hours",
                    "committed_cpu_core_hours", "storage_tb", "committed_storage_tb"]
    list_filter = ["site", "period_start"]
    list_select_related = ["site"]
    search_fields = ["site__name"]
    # Committed figures move only with approvals (under a row lock), never by hand.
    readonly_fields = ["committed_gpu_hours", "committed_cpu_core_hours", "committed_storage_tb"]


@admin.register(AccessMode)
class AccessModeAdmin(AuditedAdmin):
    list_display = ["name", "code", "max_gpu_hours", "sla_working_days", "requires_call", "is_active", "order"]
    list_filter = ["is_active", "requires_call"]
    search_fields = ["name", "code"]


@admin.register(Call)
class CallAdmin(AuditedAdmin):
    list_display = ["title", "access_mode", "opens_at", "cutoff_at"]
    list_filter = ["access_mode"]
    list_select_related = ["access_mode"]
    search_fields = ["title"]
    date_hierarchy = "cutoff_at"


@admin.register(ReviewerPool)
class ReviewerPoolAdmin(AuditedAdmin):
    list_display = ["name", "kind", "restricted_sectors", "member_count"]
    list_filter = ["kind"]
    search_fields = ["name", "members__email"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("members"))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj):
        return obj._members


@admin.register(ConflictDeclaration)
class ConflictDeclarationAdmin(AuditedAdmin):
    list_display = ["reviewer", "organisation", "declared_at"]
    list_select_related = ["reviewer", "organisation"]
    search_fields = ["reviewer__email", "organisation__legal_name"]
    raw_id_fields = ["reviewer", "organisation"]
    # The reviewer's own words: the trail, which is never erased, records that they changed.
    audit_redacted_fields = ("statement",)


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["application", "reviewer", "kind", "status", "due_date", "assigned_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["application", "reviewer"]
    search_fields = ["application__reference", "reviewer__email"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "weighted_score", "recommendation", "submitted_at"]
    list_filter = ["recommendation"]
    list_select_related = ["assignment__application", "assignment__reviewer"]
    search_fields = ["assignment__application__reference", "assignment__reviewer__email"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["application", "outcome", "decided_by", "decided_at"]
    list_filter = ["outcome"]
    list_select_related = ["application", "decided_by"]
    search_fields = ["application__reference"]


class AllocationQuotaInline(ReadOnlyInline):
    model = AllocationQuota
    fields = ["site", "gpu_hours", "cpu_core_hours", "storage_tb"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    """The status and everything the clusters follow change through services only (allocation_suspend /
    _resume / _revoke, change requests, provisioning)."""

    list_display = ["reference", "organisation", "status", "start_date", "end_date", "sync_state",
                    "desired_version", "synced_version"]
    list_filter = ["status", "sync_state"]
    list_select_related = ["organisation"]
    search_fields = ["reference", "slurm_account", "organisation__legal_name"]
    inlines = [AllocationQuotaInline]


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ["allocation", "kind", "status", "requested_by", "requested_at", "decided_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["allocation", "requested_by", "decided_by"]
    search_fields = ["allocation__reference"]


@admin.register(TermsVersion)
class TermsVersionAdmin(ReadOnlyAdmin):
    """A published version is never edited: operators publish the next one on /staff/terms/publish/
    (allocations.terms.services.terms_publish, audited)."""

    list_display = ["__str__", "site", "number", "effective_date", "grace_days", "published_at", "published_by"]
    list_filter = ["site"]
    list_select_related = ["site", "published_by"]


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["version", "user", "accepted_at", "language"]
    list_filter = ["version__site"]
    list_select_related = ["version__site", "user"]
    search_fields = ["user__email"]
# The aid ledger (allocations/aid, docs/aid.md): reference prices are reference data, edited here and audited;
# the ledger, links and declarations are written by their services only.

@admin.register(SiteReferencePrice)
class SiteReferencePriceAdmin(AuditedAdmin):
    list_display = ["site", "valid_from", "valid_to", "gpu_hour_price", "cpu_core_hour_price", "currency", "source"]
    list_filter = ["site"]
    list_select_related = ["site"]
    search_fields = ["site__name", "source"]


@admin.register(AidLedgerLine)
class AidLedgerLineAdmin(ReadOnlyAdmin):
    """Corrections are recorded on the aid ledger page (/staff/aid/), by operators, with a reason."""

    list_display = ["granted_on", "beneficiary_name", "allocation", "site", "kind", "legal_basis", "value",
                    "currency"]
    list_filter = ["legal_basis", "kind", "site"]
    list_select_related = ["allocation", "site"]
    search_fields = ["beneficiary_name", "beneficiary_vat", "allocation__reference"]
    date_hierarchy = "granted_on"


@admin.register(LinkedEnterprise)
class LinkedEnterpriseAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "name", "country", "vat_number", "relation", "linked_organisation"]
    list_filter = ["relation"]
    list_select_related = ["organisation", "linked_organisation"]
    search_fields = ["organisation__legal_name", "name", "vat_number"]
