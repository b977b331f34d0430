"""Eligibility, reviewer assignment with conflict-of-interest checks, reviews and the right to reply."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions
from accounts.models import SENSITIVE_SECTORS, Membership, NotificationKind, User
from accounts.notifications import notify, notify_role
from accounts.roles import ROLE_GROUPS, Role, has_role
from allocations.aid.services import aid_record_grant
from allocations.applications import permissions as applications_permissions
from allocations.applications.models import Application, ApplicationStatus
from allocations.applications.services import application_end_date, application_transition
from allocations.grants.models import Allocation, AllocationQuota
from allocations.grants.services import RawSplit, capacity_plan, slurm_account_for, split_audit
from allocations.grants.sync import mark_needs_sync
from allocations.review.models import (
    ApplicantReply,
    AssignmentStatus,
    Decision,
    DecisionOutcome,
    Review,
    ReviewAssignment,
    ReviewKind,
)
from allocations.review.selectors import (
    applications_due,
    assignments_overdue,
    detect_conflicts,
    eligible_pools,
    max_open_assignments,
    reply_window_open,
    reviewer_loads,
)
from allocations.review.workflow import ASSIGNMENT_WORKFLOW
from compliance.models import EthicsCondition
from compliance.services import approval_blockers, notify_if_ready_for_decision
from portal.audit import AuditAction, audit_record
from portal.emails import portal_url, send_templated_email_on_commit
from portal.vocabulary import choice_label
from portal.workdays import add_working_days
from portal.workflow import transition

# Domains shared by unrelated people: a shared address there says nothing about a conflict.


def _require_manager(actor) -> None:
    if not accounts_permissions.can_manage(actor):
        raise PermissionDenied(_("Only allocation managers can do this."))


def application_check_eligibility(*, actor, application: Application, eligible: bool, reason: str = "") -> Application:
    _require_manager(actor)
    if not eligible and not reason.strip():
        raise ValidationError({"reason": _("Say why the application is not eligible.")})
    target = ApplicationStatus.IN_REVIEW if eligible else ApplicationStatus.REJECTED
    return application_transition(actor=actor, application=application, to=target,
                                  changes={"eligibility": eligible, "reason": reason.strip()[:1000]})


def reviewer_assign(*, actor, application: Application, reviewer: User, kind: str) -> ReviewAssignment:
    _require_manager(actor)
    if not has_role(reviewer, Role.REVIEWER):
        raise ValidationError({"reviewer": _("This person is not a reviewer.")})
    pools = eligible_pools(application, kind)
    if not any(p.members.filter(pk=reviewer.pk).exists() for p in pools):
        if application.sector in SENSITIVE_SECTORS:
            raise ValidationError({"reviewer": _("Applications in the %(sector)s sector are reviewed by the restricted "
                                                 "pool only.") % {"sector": application.get_sector_display()}})
        raise ValidationError({"reviewer": _("This reviewer is not in a %(kind)s pool.") % {
            "kind": str(choice_label(ReviewKind, kind)).lower()}})
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
        # The reviewer's row is locked so that two assignments at once cannot both take the last place.
        User.objects.select_for_update().only("pk").get(pk=reviewer.pk)
        load, limit = reviewer_loads([reviewer.pk]).get(reviewer.pk, 0), max_open_assignments()
        if load >= limit:
            raise ValidationError({"reviewer": _(
                "%(name)s already has %(load)s open reviews; a reviewer takes at most %(limit)s at a time. "
                "Choose another reviewer.") % {"name": reviewer.display_name, "load": load, "limit": limit}})
        due = app.decision_due or add_working_days(timezone.localdate(), app.access_mode.sla_working_days)
        assignment = ReviewAssignment.objects.create(application=app, reviewer=reviewer, kind=kind,
                                                     assigned_by=actor, due_date=due)
        audit_record(actor=actor, action=AuditAction.REVIEW_ASSIGNED, target=app,
                     changes={"assignment_id": assignment.pk, "reviewer_id": reviewer.pk, "kind": kind})
        notify(recipients=[reviewer], kind=NotificationKind.REVIEWER_ASSIGNED,
               params={**_about(app), "review_kind": kind, "due": due.isoformat() if due else ""},
               link=reverse("review:assignment_detail", args=[assignment.pk]))
    return assignment


def _about(app: Application) -> dict[str, str]:
    """What every notification about an application names."""
    return {"reference": app.reference, "organisation": app.organisation.legal_name}


def _tell_managers(*, actor, app: Application, kind: str, link_name: str, **params) -> None:
    notify_role(role=Role.ALLOCATION_MANAGER, kind=kind, params={**_about(app), **params},
                link=reverse(link_name, args=[app.reference]), exclude=actor)


def reviewer_declare(*, actor, assignment: ReviewAssignment, has_conflict: bool,
                     statement: str = "") -> ReviewAssignment:
    """The reviewer declares conflicts before seeing the application's content; a declared conflict is
    notified to the managers, who must find another reviewer."""
    statement = statement.strip()

    def check(a: ReviewAssignment) -> None:
        if has_conflict and not statement:
            raise ValidationError({"statement": _("Describe the conflict.")})

    def stamp(a: ReviewAssignment) -> list[str]:
        a.coi_declared_at = timezone.now()
        a.coi_statement = statement
        return ["coi_declared_at", "coi_statement"]

    def follow_up(a: ReviewAssignment, old: str) -> None:
        if has_conflict:
            _tell_managers(actor=actor, app=a.application, kind=NotificationKind.CONFLICT_DECLARED,
                           link_name="review:application_reviewers", reviewer_id=a.reviewer_id,
                           reviewer=a.reviewer.display_name, statement=statement[:500])

    return transition(ASSIGNMENT_WORKFLOW, actor=actor, obj=assignment,
                      to=AssignmentStatus.CONFLICTED if has_conflict else AssignmentStatus.ACCEPTED,
                      check=check, before_save=stamp, action=AuditAction.REVIEW_COI_DECLARED,
                      audit_target=lambda a: a.application,
                      select_related=("application__organisation", "reviewer"),
                      changes={"assignment_id": assignment.pk, "conflict": has_conflict}, then=follow_up)


def reviewer_unassign(*, actor, assignment: ReviewAssignment, reason: str = "") -> ReviewAssignment:
    """A manager takes back an assignment that has no review yet (the reviewer is away, overloaded...)."""
    return transition(ASSIGNMENT_WORKFLOW, actor=actor, obj=assignment, to=AssignmentStatus.CANCELLED,
                      action=AuditAction.REVIEW_ASSIGNMENT_CANCELLED, audit_target=lambda a: a.application,
                      changes={"assignment_id": assignment.pk, "reason": reason.strip()[:1000]})


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
    return all(done.get(kind, 0) >= int(path.get(kind, 0)) for kind in ReviewKind.values)


def review_submit(*, actor, assignment: ReviewAssignment, scores: dict[str, Any], recommendation: str,
                  comments_for_committee: str = "", comments_for_applicant: str = "") -> Review:
    """Score against the access mode's rubric; the application awaits its decision once every review is in."""
    if recommendation not in {"approve", "revise", "reject"}:
        raise ValidationError({"recommendation": _("Choose a recommendation.")})
    written: dict[str, Any] = {}

    def check(a: ReviewAssignment) -> None:
        if a.application.status != ApplicationStatus.IN_REVIEW:
            raise ValidationError(_("This application is no longer in review."))
        written["weighted"] = _validate_scores(a.application.access_mode.rubric or [], scores)

    def write_review(a: ReviewAssignment) -> list[str]:
        written["review"] = Review.objects.create(
            assignment=a, scores={k: int(v) for k, v in scores.items()}, weighted_score=written["weighted"],
            recommendation=recommendation, comments_for_committee=comments_for_committee.strip(),
            comments_for_applicant=comments_for_applicant.strip())
        return []

    def follow_up(a: ReviewAssignment, old: str) -> None:
        app = a.application
        _tell_managers(actor=actor, app=app, kind=NotificationKind.REVIEW_SUBMITTED,
                       link_name="review:application_decision", reviewer_id=a.reviewer_id,
                       reviewer=a.reviewer.display_name, review_kind=a.kind)
        if review_path_complete(app):
            app = application_transition(actor=None, application=app, to=ApplicationStatus.AWAITING_DECISION)
            notify_if_ready_for_decision(actor=actor, application=app)

    with transaction.atomic():
        a = transition(ASSIGNMENT_WORKFLOW, actor=actor, obj=assignment, to=AssignmentStatus.SUBMITTED,
                       check=check, before_save=write_review, action=AuditAction.REVIEW_SUBMITTED,
                       audit_target=lambda a: a.application,
                       select_related=("application__access_mode", "application__organisation", "reviewer"),
                       changes=lambda a: {"assignment_id": a.pk, "weighted_score": str(written["weighted"]),
                                          "recommendation": recommendation},
                       then=follow_up)
        return written.get("review") or a.review


