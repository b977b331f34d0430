"""Marking an allocation as needing provisioning and queueing the work after commit.

The mark is written in the same transaction as the decision that changed what the clusters should
hold; the Celery task is queued on commit. If the broker is down the mark stays and the periodic
sweeper queues it again, so nothing is lost."""

from django.db import transaction
from django.db.models import F

from ..models import Allocation, SyncState


def mark_needs_sync(allocation: Allocation) -> None:
    """Call inside the deciding transaction, with the allocation row locked or freshly created."""
    Allocation.objects.filter(pk=allocation.pk).update(
        desired_version=F("desired_version") + 1, sync_state=SyncState.NEEDS_SYNC)
    allocation.refresh_from_db(fields=["desired_version", "sync_state"])
    allocation_id = allocation.pk

    def _enqueue():
        from ..tasks import provision_allocation

        try:
            provision_allocation.delay(allocation_id)
        except Exception:  # broker down: the sweeper will pick the mark up
            import logging

            logging.getLogger(__name__).warning("could not queue provisioning of allocation %s", allocation_id,
                                                exc_info=True)

    transaction.on_commit(_enqueue)
