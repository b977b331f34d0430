"""The download of a finished report's file, shared by the report pages and the API."""

from django.http import FileResponse, Http404

from ..models import Report, ReportStatus
from . import services


def report_file_response(report: Report, *, csv: bool = False) -> FileResponse:
    """The file of a finished report; anything else (not done yet, file gone) is a 404."""
    if report.status != ReportStatus.DONE:
        raise Http404
    path = services.report_file(report.csv_file_name if csv else report.file_name)
    if path is None or not path.is_file():
        raise Http404
    stem = f"aif-{report.kind}-{report.params.get('reference') or report.params.get('date_from', '')}-{report.pk}"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=f"{stem}.{'csv' if csv else 'pdf'}",
                            content_type="text/csv; charset=utf-8" if csv else "application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response
