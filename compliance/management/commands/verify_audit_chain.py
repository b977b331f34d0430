import re

from django.core.management.base import BaseCommand, CommandError

from portal.audit import ChainHead, verify_chain

HASH_RE = re.compile(r"[0-9a-f]{64}")


class Command(BaseCommand):
    help = ("Recompute every audit event's hash and link; exit non-zero at the first bad event. With "
            "--expect-seq and --expect-hash (a head printed in the log or in a PDF report), the chain must "
            "also hold that event with that hash, so removing the newest events is caught too.")

    def add_arguments(self, parser):
        parser.add_argument("--expect-seq", type=int, metavar="N",
                            help="number of a remembered head event (the seq= of the head log line)")
        parser.add_argument("--expect-hash", metavar="H",
                            help="hash of that event (the hash= of the head log line)")

    def handle(self, *args, **options):
        expect = self._expected_head(options["expect_seq"], options["expect_hash"])
        result = verify_chain(expect=expect)
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{result.first_bad_seq}: {result.reason} "
                f"({result.count} events verified before it)"
            )
        if expect is not None:
            self.stdout.write(f"Remembered head #{expect.seq} found with hash {expect.hash}")
        self.stdout.write(f"Audit chain OK: {result.count} events, head {result.head_hash}")

    @staticmethod
    def _expected_head(seq: int | None, digest: str | None) -> ChainHead | None:
        if seq is None and digest is None:
            return None
        if seq is None or digest is None:
            raise CommandError("--expect-seq and --expect-hash go together")
        digest = digest.strip().lower()
        if seq < 0 or not HASH_RE.fullmatch(digest):
            raise CommandError("--expect-seq must be 0 or more and --expect-hash 64 hexadecimal digits")
        return ChainHead(seq, digest)
