"""Concurrent de minimis decisions on PostgreSQL: two linked organisations' applications on two different sites
(so that no capacity row serialises them) are approved at the same moment; the single undertaking's
organisations are locked while its headroom is read, so together they never exceed the ceiling."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from allocations.aid.models import AidLedgerLine
from allocations.applications.models import ApplicationStatus
from allocations.review.services import application_approve
from portal.models import AuditChainHead
from tests import factories as f
from tests.allocations.test_concurrency_pg import _run_together

pytestmark = [pytest.mark.postgres]

GPU_EACH = 40_000  # EUR 100,000 at EUR 2.50 per GPU-hour


def test_concurrent_grants_to_one_single_undertaking_never_exceed_the_ceiling(postgres_transactional, queued):
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    f.de_minimis_mode()
    for code in ("zellik", "charleroi"):
        f.reference_price(code, gpu="2.50", cpu="0")
        f.set_capacity(site_code=code, gpu_hours=1_000_000, cpu_core_hours=1_000_000)
    a, b = f.OrganisationFactory(), f.OrganisationFactory()
    f.link(a, b)
    f.self_declare(a, ("150000.00", timezone.localdate() - datetime.timedelta(days=30)))  # headroom EUR 150,000
    apps = [f.application(status=ApplicationStatus.AWAITING_DECISION, organisation=org, requests={code: GPU_EACH})
            for org, code in ((a, "zellik"), (b, "charleroi"), (a, "zellik"), (b, "charleroi"))]
    boss = f.manager()

    def approve(app):
        site = app.resources.get().site_id
        return application_approve(actor=boss, application=app,
                                   quotas={site: {"gpu_hours": GPU_EACH, "cpu_core_hours": 0, "storage_tb": 0}}).pk

    results = _run_together([(lambda app=app: approve(app)) for app in apps])
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["ok", "refused", "refused", "refused"], results
    assert all("exceed the ceiling" in " ".join(r[1]) for r in results if r[0] == "refused")
    total = AidLedgerLine.objects.filter(organisation__in=[a, b]).aggregate(total=Sum("value"))["total"]
    assert total == Decimal("100000.00")
