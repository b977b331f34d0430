"""The vocabulary of the aid ledger, kept apart from its models so that the catalogue's access modes can
name it without importing the ledger (which refers to sites and allocations)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalBasis(models.TextChoices):
    """On which legal basis an access mode's free compute is given. The operator chooses it; the portal never
    infers it (docs/aid.md)."""

    NONE = "none", _("None: non-economic or research use, not aid")
    DE_MINIMIS = "de_minimis", _("De minimis aid (Regulation (EU) 2023/2831)")
    BLOCK_EXEMPTION = "block_exemption", _("Aid under a block-exemption article")
    UNION_MANAGED = "union_managed", _("Union-managed resources")


class CeilingPolicy(models.TextChoices):
    """What a decision does when a de minimis grant would take the single undertaking above the ceiling."""

    REFUSE = "refuse", _("Refuse the grant")
    WARN = "warn", _("Warn, and record the grant once the manager confirms")
