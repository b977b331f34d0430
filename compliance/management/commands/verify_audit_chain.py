from django.core.management.base import BaseCommand, CommandError

from portal.audit import verify_chain


class Command(BaseCommand):
    help = "Recompute every audit event's hash and link; exit non-zero at the first bad event."

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{result.first_bad_seq}: {result.reason} "
                f"({result.count} events verified before it)"
            )
        self.stdout.write(f"Audit chain OK: {result.count} events, head {result.head_hash}")
