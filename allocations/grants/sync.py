"""Marking an allocation for provisioning: the one step every change the clusters must follow takes.

Apart from the services of this domain so that the domains below it (a team member confirming) can
mark an allocation without importing the services that call theirs."""

from __future__ import annotations

from django.db.models import F

from allocations.grants.models import Allocation, SyncState
from portal.tasking import enqueue_on_commit

# Named, not imported: the provisioning task module imports the grants services.
PROVISION_TASK = "allocations.provisioning.tasks.provision_allocation"


def mark_needs_sync(allocation: Allocation) -> None:
    """The clusters must follow a change of this allocation: a new desired version, provisioned after commit.

    Call inside the deciding transaction, with the allocation row locked or freshly created. If the
    broker is down the mark stays and the provisioning sweeper queues it again."""
    Allocation.objects.filter(pk=allocation.pk).update(
        desired_version=F("desired_version") + 1, sync_state=SyncState.NEEDS_SYNC)
    allocation.refresh_from_db(fields=["desired_version", "sync_state"])
    enqueue_on_commit(PROVISION_TASK, allocation.pk)
