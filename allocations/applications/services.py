"""The one path through which an application changes status."""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AddressedMailKind, Membership, Organisation, User
from accounts.permissions import is_member
from accounts.services import addressed_mail_record
from accounts.sme import SMEClass
from allocations.aid.selectors import declaration_is_current
from allocations.applications import permissions
from allocations.applications.declaration import DECLARATION_VERSION, declaration_text
from allocations.applications.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    EthicsIssue,
    ModelActivity,
    ReferenceSequence,
    RequestedResource,
    SubmissionDeclaration,
    TeamMember,
)
from allocations.applications.pdf import PdfProblem, pdf_problem
from allocations.applications.workflow import APPLICATION_WORKFLOW, DECIDED
from allocations.catalogue.models import Site
from allocations.catalogue.selectors import capacity_needs
from allocations.catalogue.usernames import check_cluster_username
from allocations.grants.models import Allocation
from allocations.grants.sync import mark_needs_sync
from allocations.grants.workflow import TERMINAL
from allocations.outcomes.services import submission_allowed
from compliance.services import assessment_problems, ethics_review_open
from portal.audit import AuditAction, audit_record
from portal.emails import send_templated_email_on_commit
from portal.limits import MAX_INT
from portal.vocabulary import choice_labels
from portal.workdays import add_working_days
from portal.workflow import transition


def next_application_reference(prefix: str = "AIF") -> str:
    """AIF-2026-0042: a per-year counter, incremented under a row lock."""
    year = timezone.localdate().year
    with transaction.atomic():
        seq, _ = ReferenceSequence.objects.select_for_update().get_or_create(year=year)
        seq.last += 1
        seq.save(update_fields=["last"])
    return f"{prefix}-{year}-{seq.last:04d}"


def application_transition(
    *,
    actor,
    application: Application,
    to: str,
    changes: dict[str, Any] | None = None,
    before_save: Callable[[Application], Iterable[str] | None] | None = None,
    then: Callable[[Application, str], None] | None = None,
    notify: bool = True,
) -> Application:
    """Move an application through its workflow (portal.workflow.transition); idempotent.

    `before_save` sets the fields that go with the move and returns their names; `then` runs
    after the audit event, in the same transaction, only when the move happened."""

    def stamp(app: Application) -> list[str]:
        fields = ["updated_at"]
        if to in DECIDED:
            app.decided_at = timezone.now()
            fields.append("decided_at")
        if before_save is not None:
            fields.extend(before_save(app) or ())
        return fields

    def follow_up(app: Application, old: str) -> None:
        if then is not None:
            then(app, old)
        if notify:
            _notify_status(app, old)

    return transition(APPLICATION_WORKFLOW, actor=actor, obj=application, to=to, before_save=stamp,
                      changes=changes, then=follow_up)


def _notify_status(app: Application, old: str) -> None:
    recipients = list(Membership.objects.filter(organisation_id=app.organisation_id)
                      .values_list("user__email", flat=True))
    send_templated_email_on_commit(
        to=recipients, template="allocations/email/status_changed",
        context={"reference": app.reference, "title": app.title, "status": ApplicationStatus(app.status).label,
                 "old_status": ApplicationStatus(old).label, "url": app.get_absolute_url()},
    )

# The route to market and whether the weights are published openly are asked once, in the AI Act
# questionnaire (questions route_to_market and open_weights); the columns of the same names keep what
# earlier applications answered in steps 1 and 3.
PROJECT_FIELDS = ["title", "abstract", "public_summary", "sector", "civilian_purpose", "dual_use",
                  "dual_use_explanation", "rd_type"]
RESOURCE_FIELDS = ["access_mode", "call", "start_date", "duration_months"]
MODEL_FIELDS = ["model_activity", "model_family", "parameter_count", "training_tokens", "base_model_name",
                "base_model_flop", "model_lineage"]
STEP_FIELDS = {"project": PROJECT_FIELDS, "resources": RESOURCE_FIELDS, "model": MODEL_FIELDS}


# RequestedResource.storage_tb: 8 digits, 2 of them decimals.
STORAGE_LIMIT = Decimal("1000000")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime.date | Decimal):
        return str(value)
    return value


