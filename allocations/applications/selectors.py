"""Reads with permission scoping: an application a user may not see does not exist for them (404).

Applicants see the applications of the organisations they belong to; staff with oversight (allocation
managers, ethics officers, operators) may read every application that was submitted, never another
organisation's draft (nor one withdrawn before it was submitted). Reviewers get their own selectors
(assigned applications only) and never reach these."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, User
from accounts.permissions import has_oversight
from accounts.selectors import member_organisation_ids
from allocations.applications import presentation
from allocations.applications.models import (
    EVER_SUBMITTED,
    Application,
    ApplicationStatus,
    Attachment,
    RequestedResource,
    SubmissionDeclaration,
    TeamMember,
)
from allocations.applications.permissions import can_read_attachments
from allocations.applications.workflow import DECIDED
from allocations.catalogue.models import AccessMode
from allocations.grants.next_steps import next_steps
from portal.audit import AuditAction, events_for
from portal.listquery import search as search_rows
from portal.models import AuditEvent

LIST_RELATED = ("organisation", "access_mode", "call")



def applications_of_member(user) -> QuerySet[Application]:
    """Applications of the organisations the user belongs to (never widened by a staff role)."""
    if not getattr(user, "is_authenticated", False):
        return Application.objects.none()
    return Application.objects.filter(organisation_id__in=member_organisation_ids(user))


def applications_visible_to(user) -> QuerySet[Application]:
    if not getattr(user, "is_authenticated", False):
        return Application.objects.none()
    if has_oversight(user):
        return Application.objects.filter(Q(organisation_id__in=member_organisation_ids(user)) | EVER_SUBMITTED)
    return applications_of_member(user)


def application_list(user, *, search: str = "", status: str = "", access_mode: AccessMode | None = None,
                     organisation: Organisation | None = None) -> QuerySet[Application]:
    """The list page: everything a row shows comes from one joined query (no per-row queries).

    Staff with oversight also find applications by organisation name (they get no organisation menu)."""
    qs = applications_visible_to(user).select_related(*LIST_RELATED)
    search = search.strip()
    if search and has_oversight(user):
        # Every application: the indexed search (reference prefix, title, organisation name).
        qs = search_rows(qs, search, reference="reference", fields=["title"],
                         organisation=("organisation", "legal_name"))
    elif search:
        qs = qs.filter(Q(reference__icontains=search) | Q(title__icontains=search))
    if status:
        qs = qs.filter(status=status)
    if access_mode is not None:
        qs = qs.filter(access_mode=access_mode)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return qs.order_by("-created_at", "-pk")


def list_filter_organisations(user) -> QuerySet[Organisation]:
    """The organisations the list filter may name. For staff with oversight that is every organisation
    (thousands): the form then validates a chosen one by id but renders no menu of them."""
    if has_oversight(user):
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=member_organisation_ids(user)).order_by("legal_name")


def _get(qs: QuerySet[Application], reference: str) -> Application:
    app = qs.filter(reference=reference).first()
    if app is None:
        raise Http404
    return app


def application_for_member(user, reference: str) -> Application:
    """For the pages that edit or act on an application: members of its organisation only."""
    return _get(applications_of_member(user).select_related(*LIST_RELATED, "risk_assessment"), reference)


def application_for_attachment_reader(user, reference: str) -> Application:
    """For downloading its attachments: whoever `permissions.attachment_access` lets read them (members,
    the allocation managers, ethics officers and assigned reviewers, each when the rule says); a 404 for
    anyone else, so that no answer tells an outsider the application exists."""
    app = Application.objects.select_related("organisation").filter(reference=reference).first()
    if app is None or not can_read_attachments(user, app):
        raise Http404
    return app


def _with_details(qs: QuerySet[Application]) -> QuerySet[Application]:
    return (qs.select_related(*LIST_RELATED, "created_by", "risk_assessment", "ethics_review")
            .prefetch_related(Prefetch("resources", queryset=RequestedResource.objects.select_related("site")),
                              "team", "attachments", "decisions"))


def application_detail(user, reference: str) -> Application:
    """Everything about one application, for members and (once submitted) staff with oversight."""
    return _get(_with_details(applications_visible_to(user)), reference)


def application_detail_for_member(user, reference: str) -> Application:
    return _get(_with_details(applications_of_member(user)), reference)


def latest_declaration(application: Application) -> SubmissionDeclaration | None:
    """The declaration of honour of the latest submission, with who made it."""
    return application.declarations.select_related("declared_by").first()


def application_resources(application: Application):
    return list(application.resources.select_related("site"))


def team_member_in(application: Application, pk: int) -> TeamMember:
    member = TeamMember.objects.filter(application=application, pk=pk).first()
    if member is None:
        raise Http404
    member.application = application
    return member


def attachments_for_reader(user, application: Application) -> dict:
    """The documents a page lists (name, kind, size), and whether `user` may open them: the download
    rule of `permissions.attachment_access` decides, so that a page never links to a 404."""
    return {"attachments": list(application.attachments.all()),
            "can_read_attachments": can_read_attachments(user, application)}


def attachment_in(application: Application, pk: int) -> Attachment:
    attachment = Attachment.objects.filter(application=application, pk=pk).first()
    if attachment is None:
        raise Http404
    attachment.application = application
    return attachment


def risk_assessment_of(application: Application):
    try:
        return application.risk_assessment
    except Application.risk_assessment.RelatedObjectDoesNotExist:
        return None


# --------------------------------------------------------------------------------- dashboard


def dashboard_applications(user, limit: int = 20) -> list[Application]:
    """The user's organisations' applications, the ones needing attention first."""
    qs = applications_of_member(user).select_related("organisation", "access_mode", "allocation")
    return list(qs.order_by("-updated_at", "-pk")[:limit])


# --------------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime.datetime
    action: str
    changes: dict
    actor: str


def application_timeline(application: Application, *, viewer) -> list[TimelineEntry]:
    """The application's audit events, oldest first, with actor names resolved now, in one query.

    Names are resolved at display time (the chain stores ids only, so an erased person stays erased).
    Applicants see the names of their organisation's members; other actors show as "AI Factory staff",
    so that reviewers stay anonymous to the applicant. Staff with oversight see every name, and the
    downloads of the documents by staff, which the applicant does not see."""
    sees_names = has_oversight(viewer)
    related = Q(object_type__in=["allocations.teammember", "allocations.attachment"],
                changes__application_id=application.pk)
    events = events_for(application) | AuditEvent.objects.filter(related)
    if not sees_names:
        events = events.exclude(action=AuditAction.ATTACHMENT_DOWNLOADED)
    events = list(events.order_by("seq"))
    actor_ids = {e.actor_id for e in events if e.actor_id}
    people = {}
    if actor_ids:
        in_org = Membership.objects.filter(user=OuterRef("pk"), organisation_id=application.organisation_id)
        people = {u.pk: u for u in User.objects.filter(pk__in=actor_ids).only("pk", "full_name", "email")
                  .annotate(in_org=Exists(in_org))}
    entries = []
    for event in events:
        person = people.get(event.actor_id)
        if event.actor_id is None:
            name = _("AI Factory portal")
        elif person is None:
            name = _("a former user")
        elif sees_names or person.in_org:
            name = person.display_name
        else:
            name = _("AI Factory staff")
        entries.append(TimelineEntry(when=event.created_at, action=event.action, changes=event.changes or {},
                                     actor=name))
    return entries


# --------------------------------------------------------------------------------- dashboard


def applicant_dashboard_context(user) -> dict:
    """For portal.views.dashboard: the user's organisations' applications and who acts next."""
    applications = dashboard_applications(user)
    allocations = {app.pk: getattr(app, "allocation", None) if app.status == ApplicationStatus.APPROVED else None
                   for app in applications}
    steps = next_steps([a for a in allocations.values() if a is not None], user)
    rows = []
    for app in applications:
        allocation = allocations[app.pk]
        waiting = steps.get(allocation.pk, []) if allocation is not None else []
        # Once granted, the decision's deadline is past: the row says what to do next instead.
        rows.append({"application": app, "expectation": presentation.expectation(app),
                     "allocation_url": presentation.allocation_url(app),
                     "next_step": waiting[0] if waiting else None, "decided": app.status in DECIDED})
    return {"applicant_applications": rows}


def of_applications(qs: QuerySet, path: str = "", *, site: str = "", mode: str = "", sector: str = "",
                    organisation: int | None = None) -> QuerySet:
    """Rows narrowed by the staff lists' shared filters on their application: a site it asks for, the access
    mode, the sector and the organisation. ``path`` leads from the row to its application ("" for Application,
    "application__" for a row that belongs to one)."""
    if mode:
        qs = qs.filter(**{f"{path}access_mode__code": mode})
    if site:
        qs = qs.filter(**{f"{path[:-2]}__in" if path else "pk__in":
                          RequestedResource.objects.filter(site__code=site).values("application_id")})
    if sector:
        qs = qs.filter(**{f"{path}sector": sector})
    if organisation:
        qs = qs.filter(**{f"{path}organisation_id": organisation})
    return qs
