"""What the access domains hold about a person, for the export and the erasure of accounts.privacy
(registered from AllocationsConfig.ready()).

A person appears in an application's team (name, address, cluster username), in the change requests
that asked to add them, and, through the username, in the provisioning records of the allocation. Erasure
keeps each row, because it is part of the record a decision rests on, and replaces the person's details
with a pseudonym; a member who had reached the clusters is taken out of the Slurm associations by the
next provisioning run. Applications, reviews, decisions and replies keep their text (the evidence of the
decision); their author is the pseudonymised user row. Acceptances of the terms of use are kept too (which
version, when, in which language): the evidence that the person agreed to the conditions under which they
used the clusters; they hold no name or address, and point at the pseudonymised user row."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.privacy import pseudonym_email, pseudonym_name
from allocations.aid.models import AidLedgerLine, AidSelfDeclaration
from allocations.applications.models import Application, Attachment, SubmissionDeclaration, TeamMember
from allocations.grants.models import Allocation, ChangeKind, ChangeRequest
from allocations.grants.sync import mark_needs_sync
from allocations.grants.workflow import TERMINAL
from allocations.outcomes import privacy as outcomes_privacy
from allocations.provisioning.identity.models import DirectoryAccount
from allocations.provisioning.models import HandoverTask
from allocations.provisioning.services import provisioning_records_rename_user
from allocations.provisioning.slurm.validation import ERASED_USERNAME_PREFIX
from allocations.review.models import ApplicantReply, ConflictDeclaration, Decision, ReviewAssignment
from allocations.terms.models import TermsAcceptance, TermsVersion
from portal import privacy as privacy_registry
from portal.tasking import enqueue_on_commit


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _mine(user, original_email: str | None = None) -> Q:
    return Q(user=user) | Q(email__iexact=original_email or user.email)


# --------------------------------------------------------------------------------- exporters

def export_team_memberships(user) -> list[dict[str, Any]]:
    """Every team the person was named in, with the details the applicant gave for them."""
    return [{"application": m.application.reference, "full_name": m.full_name, "email": m.email,
             "cluster_username": m.cluster_username, "invited_at": _when(m.invited_at),
             "confirmed_at": _when(m.confirmed_at)}
            for m in TeamMember.objects.filter(_mine(user)).select_related("application").order_by("pk")]


def export_directory_accounts(user) -> list[dict[str, Any]]:
    """The accounts on the sites' directories bound to the person, and how the portal knows they are theirs."""
    return [{"site": a.site.code, "login": a.uid, "uid_number": a.uid_number, "entry": a.dn,
             "bound_by": a.bound_by, "bound_by_label": str(a.get_bound_by_display()),
             "created_by_portal": a.created_by_portal, "bound_at": _when(a.bound_at), "locked_at": _when(a.locked_at)}
            for a in DirectoryAccount.objects.filter(user=user).select_related("site").order_by("pk")]


def export_applications_created(user) -> list[dict[str, Any]]:
    return [{"reference": a.reference, "title": a.title, "organisation": a.organisation.legal_name,
             "status": a.status, "status_label": str(a.get_status_display()), "created_at": _when(a.created_at)}
            for a in Application.objects.filter(created_by=user).select_related("organisation").order_by("pk")]


def export_attachments_uploaded(user) -> list[dict[str, Any]]:
    return [{"application": a.application.reference, "kind": a.kind, "kind_label": str(a.get_kind_display()),
             "name": a.original_name, "sha256": a.sha256, "uploaded_at": _when(a.uploaded_at)}
            for a in Attachment.objects.filter(uploaded_by=user).select_related("application").order_by("pk")]


def export_change_requests(user) -> list[dict[str, Any]]:
    """The requests the person made, and those that asked to add them to a team."""
    named = Q(kind=ChangeKind.ADD_MEMBERS, payload__icontains=user.email)
    return _change_requests(user, Q(requested_by=user) | named)


def export_change_requests_decided(user) -> list[dict[str, Any]]:
    return _change_requests(user, Q(decided_by=user))


def _change_requests(user, which: Q) -> list[dict[str, Any]]:
    rows = []
    for cr in ChangeRequest.objects.filter(which).select_related("allocation").order_by("pk"):
        row = {"allocation": cr.allocation.reference, "kind": cr.kind, "kind_label": str(cr.get_kind_display()),
               "status": cr.status, "status_label": str(cr.get_status_display()),
               "requested_at": _when(cr.requested_at), "decided_at": _when(cr.decided_at)}
        if cr.requested_by_id == user.pk:
            row["justification"] = cr.justification
            row["payload"] = cr.payload
        if cr.decided_by_id == user.pk:
            row["decision_reason"] = cr.decision_reason
        if cr.kind == ChangeKind.ADD_MEMBERS:
            row["naming_you"] = [m for m in (cr.payload or {}).get("members", [])
                                 if str(m.get("email", "")).lower() == user.email.lower()]
        rows.append(row)
    return rows


