"""The operator's provisioning services check the role themselves, whoever calls them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from allocations.catalogue.models import Site
from allocations.provisioning import services
from portal.models import AuditEvent
from tests.factories import AllocationManagerFactory, OperatorFactory, approved_allocation

pytestmark = pytest.mark.django_db


def test_only_operators_may_rerun_or_reconcile():
    allocation, manager, applicant = approved_allocation()
    zellik = Site.objects.get(code="zellik")
    for actor in (manager, applicant, AllocationManagerFactory()):
        with pytest.raises(PermissionDenied):
            services.provisioning_rerun_allocation(actor=actor, allocation=allocation)
        with pytest.raises(PermissionDenied):
            services.provisioning_reconcile_site(actor=actor, site=zellik)
    assert not AuditEvent.objects.filter(action__startswith="provisioning.").exists()


def test_an_inactive_site_does_not_count_as_direct_for_a_rerun():
    allocation, _manager, _ = approved_allocation()
    Site.objects.filter(code="zellik").update(is_active=False)
    allocation.refresh_from_db()
    with pytest.raises(ValidationError):
        services.provisioning_rerun_allocation(actor=OperatorFactory(), allocation=allocation)
