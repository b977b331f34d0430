"""The app's model registry: Django loads the models of `allocations` from this module.

Each domain defines its models in its own subpackage (`catalogue`, `applications`, `review`,
`grants`, `provisioning`, `aid`); code imports them from there, never from here. All keep the app label
`allocations`, so their tables and migrations are those of the app."""

from allocations.aid.models import (  # noqa: F401
    AidLedgerLine,
    AidSelfDeclaration,
    DeclaredAid,
    LinkedEnterprise,
    SiteReferencePrice,
)
from allocations.applications.models import (  # noqa: F401
    Application,
    Attachment,
    ReferenceSequence,
    RequestedResource,
    SubmissionDeclaration,
    TeamMember,
)
from allocations.catalogue.models import AccessMode, Call, Site, SiteAccessMode, SiteCapacity  # noqa: F401
from allocations.grants.models import Allocation, AllocationQuota, ChangeRequest  # noqa: F401
from allocations.outcomes.models import FinalReport, FinalReportReminder, Output, SubmissionOverride  # noqa: F401
from allocations.provisioning.identity.models import DirectoryAccount  # noqa: F401
from allocations.provisioning.models import (  # noqa: F401
    HandoverTask,
    RecordedChange,
    StorageProvision,
    SyncAttempt,
    UsageSnapshot,
)
from allocations.review.models import (  # noqa: F401
    ApplicantReply,
    ConflictDeclaration,
    Decision,
    Review,
    ReviewAssignment,
    ReviewerPool,
)
from allocations.terms.models import TermsAcceptance, TermsVersion  # noqa: F401
