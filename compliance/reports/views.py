"""Report pages: thin views over reports.selectors (who sees what) and reports.services (what happens).

Staff pages live under /staff/reports/ (behind the staff MFA middleware); the applicant's dossier pages
and the verification page under /reports/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from allocations.aid import selectors as aid_selectors
from allocations.aid.forms import RegisterForm
from portal.forms import apply_validation_error

from ..forms import PeriodReportForm, VerifyReportForm
from ..models import Report, ReportAudience, ReportKind, ReportStatus
from . import selectors, services
from .downloads import report_file_response

# URL names per audience: the same templates and JSON serve both sides.
STAFF_URLS = {"detail": "compliance:report_detail", "status": "compliance:report_status",
              "download": "compliance:report_download", "csv": "compliance:report_csv"}
APPLICANT_URLS = {"detail": "compliance:my_report_detail", "status": "compliance:my_report_status",
                  "download": "compliance:my_report_download", "csv": None}


def _urls(report: Report, names: dict) -> dict:
    urls = {key: reverse(name, args=[report.pk]) if name else "" for key, name in names.items()}
    if report.status != ReportStatus.DONE:
        urls["download"] = urls["csv"] = ""
    elif not report.csv_file_name:
        urls["csv"] = ""
    return urls


def _require_staff_reports(user) -> None:
    if not (services.can_request_period_report(user) or services.can_request_staff_dossier(user)):
        raise PermissionDenied


# --- staff -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report_list(request):
    """The period-report form (ethics officers, administrators) and the reports generated."""
    _require_staff_reports(request.user)
    can_period = services.can_request_period_report(request.user)
    form = PeriodReportForm(request.POST or None, initial={"language": get_language()})
    if request.method == "POST":
        if not can_period:
            raise PermissionDenied
        if form.is_valid():
            try:
                report = services.report_request_period(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Report #%(id)s is being generated.") % {"id": report.pk})
                return redirect("compliance:report_detail", report.pk)
    reports = selectors.staff_reports_for(request.user)[:100]
    return render(request, "compliance/reports/report_list.html",
                  {"form": form, "can_period": can_period, "reports": reports,
                   "aid_register_form": aid_register_form(request.user)})


def aid_register_form(user):
    """The aid register's download form (allocations.aid), for those who may read the ledger."""
    if not aid_selectors.can_read_ledger(user):
        return None
    today = timezone.localdate()
    return RegisterForm(initial={"start": today.replace(month=1, day=1), "end": today})


def _detail(request, report: Report, names: dict, *, staff: bool):
    return render(request, "compliance/reports/report_detail.html",
                  {"report": report, "urls": _urls(report, names), "staff": staff})


def _status(report: Report, names: dict, *, staff: bool) -> JsonResponse:
    urls = _urls(report, names)
    error = ""
    if report.status == ReportStatus.FAILED:
        error = report.error if staff else _("The report could not be generated. Please try again later.")
    response = JsonResponse({
        "id": report.pk, "status": report.status, "label": str(report.get_status_display()),
        "progress": report.progress, "finished": report.is_finished, "download_url": urls["download"],
        "csv_url": urls["csv"], "sha256": report.sha256, "error": error})
    response["Cache-Control"] = "no-store"
    return response




@login_required
@require_GET
def report_detail(request, pk):
    return _detail(request, selectors.staff_report(request.user, pk), STAFF_URLS, staff=True)


@never_cache
@login_required
@require_GET
def report_status(request, pk):
    return _status(selectors.staff_report(request.user, pk), STAFF_URLS, staff=True)


@login_required
@require_GET
def report_download(request, pk):
    return report_file_response(selectors.staff_report(request.user, pk))


@login_required
@require_GET
def report_csv(request, pk):
    report = selectors.staff_report(request.user, pk)
    if report.kind != ReportKind.PERIOD:
        raise Http404
    return report_file_response(report, csv=True)


@login_required
@require_http_methods(["GET", "POST"])
def staff_dossier(request, reference):
    if not services.can_request_staff_dossier(request.user):
        raise PermissionDenied
    app = selectors.staff_application(reference)
    return _dossier_page(request, app, ReportAudience.STAFF, "compliance:report_detail")


# --- applicant -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def applicant_dossier(request, reference):
    app = selectors.applicant_application(request.user, reference)
    return _dossier_page(request, app, ReportAudience.APPLICANT, "compliance:my_report_detail")


def _dossier_page(request, app, audience: str, detail_name: str):
    if request.method == "POST":
        try:
            report = services.report_request_dossier(actor=request.user, application=app, audience=audience,
                                                     language=get_language())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Report #%(id)s is being generated.") % {"id": report.pk})
            return redirect(detail_name, report.pk)
    return render(request, "compliance/reports/dossier.html", {
        "application": app, "audience": audience, "staff": audience == ReportAudience.STAFF,
        "reports": selectors.dossiers_of(app, audience)[:50], "detail_name": detail_name})


@login_required
@require_GET
def my_report_detail(request, pk):
    return _detail(request, selectors.applicant_report(request.user, pk), APPLICANT_URLS, staff=False)


@never_cache
@login_required
@require_GET
def my_report_status(request, pk):
    return _status(selectors.applicant_report(request.user, pk), APPLICANT_URLS, staff=False)


@login_required
@require_GET
def my_report_download(request, pk):
    return report_file_response(selectors.applicant_report(request.user, pk))


# --- verification (any signed-in user) -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    form = VerifyReportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.report_verify_upload(actor=request.user, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
    return render(request, "compliance/reports/verify.html", {"form": form, "result": result})
