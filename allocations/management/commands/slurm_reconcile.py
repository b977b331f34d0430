from django.core.management.base import BaseCommand, CommandError

from allocations.catalogue.models import Site
from allocations.provisioning.models import SyncOutcome
from allocations.provisioning.services import backend_kind, reconcile_site


class Command(BaseCommand):
    help = "Compare what each site's Slurm holds with the portal's desired state and fix the drift."

    def add_arguments(self, parser):
        parser.add_argument("--site", help="site code (default: every active site)")
        parser.add_argument("--dry-run", action="store_true", help="report the differences, change nothing")

    def handle(self, *args, site=None, dry_run=False, **options):
        sites = Site.objects.filter(is_active=True)
        if site:
            sites = sites.filter(code=site)
            if not sites.exists():
                known = ", ".join(Site.objects.values_list("code", flat=True))
                raise CommandError(f"unknown site {site!r}; known: {known}")
        failed = False
        for s in sites:
            attempt = reconcile_site(site=s, dry_run=dry_run)
            reads = sum(1 for c in attempt.commands if c.get("kind") == "read")
            writes = sum(1 for c in attempt.commands if c.get("kind") == "write")
            self.stdout.write(f"{s.code} ({backend_kind(s)}): {attempt.outcome} in {attempt.duration_ms} ms, "
                              f"{reads} reads, {writes} writes, {len(attempt.drift)} differences")
            for line in attempt.drift:
                self.stdout.write(f"  {line}")
            if attempt.outcome == SyncOutcome.ERROR:
                failed = True
                self.stderr.write(f"  error: {attempt.error}")
        if failed:
            raise CommandError("reconcile failed on at least one site")
