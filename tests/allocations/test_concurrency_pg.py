"""Concurrent approvals on PostgreSQL: capacity rows are locked, so a site-quarter is never
over-committed, and one application never gets two allocations.

Each thread uses its own database connection (closed at the thread's end); the test commits for real
(`postgres_transactional`), so the row locks are the ones production relies on."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections

from allocations.applications.models import ApplicationStatus
from allocations.grants.models import Allocation, AllocationQuota
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


def _setup(gpu_capacity):
    ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    cap = fr.set_capacity(gpu_hours=gpu_capacity, cpu_core_hours=1_000_000)
    return cap, fr.manager()


def _quota():
    return {fr.site("zellik").pk: {"gpu_hours": GPU_EACH, "cpu_core_hours": 500, "storage_tb": Decimal("2")}}


def test_concurrent_approvals_never_overcommit(postgres_transactional, queued):
    cap, boss = _setup(FITS * GPU_EACH)
    apps = [fr.application(status=ApplicationStatus.AWAITING_DECISION, requests={"zellik": GPU_EACH})
            for _ in range(APPLICATIONS)]
    quota = _quota()
    started = time.monotonic()
    results = _run_together([
        (lambda app=app: application_approve(actor=boss, application=app, quotas=quota).pk) for app in apps])
    elapsed = time.monotonic() - started
    outcomes = [r[0] for r in results]
    errors = [r for r in results if r[0] == "error"]
    cap.refresh_from_db()
    granted = sum(AllocationQuota.objects.filter(site__code="zellik", allocation__application__in=apps)
                  .values_list("gpu_hours", flat=True))
    print(f"\n[concurrency] {APPLICATIONS} concurrent approvals, capacity {cap.gpu_hours} GPU-h "
          f"({FITS} x {GPU_EACH}): approved={outcomes.count('ok')} refused={outcomes.count('refused')} "
          f"errors={len(errors)} committed={cap.committed_gpu_hours} granted_sum={granted} "
          f"allocations={Allocation.objects.count()} in {elapsed:.2f} s")
    assert errors == []
    assert outcomes.count("ok") == FITS
    assert outcomes.count("refused") == APPLICATIONS - FITS
    assert all("does not have enough capacity" in r[1][0] for r in results if r[0] == "refused")
    assert Allocation.objects.filter(application__in=apps).count() == FITS
    assert cap.committed_gpu_hours == granted == FITS * GPU_EACH <= cap.gpu_hours
    approved = [a for a in apps if a.__class__.objects.get(pk=a.pk).status == ApplicationStatus.APPROVED]
    assert len(approved) == FITS


def test_same_application_approved_twice_at_once(postgres_transactional, queued):
    cap, boss = _setup(100_000)
    app = fr.application(status=ApplicationStatus.AWAITING_DECISION, requests={"zellik": GPU_EACH})
    quota = _quota()
    results = _run_together([lambda: application_approve(actor=boss, application=app, quotas=quota).pk] * 2)
    cap.refresh_from_db()
    print(f"\n[concurrency] same application approved by 2 threads: results={results} "
          f"allocations={Allocation.objects.filter(application=app).count()} committed={cap.committed_gpu_hours}")
    assert [r[0] for r in results] == ["ok", "ok"]
    assert results[0][1] == results[1][1]  # the second call returned the first call's allocation
    assert Allocation.objects.filter(application=app).count() == 1
    assert cap.committed_gpu_hours == GPU_EACH
    assert connection.vendor == "postgresql"
