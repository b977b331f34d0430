from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from allocations.aid.choices import LegalBasis
from allocations.aid.export import FORMATS, parse_period, register_file


class Command(BaseCommand):
    help = ("Write the aid register (the value of free compute granted, per beneficiary, single undertaking, legal "
            "basis and site) for the grants dated from --from to --to inclusive.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first date of grant, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last date of grant, YYYY-MM-DD (inclusive)")
        parser.add_argument("--format", dest="fmt", choices=FORMATS, default="csv")
        parser.add_argument("--basis", choices=LegalBasis.values, default="",
                            help="only the lines of this legal basis (e.g. de_minimis for the central register)")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument("--language", default="en", help="language of the CSV headers and labels (en, fr, nl)")

    def handle(self, *args, start, end, fmt, basis, output=None, language="en", **options):
        try:
            start, end, fmt = parse_period(start, end, fmt)
        except ValidationError as exc:
            raise CommandError("; ".join(f"--{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        content, _type, _name = register_file(start=start, end=end, fmt=fmt, basis=basis, language=language)
        if output:
            with open(output, "wb") as fh:
                fh.write(content)
            self.stderr.write(f"wrote {output}")
        else:
            # The same bytes as the file (the CSV's byte-order mark included), as text.
            self.stdout.write(content.decode("utf-8"), ending="")