def _require_editable(actor, application: Application) -> None:
    if not permissions.is_applicant_member(actor, application):
        raise PermissionDenied(_("Only members of the applying organisation can edit this application."))
    if application.status != ApplicationStatus.DRAFT:
        raise ValidationError(_("This application was submitted and is read-only."))


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def application_create(*, actor, organisation: Organisation, title: str) -> Application:
    if not is_member(actor, organisation):
        raise PermissionDenied(_("You can only apply on behalf of an organisation you belong to."))
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the project a title.")})
    with transaction.atomic():
        app = Application.objects.create(
            reference=next_application_reference(), organisation=organisation, created_by=actor, title=title[:200])
        audit_record(actor=actor, action=AuditAction.APPLICATION_CREATED, target=app,
                     changes={"reference": app.reference, "organisation_id": organisation.pk})
    return app


def application_update_step(*, actor, application: Application, step: str, data: dict[str, Any]) -> Application:
    """Save one step of the draft. Partial data is fine: completeness is checked at submission."""
    fields = STEP_FIELDS.get(step)
    if fields is None:
        raise ValueError(f"unknown step {step!r}")
    with transaction.atomic():
        app = _locked(application)
        _require_editable(actor, app)
        changed = {}
        for field in fields:
            if field in data and getattr(app, field) != data[field]:
                setattr(app, field, data[field])
                changed[field] = _jsonable(data[field])
        if changed:
            app.full_clean(exclude=["reference", "organisation", "created_by"], validate_unique=False)
            app.save()
            audit_record(actor=actor, action=AuditAction(f"application.{step}_saved"), target=app,
                         changes={"fields": sorted(changed)})
    return app


def application_set_resources(*, actor, application: Application, rows: list[dict[str, Any]]) -> Application:
    """Replace the per-site requests. rows: [{"site": Site, "gpu_hours", "cpu_core_hours", "storage_tb"}]."""
    with transaction.atomic():
        app = _locked(application)
        _require_editable(actor, app)
        wanted = {}
        for row in rows:
            _check_amounts(row)
            if any(row.get(k) for k in ("gpu_hours", "cpu_core_hours", "storage_tb")):
                wanted[row["site"].pk] = row
        RequestedResource.objects.filter(application=app).exclude(site_id__in=wanted).delete()
        for site_id, row in wanted.items():
            RequestedResource.objects.update_or_create(
                application=app, site_id=site_id,
                defaults={"gpu_hours": row.get("gpu_hours") or 0, "cpu_core_hours": row.get("cpu_core_hours") or 0,
                          "storage_tb": row.get("storage_tb") or 0})
        audit_record(actor=actor, action=AuditAction.APPLICATION_RESOURCES_SAVED, target=app, changes={
            "resources": {str(sid): {"gpu_hours": r.get("gpu_hours") or 0,
                                     "cpu_core_hours": r.get("cpu_core_hours") or 0,
                                     "storage_tb": str(r.get("storage_tb") or 0)} for sid, r in wanted.items()}})
    return app


def _check_amounts(row: dict[str, Any]) -> None:
    """Refuse an amount the column cannot hold (or a negative one) before anything is written."""
    for name in ("gpu_hours", "cpu_core_hours"):
        value = row.get(name) or 0
        if not 0 <= value <= MAX_INT:
            raise ValidationError({name: _("%(site)s: enter a whole number of hours from 0 to %(max)s.") % {
                "site": row["site"].name, "max": f"{MAX_INT:,}"}})
    storage = row.get("storage_tb") or 0
    if not 0 <= storage < STORAGE_LIMIT:
        raise ValidationError({"storage_tb": _("%(site)s: enter a storage from 0 to %(max)s TB.") % {
            "site": row["site"].name, "max": f"{STORAGE_LIMIT - Decimal('0.01'):,}"}})


def application_save_resources(*, actor, application: Application, data: dict[str, Any],
                               rows: list[dict[str, Any]]) -> Application:
    """The resources step as one change: mode, call, dates and the per-site rows together or not at all."""
    with transaction.atomic():
        app = application_update_step(actor=actor, application=application, step="resources", data=data)
        return application_set_resources(actor=actor, application=app, rows=rows)


