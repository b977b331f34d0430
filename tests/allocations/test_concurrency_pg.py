"""Concurrent approvals on PostgreSQL: capacity rows are locked (in one order, site then quarter), so no
site-quarter is ever over-committed, and one application never gets two allocations.

Each thread uses its own database connection (closed at the thread's end); the test commits for real
(`postgres_transactional`), so the row locks are the ones production relies on."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections
from django.utils import timezone

from allocations.applications.models import ApplicationStatus
from allocations.applications.services import application_end_date
from allocations.catalogue.models import SiteCapacity, quarter_label, spread_pro_rata
from allocations.grants.models import Allocation, AllocationQuota, CapacityReservation
from allocations.review.services import application_approve
from portal.models import AuditChainHead
from tests import factories as fr
from tests.factories import ensure_reference_data

pytestmark = [pytest.mark.postgres]

APPLICATIONS = 20
GPU_EACH = 1000
FITS = 7  # the quarter's capacity holds exactly this many requests


def _run_together(jobs):
    """Start every job at the same moment (a barrier); each on its own connection."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def runner(i, job):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", job())
        except ValidationError as exc:
            results[i] = ("refused", exc.messages)
        except Exception as exc:  # pragma: no cover - reported by the assertions below
            results[i] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    close_old_connections()
    return results


def _quota():
    return {fr.site("zellik").pk: {"gpu_hours": GPU_EACH, "cpu_core_hours": 500, "storage_tb": Decimal("2")}}


def test_concurrent_approvals_never_overcommit(postgres_transactional, queued):
    """20 approvals at once of 12-month allocations starting in March: each reserves in five quarters;
    every quarter holds exactly FITS of them, so the eighth is refused wherever it finds no room, and no
    quarter ends over-committed."""
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    boss = fr.manager()
    start = datetime.date(timezone.localdate().year + 1, 3, 15)
    apps = [fr.application(status=ApplicationStatus.AWAITING_DECISION, requests={"zellik": GPU_EACH}, start=start,
                           duration=12) for _ in range(APPLICATIONS)]
    end = application_end_date(apps[0])
    shares = dict(spread_pro_rata(GPU_EACH, start, end))
    assert len(shares) == 5
    caps = {period: fr.set_capacity(period=period, gpu_hours=FITS * share, cpu_core_hours=1_000_000)
            for period, share in shares.items()}
    quota = _quota()
    started = time.monotonic()
    results = _run_together([
        (lambda app=app: application_approve(actor=boss, application=app, quotas=quota).pk) for app in apps])
    elapsed = time.monotonic() - started
    outcomes = [r[0] for r in results]
    errors = [r for r in results if r[0] == "error"]
    committed = {period: SiteCapacity.objects.get(pk=cap.pk).committed_gpu_hours for period, cap in caps.items()}
    reserved = {period: sum(CapacityReservation.objects.filter(site__code="zellik", period_start=period)
                            .values_list("gpu_hours", flat=True)) for period in caps}
    granted = sum(AllocationQuota.objects.filter(site__code="zellik", allocation__application__in=apps)
                  .values_list("gpu_hours", flat=True))
    print(f"\n[concurrency] {APPLICATIONS} concurrent approvals over {len(caps)} quarters, each quarter holding "
          f"{FITS} x its share: approved={outcomes.count('ok')} refused={outcomes.count('refused')} "
          f"errors={len(errors)} committed={list(committed.values())} capacity={[c.gpu_hours for c in caps.values()]} "
          f"granted_sum={granted} in {elapsed:.2f} s")
    assert errors == []
    assert outcomes.count("ok") == FITS
    assert outcomes.count("refused") == APPLICATIONS - FITS
    assert all("does not have enough capacity" in r[1][0] for r in results if r[0] == "refused")
    assert Allocation.objects.filter(application__in=apps).count() == FITS
    for period, cap in caps.items():
        assert committed[period] == reserved[period] == FITS * shares[period] <= cap.gpu_hours
    assert granted == sum(committed.values()) == FITS * GPU_EACH
    approved = [a for a in apps if a.__class__.objects.get(pk=a.pk).status == ApplicationStatus.APPROVED]
    assert len(approved) == FITS


