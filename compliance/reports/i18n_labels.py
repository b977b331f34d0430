"""Labels that reports print but other apps define (choices of accounts and allocations models).

Listed here with gettext_noop so that `makemessages` puts them in the compliance catalogue too: a report
rendered in French or Dutch then shows them translated even before a project-wide catalogue exists. The
project catalogue (LOCALE_PATHS) takes precedence over this one when it has them."""

from django.utils.translation import gettext_noop

LABELS = (
    # accounts.models.Sector
    gettext_noop("Health"), gettext_noop("Security"), gettext_noop("Space"), gettext_noop("Defence"),
    gettext_noop("Public services"), gettext_noop("Manufacturing"), gettext_noop("Research"), gettext_noop("Other"),
    # accounts.models.OrganisationType and accounts.sme.SMEClass
    gettext_noop("SME"), gettext_noop("Start-up"), gettext_noop("Research organisation"), gettext_noop("Public body"),
    gettext_noop("Large enterprise"), gettext_noop("Micro enterprise"), gettext_noop("Small enterprise"),
    gettext_noop("Medium-sized enterprise"), gettext_noop("Not an SME"),
    # allocations: application, decision, allocation and provisioning states
    gettext_noop("Draft"), gettext_noop("Submitted (eligibility check)"), gettext_noop("In review"),
    gettext_noop("Awaiting decision"), gettext_noop("Approved"), gettext_noop("Rejected"),
    gettext_noop("Revision requested"), gettext_noop("Withdrawn"), gettext_noop("Provisioning"),
    gettext_noop("Active"), gettext_noop("Suspended"), gettext_noop("Expired"), gettext_noop("Revoked"),
    gettext_noop("In sync"), gettext_noop("Waiting for provisioning"), gettext_noop("Provisioning failed; will retry"),
    gettext_noop("Handed over to operators"), gettext_noop("Running"), gettext_noop("Success"),
    gettext_noop("No change needed"), gettext_noop("Drift found and fixed"), gettext_noop("Error"),
    gettext_noop("Handed over"),
    # allocations: reviews
    gettext_noop("Technical"), gettext_noop("Scientific"), gettext_noop("Assigned (conflict declaration pending)"),
    gettext_noop("No conflict declared: reviewing"), gettext_noop("Conflict of interest declared"),
    gettext_noop("Review submitted"), gettext_noop("Cancelled"), gettext_noop("Approve"),
    gettext_noop("Ask for a revision"), gettext_noop("Reject"),
)
