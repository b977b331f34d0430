"""Reads for the report pages, scoped to what the user may see; anything else is a 404.

Staff: ethics officers and administrators see every report; allocation managers see the staff dossiers.
Applicants: the applicant-version dossiers of their organisations' applications, nothing else."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.roles import Role, has_role
from accounts.selectors import member_organisation_ids
from allocations.applications.models import Application

from ..models import Report, ReportAudience, ReportKind


def staff_reports_for(user) -> QuerySet[Report]:
    reports = Report.objects.select_related("requested_by", "application")
    if has_role(user, Role.ETHICS_OFFICER):
        return reports
    if has_role(user, Role.ALLOCATION_MANAGER):
        return reports.filter(kind=ReportKind.DOSSIER, audience=ReportAudience.STAFF)
    return reports.none()


def staff_report(user, pk: int) -> Report:
    report = staff_reports_for(user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def applicant_reports_for(user) -> QuerySet[Report]:
    return (Report.objects.filter(audience=ReportAudience.APPLICANT, kind=ReportKind.DOSSIER,
                                  application__organisation_id__in=member_organisation_ids(user))
            .select_related("requested_by", "application"))


def applicant_report(user, pk: int) -> Report:
    report = applicant_reports_for(user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def applicant_application(user, reference: str) -> Application:
    app = (Application.objects.filter(organisation_id__in=member_organisation_ids(user), reference=reference)
           .select_related("organisation").first())
    if app is None:
        raise Http404
    return app


def staff_application(reference: str) -> Application:
    """Staff make dossiers of submitted applications only: a draft belongs to its organisation."""
    app = Application.objects.ever_submitted().filter(reference=reference).select_related("organisation").first()
    if app is None:
        raise Http404
    return app


def dossiers_of(application: Application, audience: str) -> QuerySet[Report]:
    return (Report.objects.filter(application=application, kind=ReportKind.DOSSIER, audience=audience)
            .select_related("requested_by"))