def export_reviews(user) -> list[dict[str, Any]]:
    """The reviews the person was assigned and wrote, and the assignments they made as a manager."""
    rows = []
    for a in (ReviewAssignment.objects.filter(Q(reviewer=user) | Q(assigned_by=user))
              .select_related("application", "review").order_by("pk")):
        row = {"application": a.application.reference, "kind": a.kind, "kind_label": str(a.get_kind_display()),
               "status": a.status, "status_label": str(a.get_status_display()),
               "role": "reviewer" if a.reviewer_id == user.pk else "assigned_by",
               "assigned_at": _when(a.assigned_at), "due_date": _when(a.due_date)}
        if a.reviewer_id == user.pk:
            row["conflict_declared_at"] = _when(a.coi_declared_at)
            row["conflict_statement"] = a.coi_statement
            review = getattr(a, "review", None)
            if review is not None:
                row["review"] = {
                    "scores": review.scores, "weighted_score": str(review.weighted_score),
                    "recommendation": review.recommendation,
                    "recommendation_label": str(review.get_recommendation_display()),
                    "comments_for_committee": review.comments_for_committee,
                    "comments_for_applicant": review.comments_for_applicant,
                    "submitted_at": _when(review.submitted_at)}
        rows.append(row)
    return rows


def export_conflict_declarations(user) -> list[dict[str, Any]]:
    return [{"organisation": c.organisation.legal_name, "statement": c.statement, "declared_at": _when(c.declared_at)}
            for c in ConflictDeclaration.objects.filter(reviewer=user).select_related("organisation").order_by("pk")]


def export_replies(user) -> list[dict[str, Any]]:
    return [{"application": r.application.reference, "text": r.text, "created_at": _when(r.created_at)}
            for r in ApplicantReply.objects.filter(author=user).select_related("application").order_by("pk")]


def export_declarations(user) -> list[dict[str, Any]]:
    return [{"application": d.application.reference, "declared_at": _when(d.declared_at), "version": d.version,
             "language": d.language, "text": d.text}
            for d in SubmissionDeclaration.objects.filter(declared_by=user).select_related("application")
            .order_by("pk")]


def export_decisions(user) -> list[dict[str, Any]]:
    return [{"application": d.application.reference, "outcome": d.outcome,
             "outcome_label": str(d.get_outcome_display()), "reasons": d.reasons,
             "comments_for_applicant": d.comments_for_applicant, "decided_at": _when(d.decided_at)}
            for d in Decision.objects.filter(decided_by=user).select_related("application").order_by("pk")]


def export_handovers_done(user) -> list[dict[str, Any]]:
    return [{"allocation": t.allocation.reference, "site": t.site.name, "done_at": _when(t.done_at), "note": t.note}
            for t in HandoverTask.objects.filter(done_by=user).select_related("allocation", "site").order_by("pk")]


def export_aid_declarations(user) -> list[dict[str, Any]]:
    """The declarations of de minimis aid the person made for an organisation."""
    return [{"organisation": d.organisation.legal_name, "declared_at": _when(d.declared_at), "links": d.links,
             "aids": [{"amount": str(a.amount), "currency": a.currency, "granted_on": _when(a.granted_on),
                       "granting_authority": a.granting_authority, "received_by": a.received_by}
                      for a in d.aids.all()]}
            for d in AidSelfDeclaration.objects.filter(declared_by=user).select_related("organisation")
            .prefetch_related("aids").order_by("pk")]


def export_aid_lines_recorded(user) -> list[dict[str, Any]]:
    """The aid ledger lines the person's decisions and corrections recorded."""
    return [{"allocation": line.allocation.reference, "kind": line.kind, "kind_label": str(line.get_kind_display()),
             "granted_on": _when(line.granted_on), "value": str(line.value), "currency": line.currency,
             "reason": line.note, "recorded_at": _when(line.recorded_at)}
            for line in AidLedgerLine.objects.filter(recorded_by=user).select_related("allocation").order_by("pk")]


# --------------------------------------------------------------------------------- erasers

def erased_username(member: TeamMember) -> str:
    """A pseudonym the clusters accept (so that the name can still be taken out of an account) and that
    nobody can choose: every username with this prefix is reserved."""
    return f"{ERASED_USERNAME_PREFIX}{member.pk}"


def erase_team_members(user, original_email: str) -> int:
    """Pseudonymise the person in every team, in the change requests that named them and in the
    provisioning records of those allocations; the clusters follow on the next run."""
    members = list(TeamMember.objects.select_for_update().filter(_mine(user, original_email), erased_at=None))
    now = timezone.now()
    renamed: dict[int, str] = {}
    for member in members:
        new = erased_username(member)
        TeamMember.objects.filter(pk=member.pk).update(
            full_name=pseudonym_name(user), email=f"erased-member-{member.pk}@erased.invalid", cluster_username=new,
            token_hash="", erased_at=now)
        renamed[member.application_id] = new
        allocation = Allocation.objects.select_for_update().filter(application_id=member.application_id).first()
        if allocation is None:
            continue
        provisioning_records_rename_user(allocation=allocation, old=member.cluster_username, new=new)
        if member.confirmed_at and allocation.status not in TERMINAL:
            mark_needs_sync(allocation)
    return len(members) + _erase_change_requests(user, original_email, renamed)