def application_set_ethics_issues(*, actor, application: Application, issues: dict[str, dict]) -> Application:
    with transaction.atomic():
        app = _locked(application)
        _require_editable(actor, app)
        cleaned = {}
        for code in EthicsIssue.values:
            entry = issues.get(code) or {}
            answer = entry.get("answer")
            cleaned[code] = {"answer": answer, "text": (entry.get("text") or "").strip() if answer else ""}
        app.ethics_issues = cleaned
        app.save(update_fields=["ethics_issues", "updated_at"])
        audit_record(actor=actor, action=AuditAction.APPLICATION_ETHICS_ISSUES_SAVED, target=app,
                     changes={"yes": sorted(c for c, e in cleaned.items() if e["answer"])})
    return app


def team_member_add(*, actor, application: Application, full_name: str, email: str,
                    cluster_username: str) -> TeamMember:
    """The applicant adds a person to the team of an application they may still edit."""
    with transaction.atomic():
        app = _locked(application)
        _require_editable(actor, app)
        return team_member_invite(actor=actor, application=app, full_name=full_name, email=email,
                                  cluster_username=cluster_username)


def team_sites(application: Application) -> list[Site]:
    """The sites whose naming rule a team member's cluster username must follow: every site the
    application asks for, and every site its allocation has a quota on."""
    return list(Site.objects.filter(Q(pk__in=application.resources.values("site_id"))
                                    | Q(quotas__allocation__application=application)).distinct())


def team_member_invite(*, actor, application: Application, full_name: str, email: str,
                       cluster_username: str, limit_mails: bool = True) -> TeamMember:
    """Add a person to the team and mail them the confirmation link; every path that adds a member
    (the team step, the API, an approved change request) comes through here.

    Call inside the caller's transaction, with the application locked and the caller's own rule checked.
    The member stays unconfirmed, and out of every Slurm association, until they follow the link: the
    token proves that the person behind the address agrees to be on the team. The mail counts towards the
    organisation's daily limit and the address's cool-down (accounts.services.addressed_mail_record);
    `limit_mails=False` counts without refusing, for a manager who approves the members a change request
    named."""
    email = email.strip().lower()
    member = TeamMember(application=application, full_name=full_name.strip(), email=email,
                        cluster_username=cluster_username.strip())
    member.full_clean(exclude=["application", "token_hash"], validate_unique=False)
    check_cluster_username(member.cluster_username, team_sites(application))
    if application.team.filter(email=email).exists():
        raise ValidationError({"email": _("This person is already in the team.")})
    if application.team.filter(cluster_username=member.cluster_username).exists():
        raise ValidationError({"cluster_username": _("Another team member uses this cluster username.")})
    member.invited_at = timezone.now()
    if _is_self(actor, email):
        # The person adds themself, signed in with this address: that proves it, no mail is needed.
        member.user, member.confirmed_at = actor, member.invited_at
        member.token_hash = TeamMember.hash_token(secrets.token_urlsafe(24))
        member.save()
        audit_record(actor=actor, action=AuditAction.TEAM_MEMBER_ADDED, target=member,
                     changes={"application_id": application.pk})
        audit_record(actor=actor, action=AuditAction.TEAM_MEMBER_CONFIRMED, target=member,
                     changes={"application_id": application.pk})
        _sync_after_confirmation(application.pk)
        return member
    addressed_mail_record(organisation_id=application.organisation_id, kind=AddressedMailKind.TEAM_CONFIRMATION,
                          about=f"allocations.application:{application.pk}", email=email, enforce=limit_mails)
    member.user = User.objects.filter(email__iexact=email).first()
    token = _new_confirmation_token(member)
    member.save()
    # The chain keeps ids only: a name, address or username written into it could never be erased.
    audit_record(actor=actor, action=AuditAction.TEAM_MEMBER_ADDED, target=member,
                 changes={"application_id": application.pk})
    _mail_confirmation(member, application, token)
    return member


def _is_self(actor, email: str) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.email and actor.email.lower() == email.lower())


def _new_confirmation_token(member: TeamMember) -> str:
    token = secrets.token_urlsafe(24)
    member.token_hash = TeamMember.hash_token(token)
    return token


