"""Capacity across quarters: an allocation reserves its hours in every quarter it spans (pro rata by days,
the last quarter takes the remainder), gives back what it did not use when it is revoked or expires early,
re-plans the future on a top-up or an extension, and the page, the API and the home show committed, used
and free hours per site and quarter."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import SiteCapacity, quarter_days, quarter_start, spread_pro_rata
from allocations.grants import selectors as grant_selectors
from allocations.grants import services as grant_services
from allocations.grants.models import AllocationStatus, CapacityReservation, ChangeKind
from allocations.provisioning.models import UsageSnapshot
from allocations.review.services import application_approve
from tests import factories as fr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]

D = datetime.date
TODAY = timezone.localdate()


def _publish(start: D, count: int = 6, gpu: int = 100_000, cpu: int = 1_000_000) -> dict[D, SiteCapacity]:
    return {period: fr.set_capacity(period=period, gpu_hours=gpu, cpu_core_hours=cpu)
            for period in fr.quarters(count, start)}


def _approve(start: D, months: int, gpu: int, cpu: int = 500):
    app = fr.application(status=ApplicationStatus.AWAITING_DECISION, start=start, duration=months,
                         requests={"zellik": gpu})
    return application_approve(actor=fr.manager(), application=app,
                               quotas={fr.site().pk: {"gpu_hours": gpu, "cpu_core_hours": cpu, "storage_tb": "2"}})


def _reserved(alloc) -> dict[D, int]:
    return dict(CapacityReservation.objects.filter(allocation=alloc).order_by("period_start")
                .values_list("period_start", "gpu_hours"))


def _committed(caps: dict[D, SiteCapacity]) -> dict[D, int]:
    return {p: SiteCapacity.objects.get(pk=c.pk).committed_gpu_hours for p, c in caps.items()}


# --- the rule --------------------------------------------------------------------------------------

def test_twelve_months_from_march_spread_over_five_quarters_pro_rata():
    start, end = D(2027, 3, 15), D(2028, 3, 15)
    assert [p for p, _n in quarter_days(start, end)] == [D(2027, 1, 1), D(2027, 4, 1), D(2027, 7, 1),
                                                         D(2027, 10, 1), D(2028, 1, 1)]
    assert [n for _p, n in quarter_days(start, end)] == [17, 91, 92, 92, 75]  # 367 days, both ends included
    parts = spread_pro_rata(10_000, start, end)
    assert parts == [(D(2027, 1, 1), 463), (D(2027, 4, 1), 2479), (D(2027, 7, 1), 2506), (D(2027, 10, 1), 2506),
                     (D(2028, 1, 1), 2046)]  # floors, and the remainder in the last quarter
    assert sum(h for _p, h in parts) == 10_000


@pytest.mark.parametrize("total", [0, 1, 7, 999, 10_001, 123_457])
@pytest.mark.parametrize("start,end", [(D(2027, 1, 1), D(2027, 1, 1)), (D(2027, 2, 28), D(2027, 4, 1)),
                                       (D(2027, 12, 31), D(2029, 1, 2)), (D(2028, 2, 29), D(2028, 8, 29))])
def test_spread_always_sums_exactly(total, start, end):
    parts = spread_pro_rata(total, start, end)
    assert sum(h for _p, h in parts) == total
    assert all(h >= 0 for _p, h in parts)
    assert [p for p, _h in parts] == [p for p, _n in quarter_days(start, end)]


# --- approval ------------------------------------------------------------------------------------------

def test_approval_reserves_in_every_quarter_the_allocation_spans():
    start = D(TODAY.year + 1, 3, 15)
    caps = _publish(quarter_start(start))
    alloc = _approve(start, 12, 10_000)
    expected = dict(spread_pro_rata(10_000, alloc.start_date, alloc.end_date))
    assert len(expected) == 5
    assert _reserved(alloc) == expected
    assert {p: n for p, n in _committed(caps).items() if n} == expected
    assert sum(_committed(caps).values()) == 10_000
    # CPU follows the same rule; storage is held in every quarter.
    assert sum(CapacityReservation.objects.filter(allocation=alloc).values_list("cpu_core_hours", flat=True)) == 500
    assert {str(r.storage_tb) for r in CapacityReservation.objects.filter(allocation=alloc)} == {"2.00"}


def test_a_full_later_quarter_refuses_the_approval_and_writes_nothing():
    start = D(TODAY.year + 1, 3, 15)
    caps = _publish(quarter_start(start))
    third = sorted(caps)[2]
    SiteCapacity.objects.filter(pk=caps[third].pk).update(gpu_hours=100)
    app = fr.application(status=ApplicationStatus.AWAITING_DECISION, start=start, duration=12,
                         requests={"zellik": 10_000})
    with pytest.raises(ValidationError, match="does not have enough capacity left for"):
        application_approve(actor=fr.manager(), application=app,
                            quotas={fr.site().pk: {"gpu_hours": 10_000, "cpu_core_hours": 0}})
    assert sum(_committed(caps).values()) == 0
    assert not CapacityReservation.objects.exists()


def test_an_unpublished_quarter_refuses_the_approval():
    start = D(TODAY.year + 1, 3, 15)
    published = _publish(quarter_start(start), count=3)
    SiteCapacity.objects.filter(period_start__gt=max(published)).delete()  # the span's last two quarters
    app = fr.application(status=ApplicationStatus.AWAITING_DECISION, start=start, duration=12,
                         requests={"zellik": 10_000})
    with pytest.raises(ValidationError, match="No capacity is published for Zellik in"):
        application_approve(actor=fr.manager(), application=app,
                            quotas={fr.site().pk: {"gpu_hours": 10_000, "cpu_core_hours": 0}})


# --- release -------------------------------------------------------------------------------------------

def _running(start: D, months: int, gpu: int):
    """An approved allocation whose start lies in the past (its earlier quarters are spent)."""
    caps = _publish(quarter_start(start), count=7)
    alloc = _approve(start, months, gpu)
    alloc.refresh_from_db()
    return alloc, caps


def _use(alloc, gpu_hours: int) -> None:
    UsageSnapshot.objects.create(allocation=alloc, site=fr.site(), gpu_minutes=gpu_hours * 60, cpu_minutes=0)


def test_revocation_releases_the_unused_hours_of_this_quarter_and_every_later_one():
    start = quarter_start(TODAY) - datetime.timedelta(days=100)  # began in an earlier quarter
    alloc, caps = _running(start, 12, 12_000)
    # Approved after the start: nothing is reserved in quarters already over.
    before = _reserved(alloc)
    assert min(before) == quarter_start(TODAY) and sum(before.values()) == 12_000
    _use(alloc, 1_000)
    grant_services.allocation_revoke(actor=fr.manager(), allocation=alloc, reason="Breach of the terms of use.")
    after = _reserved(alloc)
    assert after == {quarter_start(TODAY): 1_000}  # what was used stays committed; the rest goes back
    assert sum(_committed(caps).values()) == 1_000


def test_past_quarters_stay_committed_when_the_allocation_ends_early():
    alloc, caps = _running(quarter_start(TODAY), 12, 12_000)
    past = quarter_start(TODAY - datetime.timedelta(days=95))
    # Move the reservation of the first quarter back one quarter, as if the allocation had begun then.
    first = min(_reserved(alloc))
    fr.set_capacity(period=past, gpu_hours=100_000)
    row = CapacityReservation.objects.get(allocation=alloc, period_start=first)
    SiteCapacity.objects.filter(site=fr.site(), period_start=past).update(committed_gpu_hours=row.gpu_hours)
    SiteCapacity.objects.filter(pk=caps[first].pk).update(committed_gpu_hours=0)
    row.period_start = past
    row.save()
    kept = row.gpu_hours
    _use(alloc, kept + 10)  # everything of the past quarter, and 10 hours more
    alloc.status = AllocationStatus.ACTIVE
    alloc.save(update_fields=["status"])
    grant_services.allocation_revoke(actor=fr.manager(), allocation=alloc, reason="Project stopped.")
    assert _reserved(alloc) == {past: kept}  # the current quarter held nothing: the 10 hours had no reservation
    assert sum(_committed(caps).values()) == 0


def test_early_expiry_releases_what_was_not_used():
    alloc, caps = _running(TODAY - datetime.timedelta(days=5), 12, 8_000)
    alloc.status = AllocationStatus.ACTIVE
    alloc.end_date = TODAY  # the end comes early (e.g. after a reduction of the period)
    alloc.save(update_fields=["status", "end_date"])
    _use(alloc, 300)
    grant_services.allocation_expire_if_due(allocation=alloc)
    alloc.refresh_from_db()
    assert alloc.status == AllocationStatus.EXPIRED
    assert _reserved(alloc) == {quarter_start(TODAY): 300}
    assert sum(_committed(caps).values()) == 300


def test_top_up_and_extension_replan_the_quarters_from_today():
    start = D(TODAY.year + 1, 1, 1)
    alloc, caps = _running(start, 6, 6_000)
    assert sum(_reserved(alloc).values()) == 6_000
    cr = fr.change_request(alloc, kind=ChangeKind.TOP_UP)
    cr.payload = {"quotas": {str(fr.site().pk): {"gpu_hours": 3_000, "cpu_core_hours": 0}}}
    cr.save(update_fields=["payload"])
    grant_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True, reason="")
    assert _reserved(alloc) == dict(spread_pro_rata(9_000, alloc.start_date, alloc.end_date))
    cr = fr.change_request(alloc, kind=ChangeKind.EXTENSION)
    cr.payload = {"end_date": (alloc.end_date + datetime.timedelta(days=92)).isoformat()}
    cr.save(update_fields=["payload"])
    grant_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True, reason="")
    alloc.refresh_from_db()
    assert _reserved(alloc) == dict(spread_pro_rata(9_000, alloc.start_date, alloc.end_date))
    assert sum(_committed(caps).values()) == 9_000


# --- what the manager reads ----------------------------------------------------------------------------

def test_capacity_page_and_api_show_committed_used_and_free(client):
    start = quarter_start(TODAY)
    caps = _publish(start, count=6, gpu=50_000)
    alloc = _approve(TODAY, 6, 6_000)
    reserved = _reserved(alloc)
    first = min(reserved)
    _use(alloc, reserved[first] + 100)  # the first quarter used up, 100 hours into the next
    rows = {(c.site.code, q.period_start): c for q in grant_selectors.capacity_by_quarter() for c in q.sites}
    second = sorted(reserved)[1]
    assert rows[("zellik", first)].used_gpu_hours == reserved[first]
    assert rows[("zellik", second)].used_gpu_hours == 100
    assert rows[("zellik", first)].remaining_gpu_hours == 50_000 - reserved[first]
    client.force_login(fr.manager())
    page = client.get(reverse("grants:capacity"), {"year": first.year}).content.decode()
    assert "Committed" in page and "Used" in page and "Free" in page
    assert f"{50_000 - reserved[first]:,}" in page  # grouped as the page reads it
    data = client.get("/api/v1/staff/capacity/", {"year": first.year}).json()
    site_rows = {(q["period_start"], s["site"]): s for q in data["quarters"] for s in q["sites"]}
    api = site_rows[(first.isoformat(), "zellik")]
    assert (api["committed_gpu_hours"], api["used_gpu_hours"], api["remaining_gpu_hours"]) == (
        reserved[first], reserved[first], 50_000 - reserved[first])
    assert caps  # published


def test_capacity_selector_queries_are_constant(django_assert_num_queries):
    _publish(quarter_start(TODAY), count=4)
    _approve(TODAY, 6, 6_000)
    with django_assert_num_queries(2):
        grant_selectors.capacity_by_quarter(year=TODAY.year)
    for _ in range(3):
        _approve(TODAY, 6, 1_000)
    with django_assert_num_queries(2):
        grant_selectors.capacity_by_quarter(year=TODAY.year)
