from .allocation import (
    Allocation,
    AllocationQuota,
    AllocationStatus,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    SyncState,
)
from .applications import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    EthicsIssue,
    ModelActivity,
    RDType,
    ReferenceSequence,
    RequestedResource,
    TeamMember,
)
from .provisioning import HandoverTask, RecordedChange, SyncAttempt, SyncAttemptKind, SyncOutcome, UsageSnapshot
from .reference import AccessMode, Call, GpuModel, ProvisioningMode, Site, SiteCapacity, SlurmBackendKind
from .reviews import (
    ApplicantReply,
    AssignmentStatus,
    ConflictDeclaration,
    Decision,
    DecisionOutcome,
    Review,
    ReviewAssignment,
    ReviewerPool,
    ReviewKind,
)

__all__ = [
    "AccessMode", "Allocation", "AllocationQuota", "AllocationStatus", "ApplicantReply", "Application",
    "ApplicationStatus", "AssignmentStatus", "Attachment", "AttachmentKind", "Call", "ChangeKind", "ChangeRequest",
    "ChangeStatus", "ConflictDeclaration", "Decision", "DecisionOutcome", "EthicsIssue", "GpuModel", "HandoverTask",
    "ModelActivity", "ProvisioningMode", "RDType", "RecordedChange", "ReferenceSequence", "RequestedResource",
    "Review", "ReviewAssignment", "ReviewKind", "ReviewerPool", "Site", "SiteCapacity", "SlurmBackendKind",
    "SyncAttempt", "SyncAttemptKind", "SyncOutcome", "SyncState", "TeamMember", "UsageSnapshot",
]
