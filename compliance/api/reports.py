"""PDF reports through the API: request generation (202), poll progress, download when ready.

Staff (under /api/v1/staff/reports/): period reports (ethics officers, administrators) and staff
dossiers (also allocation managers). Applicants (under /api/v1/reports/): the applicant version of
their organisations' dossiers. Who may see and request what is compliance.reports' selectors and
services, the same the report pages use."""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.permissions import StaffMFA
from accounts.models import Sector
from compliance.models import Report, ReportAudience, ReportKind, ReportStatus
from compliance.reports import selectors, services
from compliance.reports.downloads import report_file_response
from portal.api.schema import LIST_ERRORS, responses
from portal.api.views import combine, validated

BASE = list(api_settings.DEFAULT_PERMISSION_CLASSES)
STAFF = ["staff: reports"]
MINE = ["reports"]
LANGUAGES = ["en", "fr", "nl"]


class ReportSerializer(serializers.ModelSerializer):
    application = serializers.CharField(source="application.reference", allow_null=True, read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)
    error = serializers.SerializerMethodField()
    download_available = serializers.SerializerMethodField()
    csv_available = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "kind", "audience", "application", "params", "language", "status", "progress", "finished",
                  "sha256", "error", "download_available", "csv_available", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields

    def get_error(self, report) -> str:
        """The technical error for staff; a plain sentence for applicants."""
        if report.status != ReportStatus.FAILED:
            return ""
        if self.context.get("staff"):
            return report.error
        return str(translation.gettext("The report could not be generated. Please try again later."))

    def get_download_available(self, report) -> bool:
        return report.status == ReportStatus.DONE

    def get_csv_available(self, report) -> bool:
        return report.status == ReportStatus.DONE and bool(report.csv_file_name)


class PeriodReportRequestSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    site = serializers.CharField(max_length=30, allow_blank=True, required=False, default="")
    access_mode = serializers.CharField(max_length=30, allow_blank=True, required=False, default="")
    sector = serializers.ChoiceField(choices=Sector.choices, allow_blank=True, required=False, default="")
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)


class DossierRequestSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices)

    class Meta:
        model = Report
        fields = ["status", "kind"]


def _language(data) -> str:
    return services.report_language(data.get("language") or translation.get_language())




def dossier_request_response(request, app, audience: str) -> Response:
    """Queue the dossier of ``app`` for ``audience``: 202 with the report to poll."""
    data = validated(DossierRequestSerializer, request)
    report = services.report_request_dossier(actor=request.user, application=app, audience=audience,
                                             language=_language(data))
    staff = audience == ReportAudience.STAFF
    return Response(ReportSerializer(report, context={"staff": staff}).data, status=status.HTTP_202_ACCEPTED)


def report_status_response(report, *, staff: bool) -> Response:
    """A report's status for polling: never cached, since it changes while the report is generated."""
    response = Response(ReportSerializer(report, context={"staff": staff}).data)
    response["Cache-Control"] = "no-store"
    return response


PDF = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")}
CSV = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The period report's figures.")}


class CanUseStaffReports(BasePermission):
    """Ethics officers, allocation managers and administrators: the same rule as the report pages."""

    def has_permission(self, request, view):
        return services.can_request_period_report(request.user) or services.can_request_staff_dossier(request.user)


class StaffReportApi(APIView):
    permission_classes = [*BASE, StaffMFA, CanUseStaffReports]


# ------------------------------------------------------------------------------------ staff

