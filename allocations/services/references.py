from django.db import transaction
from django.utils import timezone

from ..models import ReferenceSequence


def next_application_reference(prefix: str = "AIF") -> str:
    """AIF-2026-0042: a per-year counter, incremented under a row lock."""
    year = timezone.localdate().year
    with transaction.atomic():
        seq, _ = ReferenceSequence.objects.select_for_update().get_or_create(year=year)
        seq.last += 1
        seq.save(update_fields=["last"])
    return f"{prefix}-{year}-{seq.last:04d}"
