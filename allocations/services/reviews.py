"""Eligibility, reviewer assignment with conflict-of-interest checks, reviews and the right to reply."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SENSITIVE_SECTORS, Membership, User
from accounts.roles import Role, has_role
from portal.audit import AuditAction, audit_record
from portal.emails import send_templated_email_on_commit
from portal.models import AuditEvent

from .. import permissions
from ..calendar import add_working_days
from ..models import (
    ApplicantReply,
    Application,
    ApplicationStatus,
    AssignmentStatus,
    ConflictDeclaration,
    Review,
    ReviewAssignment,
    ReviewerPool,
)
from .transitions import application_transition

# Domains shared by unrelated people: a shared address there says nothing about a conflict.
PUBLIC_MAIL_DOMAINS = {"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "proton.me", "protonmail.com",
                       "icloud.com", "gmx.de", "gmx.net", "telenet.be", "skynet.be", "live.com"}


def _require_manager(actor) -> None:
    if not permissions.can_manage(actor):
        raise PermissionDenied(_("Only allocation managers can do this."))


def application_check_eligibility(*, actor, application: Application, eligible: bool, reason: str = "") -> Application:
    _require_manager(actor)
    if not eligible and not reason.strip():
        raise ValidationError({"reason": _("Say why the application is not eligible.")})
    target = ApplicationStatus.IN_REVIEW if eligible else ApplicationStatus.REJECTED
    return application_transition(actor=actor, application=application, to=target,
                                  changes={"eligibility": eligible, "reason": reason.strip()[:1000]})


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def detect_conflicts(reviewer: User, application: Application) -> list[str]:
    """Likely conflicts of interest, each as a human-readable reason."""
    reasons: list[str] = []
    org = application.organisation
    if Membership.objects.filter(user=reviewer, organisation=org).exists():
        reasons.append(_("%(name)s is a member of %(org)s.") % {"name": reviewer.display_name, "org": org.legal_name})
    # Past memberships survive in the audit trail after the membership row is removed.
    if AuditEvent.objects.filter(action="membership.removed", changes__organisation_id=org.pk,
                                 changes__user_id=reviewer.pk).exists():
        reasons.append(_("%(name)s was a member of %(org)s.") % {"name": reviewer.display_name, "org": org.legal_name})
    if ConflictDeclaration.objects.filter(reviewer=reviewer, organisation=org).exists():
        reasons.append(_("%(name)s declared a conflict with %(org)s.") % {"name": reviewer.display_name,
                                                                         "org": org.legal_name})
    member_emails = list(Membership.objects.filter(organisation=org).values_list("user__email", flat=True))
    domain = _domain(reviewer.email)
    if domain not in PUBLIC_MAIL_DOMAINS and any(_domain(e) == domain for e in member_emails):
        reasons.append(_("%(name)s shares the e-mail domain %(domain)s with the applicant's members.") % {
            "name": reviewer.display_name, "domain": domain})
    reviewer_orgs = set(Membership.objects.filter(user=reviewer).values_list("organisation_id", flat=True))
    applicant_people = Membership.objects.filter(organisation=org).values_list("user_id", flat=True)
    shared = Membership.objects.filter(organisation_id__in=reviewer_orgs, user_id__in=applicant_people) \
        .exclude(organisation=org).select_related("organisation").first()
    if shared is not None:
        reasons.append(_("%(name)s and a member of the applicant belong to %(org)s.") % {
            "name": reviewer.display_name, "org": shared.organisation.legal_name})
    return reasons


def eligible_pools(application: Application, kind: str):
    pools = ReviewerPool.objects.filter(kind=kind)
    if application.sector in SENSITIVE_SECTORS:
        return [p for p in pools if application.sector in (p.restricted_sectors or [])]
    return [p for p in pools if not p.restricted_sectors]


def reviewer_assign(*, actor, application: Application, reviewer: User, kind: str) -> ReviewAssignment:
    _require_manager(actor)
    if not has_role(reviewer, Role.REVIEWER):
        raise ValidationError({"reviewer": _("This person is not a reviewer.")})
    pools = eligible_pools(application, kind)
    if not any(p.members.filter(pk=reviewer.pk).exists() for p in pools):
        if application.sector in SENSITIVE_SECTORS:
            raise ValidationError({"reviewer": _("Applications in the %(sector)s sector are reviewed by the restricted "
                                                 "pool only.") % {"sector": application.get_sector_display()}})
        raise ValidationError({"reviewer": _("This reviewer is not in a %(kind)s pool.") % {"kind": kind}})
    conflicts = detect_conflicts(reviewer, application)
    if conflicts:
        raise ValidationError({"reviewer": [_("Assignment blocked: likely conflict of interest.")] + conflicts})
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=application.pk)
        if app.status != ApplicationStatus.IN_REVIEW:
            raise ValidationError(_("Reviewers are assigned once the application passed the eligibility check."))
        if ReviewAssignment.objects.filter(application=app, reviewer=reviewer).exclude(
                status=AssignmentStatus.CANCELLED).exists():
            raise ValidationError({"reviewer": _("This reviewer is already assigned.")})
        due = app.decision_due or add_working_days(timezone.localdate(), app.access_mode.sla_working_days)
        assignment = ReviewAssignment.objects.create(application=app, reviewer=reviewer, kind=kind,
                                                     assigned_by=actor, due_date=due)
        audit_record(actor=actor, action=AuditAction.REVIEW_ASSIGNED, target=app,
                     changes={"assignment_id": assignment.pk, "reviewer_id": reviewer.pk, "kind": kind})
        send_templated_email_on_commit(
            to=[reviewer.email], template="allocations/email/review_assigned",
            context={"reference": app.reference, "kind": kind, "due": due})
    return assignment


def reviewer_declare(*, actor, assignment: ReviewAssignment, has_conflict: bool,
                     statement: str = "") -> ReviewAssignment:
    """The reviewer declares conflicts before seeing the application's content."""
    with transaction.atomic():
        a = ReviewAssignment.objects.select_for_update().get(pk=assignment.pk)
        if a.reviewer_id != actor.pk:
            raise PermissionDenied(_("This assignment is not yours."))
        if a.status != AssignmentStatus.ASSIGNED:
            raise ValidationError(_("You already made your declaration."))
        if has_conflict and not statement.strip():
            raise ValidationError({"statement": _("Describe the conflict.")})
        a.status = AssignmentStatus.CONFLICTED if has_conflict else AssignmentStatus.ACCEPTED
        a.coi_declared_at = timezone.now()
        a.coi_statement = statement.strip()
        a.save(update_fields=["status", "coi_declared_at", "coi_statement"])
        audit_record(actor=actor, action=AuditAction.REVIEW_COI_DECLARED, target=a.application,
                     changes={"assignment_id": a.pk, "conflict": has_conflict})
    return a


