from django.core.management.base import BaseCommand, CommandError

from allocations.catalogue.models import Site
from allocations.provisioning.services import backend_kind, bootstrap_site


class Command(BaseCommand):
    help = "Create each site's access-mode QOS and organisation parent accounts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--site", help="site code (default: every active direct site)")

    def handle(self, *args, site=None, **options):
        sites = Site.objects.filter(is_active=True)
        if site:
            sites = sites.filter(code=site)
        failed = False
        for s in sites:
            if backend_kind(s) == "handover":
                self.stdout.write(f"{s.code}: hand-over site, nothing to bootstrap")
                continue
            result = bootstrap_site(site=s)
            self.stdout.write(f"{s.code} ({backend_kind(s)}): {len(result.commands)} commands, "
                              f"{'ok' if result.ok else 'FAILED'}")
            for error in result.errors:
                failed = True
                self.stderr.write(f"  {error}")
        if failed:
            raise CommandError("bootstrap failed")