def test_same_application_approved_twice_at_once(postgres_transactional, queued):
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    boss = fr.manager()
    caps = [fr.set_capacity(period=period, gpu_hours=100_000) for period in fr.quarters(6, fr.start_soon())]
    app = fr.application(status=ApplicationStatus.AWAITING_DECISION, requests={"zellik": GPU_EACH})
    quota = _quota()
    results = _run_together([lambda: application_approve(actor=boss, application=app, quotas=quota).pk] * 2)
    committed = sum(SiteCapacity.objects.filter(pk__in=[c.pk for c in caps]).values_list("committed_gpu_hours",
                                                                                          flat=True))
    print(f"\n[concurrency] same application approved by 2 threads: results={results} "
          f"allocations={Allocation.objects.filter(application=app).count()} committed={committed}")
    assert [r[0] for r in results] == ["ok", "ok"]
    assert results[0][1] == results[1][1]  # the second call returned the first call's allocation
    assert Allocation.objects.filter(application=app).count() == 1
    assert committed == GPU_EACH
    assert connection.vendor == "postgresql"


def test_concurrent_approvals_with_manager_splits_never_overcommit(postgres_transactional, queued):
    """20 approvals at once, half pro rata and half with the manager's split (all the hours in the first two
    quarters): the split goes through the same locks, so whatever order they run in, no quarter ends
    over-committed, every quarter's committed hours are the sum of its reservations, and each approved
    allocation holds exactly the split it was given."""
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    boss = fr.manager()
    start = datetime.date(timezone.localdate().year + 1, 3, 15)
    apps = [fr.application(status=ApplicationStatus.AWAITING_DECISION, requests={"zellik": GPU_EACH}, start=start,
                           duration=12) for _ in range(APPLICATIONS)]
    end = application_end_date(apps[0])
    periods = [period for period, _share in spread_pro_rata(GPU_EACH, start, end)]
    caps = {period: fr.set_capacity(period=period, gpu_hours=4_000, cpu_core_hours=1_000_000) for period in periods}
    site_id = fr.site("zellik").pk
    half = GPU_EACH // 2
    split = {site_id: {quarter_label(p): {"gpu_hours": half if i < 2 else 0, "cpu_core_hours": 500 if i == 0 else 0}
                       for i, p in enumerate(periods)}}
    jobs = [(lambda app=app, i=i: application_approve(actor=boss, application=app, quotas=_quota(),
                                                      split=split if i % 2 else None).pk)
            for i, app in enumerate(apps)]
    results = _run_together(jobs)
    outcomes = [r[0] for r in results]
    committed = {p: SiteCapacity.objects.get(pk=c.pk).committed_gpu_hours for p, c in caps.items()}
    reserved = {p: sum(CapacityReservation.objects.filter(site_id=site_id, period_start=p)
                       .values_list("gpu_hours", flat=True)) for p in periods}
    print(f"\n[concurrency] {APPLICATIONS} concurrent approvals, half with a split: "
          f"approved={outcomes.count('ok')} refused={outcomes.count('refused')} committed={list(committed.values())} "
          f"capacity={[c.gpu_hours for c in caps.values()]}")
    assert [r for r in results if r[0] == "error"] == []
    assert 0 < outcomes.count("ok") < APPLICATIONS
    assert all("does not have enough capacity" in r[1][0] for r in results if r[0] == "refused")
    for p, cap in caps.items():
        assert committed[p] == reserved[p] <= cap.gpu_hours
    pro_rata = dict(spread_pro_rata(GPU_EACH, start, end))
    by_split = {p: (half if i < 2 else 0) for i, p in enumerate(periods)}
    for i, (app, (outcome, _value)) in enumerate(zip(apps, results, strict=True)):
        if outcome != "ok":
            assert not Allocation.objects.filter(application=app).exists()
            continue
        held = dict(CapacityReservation.objects.filter(allocation__application=app)
                    .values_list("period_start", "gpu_hours"))
        expected = by_split if i % 2 else pro_rata
        assert {p: held.get(p, 0) for p in periods} == expected
    assert sum(committed.values()) == outcomes.count("ok") * GPU_EACH
