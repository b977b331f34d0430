"""Who receives a site's hand-over tasks (Slurm and storage alike)."""

from __future__ import annotations

from accounts.models import User
from accounts.roles import ROLE_GROUPS, Role
from allocations.catalogue.models import Site


def handover_recipients(site: Site) -> list[str]:
    """The site's hand-over address; without one, the portal's operators."""
    if site.handover_email:
        return [site.handover_email]
    return sorted(set(User.objects.filter(is_active=True, groups__name=ROLE_GROUPS[Role.OPERATOR])
                      .values_list("email", flat=True)))