def _mail_confirmation(member: TeamMember, application: Application, token: str) -> None:
    send_templated_email_on_commit(
        to=[member.email], template="allocations/email/team_invitation",
        # Names and the portal's own words only: the project's title, typed by the sender, stays out.
        context={"name": member.full_name, "reference": application.reference,
                 "organisation": application.organisation.legal_name, "username": member.cluster_username,
                 "confirm_url": settings.PORTAL_BASE_URL + reverse("applications:team_confirm", args=[token])})


def _sync_after_confirmation(application_id: int) -> None:
    # A confirmed member is a user of the allocation's associations: the clusters must follow.
    allocation = Allocation.objects.select_for_update().filter(application_id=application_id).first()
    if allocation is not None and allocation.status not in TERMINAL:
        mark_needs_sync(allocation)


def team_member_resend(*, actor, member: TeamMember) -> TeamMember:
    """Send a member who has not confirmed the confirmation link again (a new link: the old one stops
    working). Counted like every mail to a typed address: refused within the cool-down of the last mail to
    the same address about this application, and past the organisation's daily limit."""
    with transaction.atomic():
        member = TeamMember.objects.select_for_update().select_related("application__organisation").get(pk=member.pk)
        application = member.application
        if not is_member(actor, application.organisation):
            raise PermissionDenied(_("Only members of the organisation manage its team."))
        if member.confirmed_at is not None:
            raise ValidationError(_("%(name)s has already confirmed.") % {"name": member.full_name})
        if member.erased_at is not None or application.status in (ApplicationStatus.WITHDRAWN,
                                                                   ApplicationStatus.REJECTED):
            raise ValidationError(_("This team member cannot be asked to confirm any more."))
        addressed_mail_record(organisation_id=application.organisation_id, kind=AddressedMailKind.TEAM_CONFIRMATION,
                              about=f"allocations.application:{application.pk}", email=member.email)
        token = _new_confirmation_token(member)
        member.invited_at = timezone.now()
        member.save(update_fields=["token_hash", "invited_at"])
        audit_record(actor=actor, action=AuditAction.TEAM_MEMBER_CONFIRMATION_RESENT, target=member,
                     changes={"application_id": application.pk})
        _mail_confirmation(member, application, token)
    return member


def team_member_remove(*, actor, member: TeamMember) -> None:
    with transaction.atomic():
        app = _locked(member.application)
        _require_editable(actor, app)
        audit_record(actor=actor, action=AuditAction.TEAM_MEMBER_REMOVED, target=member,
                     changes={"application_id": app.pk})
        member.delete()


def team_member_confirm(*, token: str, actor=None) -> TeamMember:
    """The invited person confirms with the mailed link: the token proves control of the address."""
    with transaction.atomic():
        member = TeamMember.objects.select_for_update().filter(token_hash=TeamMember.hash_token(token)).first()
        if member is None:
            raise ValidationError(_("This confirmation link is not valid."))
        if member.confirmed_at:
            return member
        # The person confirms the username as theirs: on the sites where it must exist, it must exist now.
        check_cluster_username(member.cluster_username, team_sites(member.application))
        member.confirmed_at = timezone.now()
        if actor is not None and getattr(actor, "is_authenticated", False) and \
                actor.email.lower() == member.email.lower():
            member.user = actor
        member.save(update_fields=["confirmed_at", "user"])
        audit_record(actor=actor if getattr(actor, "is_authenticated", False) else None,
                     action=AuditAction.TEAM_MEMBER_CONFIRMED, target=member,
                     changes={"application_id": member.application_id})
        _sync_after_confirmation(member.application_id)
    return member


PDF_REFUSALS = {
    PdfProblem.NOT_PDF: gettext_lazy("Only PDF documents are accepted; this file is not a PDF."),
    PdfProblem.UNREADABLE: gettext_lazy(
        "This PDF cannot be read: it is damaged or incomplete. Save the document as PDF again and upload the "
        "new file."),
    PdfProblem.ENCRYPTED: gettext_lazy(
        "Encrypted or password-protected PDF documents are not accepted: upload the document without a password."),
    PdfProblem.ACTIVE_CONTENT: gettext_lazy(
        "PDF documents that contain JavaScript or actions (run on opening, on an event or launching a program) "
        "are not accepted: print the document to a new PDF and upload that."),
    PdfProblem.EMBEDDED_FILES: gettext_lazy(
        "PDF documents with embedded or attached files are not accepted: upload each document on its own."),
}