class StaffReportListApi(StaffReportApi, ListAPIView):
    queryset = Report.objects.none()
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        return selectors.staff_reports_for(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "staff": True}

    @extend_schema(tags=STAFF, summary="Reports the caller may see (ethics officers: all; managers: staff dossiers)",
                   responses=responses({200: ReportSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PeriodReportRequestApi(StaffReportApi):
    @extend_schema(tags=STAFF, summary="Request a period report (ethics officers, administrators)",
                   description="Generation runs in the background: poll the report until `finished`.",
                   request=PeriodReportRequestSerializer, responses=responses({202: ReportSerializer}, 400))
    def post(self, request):
        data = validated(PeriodReportRequestSerializer, request)
        fields = dict(data)
        fields["language"] = _language(fields)
        report = services.report_request_period(actor=request.user, **fields)
        return Response(ReportSerializer(report, context={"staff": True}).data, status=status.HTTP_202_ACCEPTED)


StaffReportsApi = combine("StaffReportsApi", StaffReportListApi, PeriodReportRequestApi)


class StaffDossierRequestApi(StaffReportApi):
    @extend_schema(tags=STAFF, summary="Request the staff dossier of an application",
                   request=DossierRequestSerializer, responses=responses({202: ReportSerializer}, 400, 404))
    def post(self, request, reference):
        return dossier_request_response(request, selectors.staff_application(reference), ReportAudience.STAFF)


class StaffReportDetailApi(StaffReportApi):
    @extend_schema(tags=STAFF, summary="A report's status and progress (poll this)",
                   responses=responses({200: ReportSerializer}, 404))
    def get(self, request, pk):
        return report_status_response(selectors.staff_report(request.user, pk), staff=True)


class StaffReportDownloadApi(StaffReportApi):
    @extend_schema(tags=STAFF, summary="Download the PDF (404 until the report is done)",
                   responses=responses(PDF, 404))
    def get(self, request, pk):
        return report_file_response(selectors.staff_report(request.user, pk))


class StaffReportCsvApi(StaffReportApi):
    @extend_schema(tags=STAFF, summary="Download a period report's CSV (404 until done, or for dossiers)",
                   responses=responses(CSV, 404))
    def get(self, request, pk):
        report = selectors.staff_report(request.user, pk)
        if report.kind != ReportKind.PERIOD:
            raise Http404
        return report_file_response(report, csv=True)


# ------------------------------------------------------------------------------------ applicants

class MyReportListApi(ListAPIView):
    queryset = Report.objects.none()
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        return selectors.applicant_reports_for(self.request.user)

    @extend_schema(tags=MINE, summary="Dossiers of the caller's organisations' applications",
                   responses=responses({200: ReportSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DossierRequestApi(APIView):
    @extend_schema(tags=MINE, summary="Request the dossier of one of the caller's organisations' applications",
                   request=DossierRequestSerializer, responses=responses({202: ReportSerializer}, 400, 404))
    def post(self, request, reference):
        app = selectors.applicant_application(request.user, reference)
        return dossier_request_response(request, app, ReportAudience.APPLICANT)


class MyReportDetailApi(APIView):
    @extend_schema(tags=MINE, summary="A dossier's status and progress (poll this)",
                   responses=responses({200: ReportSerializer}, 404))
    def get(self, request, pk):
        return report_status_response(selectors.applicant_report(request.user, pk), staff=False)


class MyReportDownloadApi(APIView):
    @extend_schema(tags=MINE, summary="Download the dossier's PDF (404 until it is done)",
                   responses=responses(PDF, 404))
    def get(self, request, pk):
        return report_file_response(selectors.applicant_report(request.user, pk))


# ------------------------------------------------------------------------------------ verification

class VerifyUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The PDF exactly as it was received (at most 50 MB).")


class VerifiedReportSerializer(serializers.Serializer):
    """What the verification page shows about the report that has these bytes."""

    id = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    application = serializers.CharField(source="application.reference", allow_null=True, default=None)
    requested_by = serializers.CharField(source="requested_by.display_name", allow_null=True, default=None)
    issued_at = serializers.DateTimeField(source="finished_at", allow_null=True)


class VerificationSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text="The portal issued a PDF with exactly these bytes.")
    sha256 = serializers.CharField(help_text="SHA-256 of the uploaded bytes (hex).")
    report = VerifiedReportSerializer(allow_null=True, help_text="The issued report; null when not valid.")


class ReportVerifyApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(tags=MINE, summary="Verify that a PDF was issued by the portal, unaltered (multipart: file)",
                   description="The file's SHA-256 is looked up among the reports the portal issued; the upload is "
                               "not kept. Each verification is written to the audit trail (report.verified). "
                               "A file that is not a PDF, or larger than any report, is refused (400).",
                   request={"multipart/form-data": VerifyUploadSerializer},
                   responses=responses({200: VerificationSerializer}, 400))
    def post(self, request):
        data = VerifyUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.report_verify_upload(actor=request.user, upload=data.validated_data["file"])
        return Response(VerificationSerializer(result).data)
