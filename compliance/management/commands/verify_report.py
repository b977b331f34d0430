from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.reports.services import report_verify


class Command(BaseCommand):
    help = ("Check that a PDF report was issued by the portal and not altered (SHA-256 lookup). "
            "Exit 0 when valid, 1 otherwise.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the PDF report to check")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        result = report_verify(actor=None, content=content)
        if not result.valid:
            raise CommandError(f"NOT ISSUED or ALTERED: no report issued by the portal has SHA-256 {result.sha256}")
        report = result.report
        issued = timezone.localtime(report.finished_at).isoformat(timespec="seconds")
        self.stdout.write(f"VALID: issued by the portal on {issued} (report #{report.pk}, {report.kind}, "
                          f"requested by {report.requested_by.display_name}, SHA-256 {result.sha256})")