def attachment_check(upload) -> None:
    """Refuse a file over the size limit, or one that the PDF check (allocations.applications.pdf) refuses."""
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    if upload.size > max_bytes:
        raise ValidationError({"file": _("The file is larger than %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)}})
    problem = pdf_problem(upload)
    if problem is not None:
        raise ValidationError({"file": str(PDF_REFUSALS[problem])})


def attachment_add(*, actor, application: Application, kind: str, upload) -> Attachment:
    """Store a PDF outside static files, under a random name ending in .pdf whatever the uploaded name
    (kept for display). Checked by content with a PDF parser, never by name or declared type."""
    attachment_check(upload)
    with transaction.atomic():
        app = _locked(application)
        _require_editable(actor, app)
        return attachment_store(actor=actor, application=app, kind=kind, upload=upload)


def attachment_store(*, actor, application: Application, kind: str, upload) -> Attachment:
    """Write a checked upload (attachment_check) to the private storage and record it, in the caller's
    transaction, with the caller's own rule checked: the draft's documents (attachment_add) and the
    evidence for an ethics condition after approval (grants.services.condition_evidence_submit). A
    failure removes the file."""
    digest = hashlib.sha256()
    stored_name = f"{uuid.uuid4().hex}.pdf"
    root = Path(settings.PRIVATE_MEDIA_ROOT) / "attachments"
    root.mkdir(parents=True, exist_ok=True)
    path = root / stored_name
    size = 0
    try:
        with open(path, "wb") as out:
            for chunk in upload.chunks():
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
        attachment = Attachment.objects.create(
            application=application, kind=kind, original_name=Path(upload.name).name[:200], stored_name=stored_name,
            size=size, sha256=digest.hexdigest(), uploaded_by=actor)
        audit_record(actor=actor, action=AuditAction.ATTACHMENT_ADDED, target=attachment,
                     changes={"application_id": application.pk, "sha256": attachment.sha256, "size": size,
                              "kind": kind})
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "attachments" / attachment.stored_name


def attachment_read(*, actor, attachment: Attachment) -> Path | None:
    """The stored file of an attachment, for a reader `permissions.attachment_access` lets through
    (anyone else: PermissionDenied). A download by anyone but the applicant's members is audited: who
    (the actor), which file (its id and SHA-256), when (the event's time) and on what ground (the role).
    None, and nothing recorded, when the file is missing from the disk."""
    ground = permissions.attachment_access(actor, attachment.application)
    if ground is None:
        raise PermissionDenied(_("You may not read this application's documents."))
    path = attachment_path(attachment)
    if not path.is_file():
        return None
    if ground != permissions.MEMBER:
        with transaction.atomic():
            audit_record(actor=actor, action=AuditAction.ATTACHMENT_DOWNLOADED, target=attachment,
                         changes={"application_id": attachment.application_id, "sha256": attachment.sha256,
                                  "kind": attachment.kind, "as": str(ground)})
    return path


def attachment_remove(*, actor, attachment: Attachment) -> None:
    with transaction.atomic():
        app = _locked(attachment.application)
        _require_editable(actor, app)
        audit_record(actor=actor, action=AuditAction.ATTACHMENT_REMOVED, target=attachment,
                     changes={"application_id": app.pk, "sha256": attachment.sha256})
        path = attachment_path(attachment)
        attachment.delete()
        transaction.on_commit(lambda: path.unlink(missing_ok=True))


# ------------------------------------------------------------------------------------------ validation

@dataclass(frozen=True)
class Problem:
    """One reason the application cannot be submitted yet: the step and field it belongs to, and the
    site (its code) when the field is one of a site's requested amounts."""

    step: str
    message: str
    field: str = ""
    site: str = ""


def _end_date(start: datetime.date, months: int) -> datetime.date:
    month = start.month - 1 + months
    year = start.year + month // 12
    month = month % 12 + 1
    import calendar

    day = min(start.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


def application_end_date(application: Application) -> datetime.date | None:
    if application.start_date and application.duration_months:
        return _end_date(application.start_date, application.duration_months)
    return None


#: The fields every application needs before it can be submitted (drafts keep anything); the step forms mark
#: them. Others are needed depending on the answers (a dual-use explanation, the base model of a fine-tune).
PROJECT_FIELDS_TO_SUBMIT = (("title", _("project title")), ("abstract", _("abstract")),
                            ("public_summary", _("public summary")), ("sector", _("sector")),
                            ("rd_type", _("type of R&D")))
NEEDED_TO_SUBMIT = frozenset({name for name, _label in PROJECT_FIELDS_TO_SUBMIT} | {
    "civilian_purpose", "dual_use", "access_mode", "start_date", "duration_months", "model_activity"})


def validate_for_submission(application: Application) -> list[Problem]:
    """Every reason the application cannot be submitted yet, grouped by step. Empty: ready."""
    app = application
    problems: list[Problem] = []
    add = problems.append
    # 1. Project
    for field, label in PROJECT_FIELDS_TO_SUBMIT:
        if not getattr(app, field):
            add(Problem("project", _("Give the %(field)s.") % {"field": label}, field))
    if app.civilian_purpose is None:
        add(Problem("project", _("Declare whether the project has an exclusively civilian purpose."),
                    "civilian_purpose"))
    if app.dual_use is None:
        add(Problem("project", _("Declare whether the results could have dual use."), "dual_use"))
    elif app.dual_use and not app.dual_use_explanation.strip():
        add(Problem("project", _("Explain the possible dual use."), "dual_use_explanation"))
    # 2. Resources
    mode = app.access_mode
    resources = list(app.resources.select_related("site"))
    today = timezone.localdate()
    if mode is None:
        add(Problem("resources", _("Choose an access mode."), "access_mode"))
    if not resources:
        add(Problem("resources", _("Request resources on at least one site."), "resources"))
    if app.start_date is None:
        add(Problem("resources", _("Give a start date."), "start_date"))
    elif app.start_date < today:
        add(Problem("resources", _("The start date is in the past."), "start_date"))
    if not app.duration_months:
        add(Problem("resources", _("Choose a duration."), "duration_months"))
    elif app.duration_months < 1:
        add(Problem("resources", _("The end date must come after the start date."), "duration_months"))
    total_gpu = sum(r.gpu_hours for r in resources)
    total_cpu = sum(r.cpu_core_hours for r in resources)
    total_storage = sum((r.storage_tb for r in resources), Decimal("0"))
    if mode is not None:
        if app.duration_months and app.duration_months not in mode.allowed_durations:
            add(Problem("resources", _("%(mode)s allows durations of %(allowed)s months.") % {
                "mode": mode.name, "allowed": ", ".join(str(d) for d in mode.allowed_durations)}, "duration_months"))
        if mode.max_gpu_hours is not None and total_gpu > mode.max_gpu_hours:
            add(Problem("resources", _("%(mode)s allows at most %(cap)s GPU-hours; you asked for %(n)s.") % {
                "mode": mode.name, "cap": f"{mode.max_gpu_hours:,}", "n": f"{total_gpu:,}"}, "gpu_hours"))
        if mode.min_gpu_hours is not None and total_gpu <= mode.min_gpu_hours:
            add(Problem("resources", _("%(mode)s is for more than %(floor)s GPU-hours; you asked for %(n)s.") % {
                "mode": mode.name, "floor": f"{mode.min_gpu_hours:,}", "n": f"{total_gpu:,}"}, "gpu_hours"))
        if mode.max_cpu_core_hours is not None and total_cpu > mode.max_cpu_core_hours:
            add(Problem("resources", _("%(mode)s allows at most %(cap)s CPU core-hours.") % {
                "mode": mode.name, "cap": f"{mode.max_cpu_core_hours:,}"}, "cpu_core_hours"))
        if mode.max_storage_tb is not None and total_storage > mode.max_storage_tb:
            add(Problem("resources", _("%(mode)s allows at most %(cap)s TB of storage.") % {
                "mode": mode.name, "cap": mode.max_storage_tb}, "storage_tb"))
        org = app.organisation
        if mode.eligible_org_types and org.org_type not in mode.eligible_org_types:
            add(Problem("resources", _("%(org)s (%(type)s) is not eligible for %(mode)s.") % {
                "org": org.legal_name, "type": org.get_org_type_display(), "mode": mode.name}, "access_mode"))
        if mode.eligible_sme_classes and org.sme_class not in mode.eligible_sme_classes:
            add(Problem("resources", _("%(mode)s is open to these SME classes only: %(classes)s.") % {
                "mode": mode.name, "classes": ", ".join(map(str, choice_labels(SMEClass, mode.eligible_sme_classes)))},
                "access_mode"))
        if mode.is_de_minimis and not declaration_is_current(org):
            add(Problem("resources", _("%(mode)s is given as de minimis aid: before submitting, an owner of "
                                       "%(org)s declares its linked enterprises and the de minimis aid received in "
                                       "the last three years (the organisation's page, “State aid”).") % {
                "mode": mode.name, "org": org.legal_name}, "access_mode"))
        if mode.requires_call:
            call = app.call
            now = timezone.now()
            if call is None or call.access_mode_id != mode.pk:
                add(Problem("resources", _("%(mode)s applications are made to a call: choose one.") % {
                    "mode": mode.name}, "call"))
            elif not (call.opens_at <= now < call.cutoff_at):
                add(Problem("resources", _("The call %(call)s is not open.") % {"call": call.title}, "call"))
    for r in resources:
        site = r.site
        for field, amount, offered, label in [
                ("gpu_hours", r.gpu_hours, site.offers_gpu_hours, _("GPU-hours")),
                ("cpu_core_hours", r.cpu_core_hours, site.offers_cpu_hours, _("CPU core-hours")),
                ("storage_tb", r.storage_tb, site.offers_storage, _("storage"))]:
            if amount and not offered:
                add(Problem("resources", _("%(site)s does not offer %(kind)s.") % {"site": site.name, "kind": label},
                            field, site.code))
        if not site.is_active:
            add(Problem("resources", _("%(site)s does not take applications at the moment.") % {"site": site.name},
                        "resources", site.code))
    if app.start_date:
        problems.extend(_capacity_problems(app, resources))
    # 3. AI model
    if not app.model_activity:
        add(Problem("model", _("Say what AI work the project does."), "model_activity"))
    elif app.model_activity in (ModelActivity.TRAIN, ModelActivity.FINE_TUNE):
        if not app.parameter_count:
            add(Problem("model", _("Give the number of parameters of the model."), "parameter_count"))
        if not app.training_tokens:
            add(Problem("model", _("Give the number of training tokens."), "training_tokens"))
        if app.model_activity == ModelActivity.FINE_TUNE and not app.base_model_name:
            add(Problem("model", _("Name the base model you fine-tune."), "base_model_name"))
    # AI Act assessment
    problems.extend(Problem("ai_act", message) for message in assessment_problems(app))
    # 4. Team
    if not app.team.exists():
        add(Problem("team", _("Add at least one team member with a cluster username."), "team"))
    # 5. Ethics issues
    issues = app.ethics_issues or {}
    for code, label in EthicsIssue.choices:
        entry = issues.get(code) or {}
        if entry.get("answer") is None:
            add(Problem("ethics", _("Answer the ethics question on %(issue)s.") % {"issue": label}, code))
        elif entry.get("answer") and not (entry.get("text") or "").strip():
            add(Problem("ethics", _("Describe how you handle %(issue)s (you answered yes).") % {"issue": label}, code))
    # 6. Attachments: which documents are needed depends on the access mode, so the step cannot be
    # complete before one is chosen.
    if mode is None:
        add(Problem("attachments", _("Choose an access mode in step 2 first: it decides which documents you "
                                     "must attach."), "attachments"))
    elif mode.requires_call and not app.attachments.filter(kind=AttachmentKind.PROJECT_PLAN).exists():
        add(Problem("attachments", _("Attach the project plan (PDF)."), "attachments"))
    return problems


def _capacity_problems(app: Application, resources) -> list[Problem]:
    """Requests above a site's free capacity in any quarter the requested allocation would span, each quarter's
    share counted pro rata as an approval reserves it (catalogue.selectors.capacity_needs)."""
    end = application_end_date(app) or app.start_date
    sites = {r.site_id: r.site for r in resources}
    needs = capacity_needs({r.site_id: (r.gpu_hours, r.cpu_core_hours) for r in resources}, app.start_date, end)
    problems = []
    for need in needs:
        site = sites[need.site_id]
        if need.capacity is None:
            if need.gpu_hours or need.cpu_core_hours:
                problems.append(Problem("resources", _("%(site)s has no capacity published for %(quarter)s, which "
                                                       "your allocation would span.") % {
                    "site": site.name, "quarter": need.label}, "start_date", site.code))
            continue
        if need.gpu_hours > need.free_gpu_hours:
            problems.append(Problem("resources", _("%(site)s has %(left)s GPU-hours left in %(quarter)s; your "
                                                   "request needs %(n)s of them in that quarter.") % {
                "site": site.name, "quarter": need.label,
                "left": number_format(need.free_gpu_hours, force_grouping=True),
                "n": number_format(need.gpu_hours, force_grouping=True)}, "gpu_hours", site.code))
        if need.cpu_core_hours > need.free_cpu_core_hours:
            problems.append(Problem("resources", _("%(site)s has %(left)s CPU core-hours left in %(quarter)s; your "
                                                   "request needs %(n)s of them in that quarter.") % {
                "site": site.name, "quarter": need.label,
                "left": number_format(need.free_cpu_core_hours, force_grouping=True),
                "n": number_format(need.cpu_core_hours, force_grouping=True)}, "cpu_core_hours", site.code))
    return problems


class SubmissionIncomplete(ValidationError):
    """Every reason the application cannot be submitted yet: the messages, and the problems with
    their step and field for callers that show them in place (the API returns them all)."""

    def __init__(self, problems: list[Problem]):
        super().__init__([p.message for p in problems])
        self.problems = problems


def application_submit(*, actor, application: Application, declaration_version: str | None) -> Application:
    """Validate everything at once; record the declaration of honour; submit, set the decision deadline
    and open the ethics track.

    `declaration_version` is the version of the declaration the person confirmed (declaration.py): none,
    or an older one, refuses the submission and changes nothing."""
    with transaction.atomic():
        app = _locked(application)
        _require_editable(actor, app)
        problems = validate_for_submission(app)
        if problems:
            raise SubmissionIncomplete(problems)
        # An overdue final report may hold the organisation back (allocations.outcomes; a manager's
        # exception is used up here). Refused: nothing was written.
        submission_allowed(actor=actor, application=app)
        _declare(actor=actor, application=app, version=declaration_version)

        def stamp(obj: Application) -> list[str]:
            obj.submitted_at = timezone.now()
            obj.decision_due = submission_deadline(obj)
            return ["submitted_at", "decision_due"]

        app = application_transition(actor=actor, application=app, to=ApplicationStatus.SUBMITTED,
                                     before_save=stamp)
        ethics_review_open(application=app)
    return app


def _declare(*, actor, application: Application, version: str | None) -> SubmissionDeclaration:
    """Store the declaration of honour with the submission and audit it; call inside its transaction."""
    if not version:
        raise ValidationError({"declaration_version": _(
            "Confirm the declaration of honour: an application cannot be submitted without it.")})
    if version != DECLARATION_VERSION:
        raise ValidationError({"declaration_version": _(
            "The declaration of honour has changed since it was shown to you: read it again and confirm it.")})
    text = declaration_text(application, version)
    declaration = SubmissionDeclaration.objects.create(
        application=application, declared_by=actor, declared_at=timezone.now(), version=version,
        language=translation.get_language() or settings.LANGUAGE_CODE, text=text)
    audit_record(actor=actor, action=AuditAction.APPLICATION_DECLARATION_MADE, target=application,
                 changes={"declaration_id": declaration.pk, "version": version, "language": declaration.language,
                          "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return declaration


def submission_deadline(app: Application) -> datetime.date | None:
    mode = app.access_mode
    if mode is None:
        return None
    start = timezone.localdate()
    if mode.requires_call and app.call is not None:
        start = timezone.localdate(app.call.cutoff_at)
    return add_working_days(start, mode.sla_working_days)


def application_withdraw(*, actor, application: Application, reason: str = "") -> Application:
    return application_transition(actor=actor, application=application, to=ApplicationStatus.WITHDRAWN,
                                  changes={"reason": reason[:500]})


def application_reopen(*, actor, application: Application) -> Application:
    """After a revision request, the applicant takes the application back into draft to edit it."""
    return application_transition(actor=actor, application=application, to=ApplicationStatus.DRAFT)


def sites_offered() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("name"))