def applicant_reply(*, actor, application: Application, text: str) -> ApplicantReply:
    if not applications_permissions.is_applicant_member(actor, application):
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


def _clean_quotas(app: Application, quotas: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    requested = {r.site_id: r for r in app.resources.all()}
    cleaned: dict[int, dict[str, Any]] = {}
    errors: list[str] = []
    for site_id, q in quotas.items():
        site_id = int(site_id)
        req = requested.get(site_id)
        if req is None:
            errors.append(_("No resources were requested on site %(site)s.") % {"site": site_id})
            continue
        gpu, cpu = int(q.get("gpu_hours") or 0), int(q.get("cpu_core_hours") or 0)
        storage = Decimal(str(q.get("storage_tb") or 0))
        if gpu < 0 or cpu < 0 or storage < 0:
            errors.append(_("Quotas cannot be negative."))
            continue
        if gpu > req.gpu_hours or cpu > req.cpu_core_hours or storage > req.storage_tb:
            errors.append(_("Quotas on %(site)s may be lower than requested, never higher.") % {"site": req.site.name})
            continue
        if gpu or cpu or storage:
            cleaned[site_id] = {"gpu_hours": gpu, "cpu_core_hours": cpu, "storage_tb": storage}
    if not cleaned and not errors:
        errors.append(_("Grant something on at least one site."))
    if errors:
        raise ValidationError(errors)
    return cleaned


def application_approve(
    *, actor, application: Application, quotas: dict[int, dict[str, Any]], reasons: str = "",
    aid_confirmed: bool = False, split: RawSplit | None = None,
) -> Allocation:
    """Approve and create the allocation. Idempotent: a second approval returns the same allocation.

    Under an access mode whose legal basis is aid, the value of the grant is recorded in the aid ledger in the
    same transaction; a de minimis grant above the single undertaking's ceiling is refused, or, when the mode
    warns, recorded once the manager confirms (`aid_confirmed`). See allocations.aid.

    The granted hours are reserved across the quarters the allocation spans, pro rata, or as the manager sets
    per quarter (`split`: site id -> quarter label -> hours, checked by grants.services.capacity_plan and
    recorded in the audit trail)."""
    _require_manager(actor)
    with transaction.atomic():
        app = (
            Application.objects.select_for_update(of=("self",))
            .select_related("organisation", "access_mode")
            .get(pk=application.pk)
        )
        if app.status == ApplicationStatus.APPROVED:
            return app.allocation
        if app.status != ApplicationStatus.AWAITING_DECISION:
            raise ValidationError(_("Only applications whose reviews are complete can be approved."))
        blockers = approval_blockers(app)
        if blockers:
            raise ValidationError(blockers)
        cleaned = _clean_quotas(app, quotas)
        allocation = Allocation.objects.create(
            application=app,
            organisation=app.organisation,
            reference=app.reference,
            start_date=app.start_date,
            end_date=application_end_date(app),
            slurm_account=slurm_account_for(app.reference),
        )
        for site_id, q in cleaned.items():
            AllocationQuota.objects.create(allocation=allocation, site_id=site_id, **q)
        # Across every quarter the allocation spans; a quarter without room refuses the whole approval.
        plan = capacity_plan(allocation=allocation, quotas=cleaned, split=split)
        allocation.application = app
        aid_record_grant(actor=actor, allocation=allocation, quotas=cleaned, confirmed=aid_confirmed)
        Decision.objects.create(application=app, outcome=DecisionOutcome.APPROVED, reasons=reasons, decided_by=actor)
        # Keep the returned allocation's application current (the transition saves a fresh locked copy).
        quotas_audit = {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in cleaned.items()}
        # The organisation gets the approval mail below rather than the plain status change.
        allocation.application = application_transition(
            actor=actor,
            application=app,
            to=ApplicationStatus.APPROVED,
            changes={"allocation": allocation.reference, "quotas": quotas_audit},
            notify=False,
        )
        audit_record(
            actor=actor,
            action=AuditAction.ALLOCATION_CREATED,
            target=allocation,
            changes={
                "application_id": app.pk,
                "slurm_account": allocation.slurm_account,
                "start_date": allocation.start_date,
                "end_date": allocation.end_date,
                **({"capacity_split": split_audit(plan)} if split is not None else {}),
            },
        )
        # The account is created blocked; it opens when the start date comes and conditions are acknowledged.
        mark_needs_sync(allocation)
        _mail_approval(app, allocation)
    return allocation


def _mail_approval(app: Application, allocation: Allocation) -> None:
    """What the organisation was granted, per site, from when, and what it must acknowledge first."""
    recipients = list(Membership.objects.filter(organisation_id=app.organisation_id)
                      .values_list("user__email", flat=True))
    quotas = list(AllocationQuota.objects.filter(allocation=allocation).select_related("site").order_by("site__name"))
    send_templated_email_on_commit(
        to=recipients, template="allocations/email/application_approved",
        context={"reference": app.reference, "title": app.title, "organisation": app.organisation.legal_name,
                 "quotas": quotas, "start": allocation.start_date, "end": allocation.end_date,
                 "conditions": [c.text for c in EthicsCondition.objects.filter(review__application=app,
                                                                                acknowledged_at=None)],
                 "url": portal_url(allocation.get_absolute_url())})


def application_reject(*, actor, application: Application, reasons: str) -> Application:
    """Reject with reasons. Idempotent: a second rejection changes nothing and records nothing."""
    _require_manager(actor)
    reasons = reasons.strip()
    if not reasons:
        raise ValidationError({"reasons": _("Give the reasons for the rejection.")})

    def record(app: Application, old: str) -> None:
        Decision.objects.create(application=app, outcome=DecisionOutcome.REJECTED, reasons=reasons, decided_by=actor)

    return application_transition(
        actor=actor,
        application=application,
        to=ApplicationStatus.REJECTED,
        changes={"reasons": reasons[:2000]},
        then=record,
    )


def application_request_revision(*, actor, application: Application, comments: str) -> Application:
    """Send back to the applicant with comments. Idempotent, like approve and reject."""
    _require_manager(actor)
    comments = comments.strip()
    if not comments:
        raise ValidationError({"comments": _("Tell the applicant what to revise.")})

    def record(app: Application, old: str) -> None:
        Decision.objects.create(
            application=app,
            outcome=DecisionOutcome.REVISION_REQUESTED,
            comments_for_applicant=comments,
            decided_by=actor,
        )

    return application_transition(
        actor=actor,
        application=application,
        to=ApplicationStatus.REVISION_REQUESTED,
        changes={"comments": comments[:2000]},
        then=record,
    )


def deadline_reminders_send(*, today: datetime.date | None = None) -> dict[str, int]:
    """Mail the allocation managers one digest, and each late reviewer a list of their late reviews.

    Returns how many messages were queued per audience (for the task result and the logs)."""
    today = today or timezone.localdate()
    applications = applications_due(today=today, within_working_days=1)
    late_reviews = assignments_overdue(today=today)
    sent = {"managers": 0, "reviewers": 0}
    if applications or late_reviews:
        managers = list(
            User.objects.filter(is_active=True, groups__name=ROLE_GROUPS[Role.ALLOCATION_MANAGER])
            .values_list("email", flat=True)
            .distinct()
        )
        if managers:
            send_templated_email_on_commit(
                to=managers,
                template="allocations/email/deadline_reminder_manager",
                context={"today": today, "applications": applications, "assignments": late_reviews,
                         "url": portal_url(reverse("review:overdue"))},
            )
            sent["managers"] = 1
    by_reviewer = defaultdict(list)
    for late in late_reviews:
        by_reviewer[late.obj.reviewer].append(late)
    for reviewer, items in by_reviewer.items():
        if reviewer.is_active:
            send_templated_email_on_commit(
                to=[reviewer.email],
                template="allocations/email/deadline_reminder_reviewer",
                context={"today": today, "assignments": items, "url": portal_url(reverse("review:assignment_list"))},
            )
            sent["reviewers"] += 1
    return sent