def _validate_scores(rubric: list[dict[str, Any]], scores: dict[str, Any]) -> Decimal:
    errors = {}
    total = Decimal("0")
    weights = Decimal("0")
    for criterion in rubric:
        code = criterion["code"]
        scale = int(criterion.get("scale", 5))
        value = scores.get(code)
        try:
            value = int(value)
        except (TypeError, ValueError):
            errors[code] = _("Give a score from 1 to %(scale)s.") % {"scale": scale}
            continue
        if not 1 <= value <= scale:
            errors[code] = _("Give a score from 1 to %(scale)s.") % {"scale": scale}
            continue
        weight = Decimal(str(criterion.get("weight", 1)))
        total += weight * Decimal(value) / Decimal(scale)
        weights += weight
    unknown = set(scores) - {c["code"] for c in rubric}
    for code in unknown:
        errors[code] = _("Unknown criterion.")
    if errors:
        raise ValidationError(errors)
    return (total / weights * 100).quantize(Decimal("0.001")) if weights else Decimal("0")


def review_path_complete(application: Application) -> bool:
    path = application.access_mode.review_path or {}
    done = {}
    for kind in ReviewAssignment.objects.filter(application=application, status=AssignmentStatus.SUBMITTED) \
            .values_list("kind", flat=True):
        done[kind] = done.get(kind, 0) + 1
    return all(done.get(kind, 0) >= int(path.get(kind, 0)) for kind in ("technical", "scientific"))


def review_submit(*, actor, assignment: ReviewAssignment, scores: dict[str, Any], recommendation: str,
                  comments_for_committee: str = "", comments_for_applicant: str = "") -> Review:
    if recommendation not in {"approve", "revise", "reject"}:
        raise ValidationError({"recommendation": _("Choose a recommendation.")})
    with transaction.atomic():
        a = ReviewAssignment.objects.select_for_update(of=("self",)).select_related("application__access_mode").get(
            pk=assignment.pk)
        if a.reviewer_id != actor.pk:
            raise PermissionDenied(_("This assignment is not yours."))
        if a.status != AssignmentStatus.ACCEPTED:
            raise ValidationError(_("Declare that you have no conflict of interest before reviewing.")
                                  if a.status == AssignmentStatus.ASSIGNED else _("This review cannot be submitted."))
        app = a.application
        if app.status != ApplicationStatus.IN_REVIEW:
            raise ValidationError(_("This application is no longer in review."))
        weighted = _validate_scores(app.access_mode.rubric or [], scores)
        review = Review.objects.create(assignment=a, scores={k: int(v) for k, v in scores.items()},
                                       weighted_score=weighted, recommendation=recommendation,
                                       comments_for_committee=comments_for_committee.strip(),
                                       comments_for_applicant=comments_for_applicant.strip())
        a.status = AssignmentStatus.SUBMITTED
        a.save(update_fields=["status"])
        audit_record(actor=actor, action=AuditAction.REVIEW_SUBMITTED, target=app,
                     changes={"assignment_id": a.pk, "weighted_score": str(weighted),
                              "recommendation": recommendation})
        if review_path_complete(app):
            application_transition(actor=None, application=app, to=ApplicationStatus.AWAITING_DECISION)
    return review


def reply_window_open(application: Application) -> bool:
    """The right to reply: the reviews are in, the decision is not, and the mode grants it."""
    mode = application.access_mode
    return (application.status == ApplicationStatus.AWAITING_DECISION and mode is not None
            and bool((mode.review_path or {}).get("right_to_reply")))


def applicant_reply(*, actor, application: Application, text: str) -> ApplicantReply:
    if not permissions.is_applicant_member(actor, application):
        raise PermissionDenied(_("Only members of the applying organisation can reply."))
    if not text.strip():
        raise ValidationError({"text": _("Write your reply.")})
    with transaction.atomic():
        app = Application.objects.select_for_update(of=("self",)).select_related("access_mode").get(pk=application.pk)
        if not reply_window_open(app):
            raise ValidationError(_("A reply is possible once the reviews are in, for modes with a right to reply."))
        if ApplicantReply.objects.filter(application=app).exists():
            raise ValidationError(_("You already replied to the reviews."))
        reply = ApplicantReply.objects.create(application=app, text=text.strip(), author=actor)
        audit_record(actor=actor, action=AuditAction.APPLICATION_REPLY_SUBMITTED, target=app,
                     changes={"length": len(text)})
    return reply