# Queued by name (portal.tasking): the tasks module imports the identity services.
LOCK_PERSON_TASK = "allocations.provisioning.identity.tasks.directory_lock_person_task"


def erase_directory_accounts(user, original_email: str) -> int:
    """The person's directory accounts are locked by the site policy (login shell, keys) once the erasure
    commits; the binding stays, as the site's own record of who held the login."""
    count = DirectoryAccount.objects.filter(user=user).count()
    if count:
        enqueue_on_commit(LOCK_PERSON_TASK, user.pk)
    return count


def _erase_change_requests(user, original_email: str, renamed: dict[int, str]) -> int:
    changed = 0
    for cr in (ChangeRequest.objects.select_for_update(of=("self",)).select_related("allocation")
               .filter(kind=ChangeKind.ADD_MEMBERS, payload__icontains=original_email)):
        members = []
        username = renamed.get(cr.allocation.application_id, f"{ERASED_USERNAME_PREFIX}u{user.pk}")
        for m in (cr.payload or {}).get("members", []):
            if str(m.get("email", "")).lower() == original_email.lower():
                m = {"full_name": pseudonym_name(user), "email": pseudonym_email(user), "cluster_username": username}
            members.append(m)
        ChangeRequest.objects.filter(pk=cr.pk).update(payload={**cr.payload, "members": members})
        changed += 1
    return changed


def export_terms_accepted(user) -> list[dict[str, Any]]:
    """Every version of the terms of use the person accepted, when and in which language."""
    return [{"terms": "platform" if a.version.site_id is None else a.version.site.code, "version": a.version.number,
             "title": a.version.title_en, "accepted_at": _when(a.accepted_at), "language": a.language}
            for a in TermsAcceptance.objects.filter(user=user).select_related("version__site").order_by("pk")]


def export_terms_published(user) -> list[dict[str, Any]]:
    return [{"terms": "platform" if v.site_id is None else v.site.code, "version": v.number,
             "published_at": _when(v.published_at)}
            for v in TermsVersion.objects.filter(published_by=user).select_related("site").order_by("pk")]


def register() -> None:
    """Called from AllocationsConfig.ready()."""
    applicant = [
        ("team_memberships", export_team_memberships, ["allocations.TeamMember"]),
        ("directory_accounts", export_directory_accounts, ["allocations.DirectoryAccount"]),
        ("applications_created", export_applications_created, ["allocations.Application"]),
        ("attachments_uploaded", export_attachments_uploaded, ["allocations.Attachment"]),
        ("change_requests", export_change_requests, ["allocations.ChangeRequest"]),
        ("replies_to_reviews", export_replies, ["allocations.ApplicantReply"]),
        ("declarations_of_honour", export_declarations, ["allocations.SubmissionDeclaration"]),
        ("final_reports_submitted", outcomes_privacy.export_final_reports_submitted, ["allocations.FinalReport"]),
        ("outputs_recorded", outcomes_privacy.export_outputs_recorded, ["allocations.Output"]),
        ("terms_accepted", export_terms_accepted, ["allocations.TermsAcceptance"]),
        ("aid_declarations", export_aid_declarations, ["allocations.AidSelfDeclaration"]),
    ]
    staff = [
        ("change_requests_decided", export_change_requests_decided, ["allocations.ChangeRequest"]),
        ("reviews", export_reviews, ["allocations.ReviewAssignment", "allocations.Review"]),
        ("conflict_declarations", export_conflict_declarations, ["allocations.ConflictDeclaration"]),
        ("decisions", export_decisions, ["allocations.Decision"]),
        ("handovers_done", export_handovers_done, ["allocations.HandoverTask"]),
        ("final_reports_reviewed", outcomes_privacy.export_final_reports_reviewed, ["allocations.FinalReport"]),
        ("submission_exceptions_granted", outcomes_privacy.export_submission_overrides_granted,
         ["allocations.SubmissionOverride"]),
        ("terms_published", export_terms_published, ["allocations.TermsVersion"]),
        ("aid_ledger_lines_recorded", export_aid_lines_recorded, ["allocations.AidLedgerLine"]),
    ]
    for name, func, covers in applicant:
        privacy_registry.register_exporter(name, func, covers=covers)
    for name, func, covers in staff:
        privacy_registry.register_exporter(name, func, covers=covers, staff=True)
    privacy_registry.register_eraser(
        "team_members", erase_team_members,
        covers=["allocations.TeamMember", "allocations.ChangeRequest", "allocations.SyncAttempt",
                "allocations.RecordedChange", "allocations.HandoverTask", "allocations.SiteReadback"])
    privacy_registry.register_eraser("directory_accounts", erase_directory_accounts,
                                     covers=["allocations.DirectoryAccount"])
