"""The audit trail's vocabulary: every action an event may record, with the sentence a person reads.

The values are stored in AuditEvent.action and hashed into the chain, so a value is never renamed or
removed (the events that hold it would no longer verify); only labels may change. `audit_record`
refuses an action that is not listed here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # accounts: organisations, memberships, invitations, API tokens, personal data
    ORGANISATION_CREATED = "organisation.created", _("Organisation created")
    ORGANISATION_UPDATED = "organisation.updated", _("Organisation details updated")
    INVITATION_CREATED = "invitation.created", _("Invitation sent")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    MEMBERSHIP_ROLE_CHANGED = "membership.role_changed", _("Member's role changed")
    MEMBERSHIP_REMOVED = "membership.removed", _("Member removed from the organisation")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    USER_ERASED = "user.erased", _("Personal data erased")
    NOTIFICATION_PREFERENCE_CHANGED = "notification_preference.changed", _("Notification e-mail preference changed")

    # allocations: the application and its draft steps
    APPLICATION_CREATED = "application.created", _("Application created")
    APPLICATION_PROJECT_SAVED = "application.project_saved", _("Project details saved")
    APPLICATION_RESOURCES_SAVED = "application.resources_saved", _("Requested resources saved")
    APPLICATION_MODEL_SAVED = "application.model_saved", _("AI model details saved")
    APPLICATION_ETHICS_ISSUES_SAVED = "application.ethics_issues_saved", _("Ethics issues saved")
    APPLICATION_STATUS_CHANGED = "application.status_changed", _("Application status changed")
    APPLICATION_REPLY_SUBMITTED = "application.reply_submitted", _("Reply to the reviews sent")
    APPLICATION_DECLARATION_MADE = "application.declaration_made", _("Declaration of honour made")
    TEAM_MEMBER_ADDED = "team_member.added", _("Team member added")
    TEAM_MEMBER_REMOVED = "team_member.removed", _("Team member removed")
    TEAM_MEMBER_CONFIRMED = "team_member.confirmed", _("Team member confirmed their participation")
    TEAM_MEMBER_CONFIRMATION_RESENT = "team_member.confirmation_resent", _("Team confirmation sent again")
    ATTACHMENT_ADDED = "attachment.added", _("Document attached")
    ATTACHMENT_REMOVED = "attachment.removed", _("Document removed")
    ATTACHMENT_DOWNLOADED = "attachment.downloaded", _("Document downloaded by staff")

    # allocations: review
    REVIEW_ASSIGNED = "review.assigned", _("Reviewer assigned")
    REVIEW_COI_DECLARED = "review.coi_declared", _("Reviewer declared their conflicts of interest")
    REVIEW_SUBMITTED = "review.submitted", _("Review submitted")
    REVIEW_ASSIGNMENT_CANCELLED = "review.assignment_cancelled", _("Review assignment cancelled")
    REVIEW_ASSIGNMENT_CHANGED = "review.assignment_changed", _("Review assignment status changed")

    # allocations: the allocation, its changes, provisioning and usage
    ALLOCATION_CREATED = "allocation.created", _("Allocation created")
    ALLOCATION_STATUS_CHANGED = "allocation.status_changed", _("Allocation status changed")
    CHANGE_REQUEST_SUBMITTED = "change_request.submitted", _("Change request submitted")
    CHANGE_REQUEST_DECIDED = "change_request.decided", _("Change request decided")
    CHANGE_REQUEST_WITHDRAWN = "change_request.withdrawn", _("Change request withdrawn")
    PROVISIONING_HANDOVER_DONE = "provisioning.handover_done", _("Manual provisioning step done by an operator")
    PROVISIONING_RERUN_REQUESTED = "provisioning.rerun_requested", _("Provisioning run again by an operator")
    PROVISIONING_RECONCILE_REQUESTED = "provisioning.reconcile_requested", _("Full reconcile of a site requested")
    PROVISIONING_READBACK_REQUESTED = "provisioning.readback_requested", _("Read of a site's Slurm requested")
    PROVISIONING_JOBS_HELD = "provisioning.jobs_held", _("Queued jobs held on the cluster")
    PROVISIONING_JOBS_RELEASED = "provisioning.jobs_released", _("Held jobs released on the cluster")
    PROVISIONING_JOBS_CANCELLED = "provisioning.jobs_cancelled", _("Jobs cancelled on the cluster")
    USAGE_THRESHOLD_REACHED = "usage.threshold_reached", _("Usage threshold reached")
    SSH_KEY_ADDED = "ssh_key.added", _("SSH public key added")
    SSH_KEY_REMOVED = "ssh_key.removed", _("SSH public key removed")
    DIRECTORY_ACCOUNT_BOUND = "directory.account_bound", _("Cluster account bound to the person")
    DIRECTORY_ACCOUNT_LOCKED = "directory.account_locked", _("Cluster account locked")
    DIRECTORY_ACCOUNT_UNLOCKED = "directory.account_unlocked", _("Cluster account unlocked")
    DIRECTORY_GROUP_CHANGED = "directory.group_changed", _("Project group members changed in the directory")
    STORAGE_HANDED_OVER = "storage.handed_over", _("Storage request handed over to the site's operators")
    STORAGE_PROVISIONED = "storage.provisioned", _("Storage quota provisioned")
    STORAGE_RELEASED = "storage.released", _("Storage quota released")
    STORAGE_DRIFT_FIXED = "storage.drift_fixed", _("Storage quota corrected after a difference was found")

    # allocations: what an allocation leaves behind (final report, outputs) and the submission block
    FINAL_REPORT_SAVED = "final_report.saved", _("Final report saved")
    FINAL_REPORT_STATUS_CHANGED = "final_report.status_changed", _("Final report status changed")
    OUTPUT_RECORDED = "output.recorded", _("Output recorded")
    OUTPUT_REMOVED = "output.removed", _("Output removed")
    SUBMISSION_OVERRIDE_GRANTED = "submission_override.granted", _(
        "Submission allowed despite an overdue final report")
    SUBMISSION_OVERRIDE_USED = "submission_override.used", _("Submission made under an override")
    TERMS_PUBLISHED = "terms.published", _("Terms of use version published")
    TERMS_ACCEPTED = "terms.accepted", _("Terms of use accepted")

    # allocations: the value of free compute (state aid)
    AID_RECORDED = "aid.recorded", _("Value of the grant recorded in the aid ledger")
    AID_CORRECTED = "aid.corrected", _("Aid ledger corrected by an operator")
    AID_LINK_ADDED = "aid.link_added", _("Linked enterprise declared")
    AID_LINK_REMOVED = "aid.link_removed", _("Linked enterprise removed")
    AID_SELF_DECLARED = "aid.self_declared", _("De minimis aid self-declared")

    # compliance: AI Act assessment and ethics review
    RISK_ASSESSMENT_SAVED = "risk_assessment.saved", _("AI Act questionnaire saved")
    ETHICS_REVIEW_OPENED = "ethics_review.opened", _("Sent to the ethics officers for review")
    ETHICS_REVIEW_AUTO_CLEARED = "ethics_review.auto_cleared", _("Ethics review: cleared automatically")
    ETHICS_REVIEW_DECIDED = "ethics_review.decided", _("Ethics review decided")
    ETHICS_CONDITION_ACKNOWLEDGED = "ethics_condition.acknowledged", _("Ethics condition acknowledged")
    ETHICS_EVIDENCE_SUBMITTED = "ethics_condition.evidence_submitted", _("Evidence for an ethics condition uploaded")
    ETHICS_EVIDENCE_DECIDED = "ethics_condition.evidence_decided", _("Evidence for an ethics condition examined")

    # compliance: reports
    REPORT_REQUESTED = "report.requested", _("Report requested")
    REPORT_GENERATED = "report.generated", _("Report generated")
    REPORT_FAILED = "report.failed", _("Report generation failed")
    REPORT_VERIFIED = "report.verified", _("Report verified")

    # the Django admin: reference data and people edited by an operator or an administrator
    ADMIN_ADDED = "admin.added", _("Added in the administration")
    ADMIN_CHANGED = "admin.changed", _("Changed in the administration")
    ADMIN_DELETED = "admin.deleted", _("Deleted in the administration")


def action_label(action: str):
    """The sentence a person reads for a stored action (lazy: translated where it is rendered). A value
    missing from the enum cannot be recorded; should one be in the table anyway, it is shown as stored."""
    try:
        return AuditAction(action).label
    except ValueError:
        return action
