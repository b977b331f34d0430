"""The manager's split per quarter: at approval (page and API) and when approving a top-up, the granted hours
may be reserved per quarter as the manager sets them instead of pro rata. Per site the quarters add up to the
grant, no quarter takes more than it has free, every error names its field, a refusal writes nothing, and the
split is in the audit trail."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import SiteCapacity, quarter_label, quarter_start, spread_pro_rata
from allocations.grants import services as grant_services
from allocations.grants.models import Allocation, CapacityReservation, ChangeKind
from allocations.grants.selectors import top_up_split_needs
from allocations.review.services import application_approve
from portal.audit import AuditAction
from portal.models import AuditEvent
from tests import factories as fr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]

D = datetime.date
TODAY = timezone.localdate()
START = D(TODAY.year + 1, 3, 15)  # 12 months from here span five quarters
GPU = 10_000


def _publish(gpu: int = 100_000) -> dict[D, SiteCapacity]:
    return {period: fr.set_capacity(period=period, gpu_hours=gpu, cpu_core_hours=1_000_000)
            for period in fr.quarters(6, quarter_start(START))}


def _app():
    return fr.application(status=ApplicationStatus.AWAITING_DECISION, start=START, duration=12,
                          requests={"zellik": GPU})


def _quotas(gpu: int = GPU, cpu: int = 500):
    return {fr.site().pk: {"gpu_hours": gpu, "cpu_core_hours": cpu, "storage_tb": "0"}}


def _shares(app) -> dict[D, int]:
    from allocations.applications.services import application_end_date

    return dict(spread_pro_rata(GPU, START, application_end_date(app)))


def _front_loaded(app, cpu: int = 500) -> dict[int, dict[str, dict[str, int]]]:
    """Half of the hours in the first quarter, the rest spread evenly, the last taking the remainder."""
    periods = sorted(_shares(app))
    first, rest = GPU // 2, GPU - GPU // 2
    each = rest // (len(periods) - 1)
    gpu = [first] + [each] * (len(periods) - 2) + [rest - each * (len(periods) - 2)]
    cpus = [cpu] + [0] * (len(periods) - 1)
    return {fr.site().pk: {quarter_label(p): {"gpu_hours": g, "cpu_core_hours": c}
                           for p, g, c in zip(periods, gpu, cpus, strict=True)}}


def _reserved(alloc) -> dict[str, int]:
    return {quarter_label(p): n for p, n in CapacityReservation.objects.filter(allocation=alloc)
            .order_by("period_start").values_list("period_start", "gpu_hours")}


def test_approval_reserves_the_split_the_manager_sets_and_audits_it():
    caps = _publish()
    app = _app()
    split = _front_loaded(app)
    alloc = application_approve(actor=fr.manager(), application=app, quotas=_quotas(), split=split)
    wanted = {label: q["gpu_hours"] for label, q in split[fr.site().pk].items()}
    assert _reserved(alloc) == wanted
    assert {quarter_label(p): SiteCapacity.objects.get(pk=c.pk).committed_gpu_hours
            for p, c in caps.items() if SiteCapacity.objects.get(pk=c.pk).committed_gpu_hours} == wanted
    event = AuditEvent.objects.get(action=AuditAction.ALLOCATION_CREATED)
    assert event.changes["capacity_split"] == {
        str(fr.site().pk): {label: [q["gpu_hours"], q["cpu_core_hours"]] for label, q in split[fr.site().pk].items()}}


def test_without_a_split_the_approval_is_pro_rata_and_records_none():
    _publish()
    app = _app()
    alloc = application_approve(actor=fr.manager(), application=app, quotas=_quotas())
    assert _reserved(alloc) == {quarter_label(p): n for p, n in _shares(app).items()}
    assert "capacity_split" not in AuditEvent.objects.get(action=AuditAction.ALLOCATION_CREATED).changes


@pytest.mark.parametrize("spoil, key, message", [
    (lambda q, last: q[last].update(gpu_hours=q[last]["gpu_hours"] + 1), "gpu_hours",
     "The quarters add up to 10,001 GPU-hours; the grant leaves 10,000 to spread."),
    (lambda q, last: q[last].update(cpu_core_hours=100), "cpu_core_hours",
     "The quarters add up to 600 CPU core-hours; the grant leaves 500 to spread."),
    (lambda q, last: q[last].update(gpu_hours=-3), "gpu_hours", "Give a whole number of hours, 0 or more."),
    (lambda q, last: q[last].update(gpu_hours="12.5"), "gpu_hours", "Give a whole number of hours, 0 or more."),
    (lambda q, last: q[last].update(gpu_hours=True), "gpu_hours", "Give a whole number of hours, 0 or more."),
])
def test_a_wrong_split_is_refused_beside_its_field_and_writes_nothing(spoil, key, message):
    caps = _publish()
    app = _app()
    split = _front_loaded(app, cpu=500)
    quarters = split[fr.site().pk]
    last = sorted(quarters)[-1]
    spoil(quarters, last)
    with pytest.raises(ValidationError) as refused:
        application_approve(actor=fr.manager(), application=app, quotas=_quotas(), split=split)
    assert refused.value.message_dict == {f"split.zellik.{last}.{key}": [message]}
    assert not Allocation.objects.exists() and not CapacityReservation.objects.exists()
    assert all(SiteCapacity.objects.get(pk=c.pk).committed_gpu_hours == 0 for c in caps.values())


def test_a_quarter_outside_the_span_or_a_site_not_granted_is_refused():
    _publish()
    app = _app()
    split = _front_loaded(app)
    split[fr.site().pk]["2099-Q1"] = {"gpu_hours": 0, "cpu_core_hours": 0}
    with pytest.raises(ValidationError) as refused:
        application_approve(actor=fr.manager(), application=app, quotas=_quotas(), split=split)
    assert refused.value.message_dict == {"split": [f"2099-Q1 is not a quarter the allocation spans from "
                                                    f"{quarter_label(quarter_start(START))}."]}
    with pytest.raises(ValidationError) as refused:
        application_approve(actor=fr.manager(), application=app, quotas=_quotas(),
                            split={fr.site("charleroi").pk: {}, **_front_loaded(app)})
    assert refused.value.message_dict == {"split": ["The split names a site on which nothing is granted."]}
    assert not Allocation.objects.exists()


def test_a_quarter_over_its_free_capacity_is_refused_beside_its_field():
    caps = _publish()
    app = _app()
    split = _front_loaded(app)
    first = min(caps)
    SiteCapacity.objects.filter(pk=caps[first].pk).update(gpu_hours=GPU // 2 - 1)
    with pytest.raises(ValidationError) as refused:
        application_approve(actor=fr.manager(), application=app, quotas=_quotas(), split=split)
    assert list(refused.value.message_dict) == [f"split.zellik.{quarter_label(first)}.gpu_hours"]
    assert "Zellik does not have enough capacity left for" in refused.value.messages[0]
    assert not CapacityReservation.objects.exists()
    # Pro rata the same grant fits (the first quarter's share is small): the split is what was refused.
    assert application_approve(actor=fr.manager(), application=app, quotas=_quotas())


def test_a_top_up_takes_a_split_of_what_is_left_from_today():
    caps = _publish()
    app = _app()
    alloc = application_approve(actor=fr.manager(), application=app, quotas=_quotas())
    cr = fr.change_request(alloc, kind=ChangeKind.TOP_UP)
    cr.payload = {"quotas": {str(fr.site().pk): {"gpu_hours": 2_000, "cpu_core_hours": 0}}}
    cr.save(update_fields=["payload"])
    periods = sorted(_shares(app))
    split = {fr.site().pk: {quarter_label(p): {"gpu_hours": 12_000 if p == periods[-1] else 0,
                                               "cpu_core_hours": 500 if p == periods[0] else 0} for p in periods}}
    grant_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True, split=split)
    assert {label: n for label, n in _reserved(alloc).items() if n} == {quarter_label(periods[-1]): 12_000}
    assert sum(SiteCapacity.objects.get(pk=c.pk).committed_gpu_hours for c in caps.values()) == 12_000
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE_REQUEST_DECIDED).get()
    assert event.changes["capacity_split"][str(fr.site().pk)][quarter_label(periods[-1])] == [12_000, 0]


def test_a_split_goes_only_with_an_approved_top_up():
    _publish()
    alloc = application_approve(actor=fr.manager(), application=_app(), quotas=_quotas())
    cr = fr.change_request(alloc, kind=ChangeKind.EXTENSION)
    with pytest.raises(ValidationError, match="only with the approval of a top-up"):
        grant_services.change_request_decide(actor=fr.manager(), change_request=cr, approve=True, split={})


# --- the API ------------------------------------------------------------------------------------------

@pytest.fixture
def manager_api():
    client = APIClient()
    client.credentials(**fr.auth(fr.token(fr.manager())))
    return client


def _api_split(app, split):
    return {"zellik": split[fr.site().pk]}


def test_the_api_approves_with_a_split(manager_api):
    _publish()
    app = _app()
    split = _front_loaded(app)
    response = manager_api.post(f"/api/v1/staff/applications/{app.reference}/approve/", {
        "quotas": [{"site": "zellik", "gpu_hours": GPU, "cpu_core_hours": 500}], "split": _api_split(app, split)},
        format="json")
    assert response.status_code == 201, response.json()
    assert _reserved(Allocation.objects.get()) == {k: v["gpu_hours"] for k, v in split[fr.site().pk].items()}


def test_the_api_names_the_field_of_a_wrong_split_and_writes_nothing(manager_api):
    _publish()
    app = _app()
    split = _api_split(app, _front_loaded(app))
    last = sorted(split["zellik"])[-1]
    split["zellik"][last]["gpu_hours"] += 5
    response = manager_api.post(f"/api/v1/staff/applications/{app.reference}/approve/", {
        "quotas": [{"site": "zellik", "gpu_hours": GPU, "cpu_core_hours": 500}], "split": split}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert f"split.zellik.{last}.gpu_hours" in str(body), body
    assert not Allocation.objects.exists()
    for hostile in ({"nowhere": {}}, {"zellik": {"2027-Q1": {"gpu_hours": -1}}}, {"zellik": "x"}, ["x"]):
        response = manager_api.post(f"/api/v1/staff/applications/{app.reference}/approve/", {
            "quotas": [{"site": "zellik", "gpu_hours": GPU, "cpu_core_hours": 500}], "split": hostile},
            format="json")
        assert response.status_code == 400, (hostile, response.content)
    assert not Allocation.objects.exists() and not CapacityReservation.objects.exists()


# --- the page -------------------------------------------------------------------------------------------

def _post(client, app, **extra):
    data = {"action": "approve", "approve-gpu_zellik": str(GPU), "approve-cpu_zellik": "500",
            "approve-storage_zellik": "0", "approve-reasons": ""}
    site = fr.site()
    data = {k.replace("_zellik", f"_{site.pk}"): v for k, v in data.items()}
    data.update(extra)
    return client.post(reverse("review:application_decision", args=[app.reference]), data)


def test_the_confirmation_page_offers_the_split_prefilled_pro_rata_and_takes_a_new_one(client):
    _publish()
    app = _app()
    boss = fr.manager()
    client.force_login(boss)
    page = _post(client, app).content.decode()
    shares = _shares(app)
    for period, share in shares.items():
        name = f"split-zellik-{quarter_label(period)}-gpu"
        assert re.search(rf'name="{name}" value="{share}"', page), name
    # Confirmed unchanged: pro rata, nothing recorded as set by hand.
    fields = {f"split-zellik-{quarter_label(p)}-gpu": str(n) for p, n in shares.items()}
    cpu = dict(spread_pro_rata(500, START, max(shares) + datetime.timedelta(days=80)))
    split = _front_loaded(app)[fr.site().pk]
    moved = {f"split-zellik-{label}-gpu": str(q["gpu_hours"]) for label, q in split.items()}
    moved |= {f"split-zellik-{label}-cpu": str(q["cpu_core_hours"]) for label, q in split.items()}
    response = _post(client, app, confirm="1", **moved)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _reserved(Allocation.objects.get()) == {label: q["gpu_hours"] for label, q in split.items()}
    assert fields and cpu


def test_the_confirmation_page_shows_a_wrong_total_beside_the_last_quarter(client):
    _publish()
    app = _app()
    client.force_login(fr.manager())
    split = _front_loaded(app)[fr.site().pk]
    fields = {f"split-zellik-{label}-gpu": str(q["gpu_hours"]) for label, q in split.items()}
    fields |= {f"split-zellik-{label}-cpu": str(q["cpu_core_hours"]) for label, q in split.items()}
    last = sorted(split)[-1]
    fields[f"split-zellik-{last}-gpu"] = str(int(fields[f"split-zellik-{last}-gpu"]) + 7)
    response = _post(client, app, confirm="1", **fields)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_split-zellik-{last}-gpu_error"' in page
    assert "The quarters add up to 10,007 GPU-hours; the grant leaves 10,000 to spread." in page
    assert not Allocation.objects.exists()
    # What the manager typed stays in the fields.
    assert f'value="{fields[f"split-zellik-{last}-gpu"]}"' in page


# --- the top-up's page ----------------------------------------------------------------------------------

def _top_up(gpu: int = 2_000):
    _publish()
    app = _app()
    alloc = application_approve(actor=fr.manager(), application=app, quotas=_quotas())
    cr = fr.change_request(alloc, kind=ChangeKind.TOP_UP)
    cr.payload = {"quotas": {str(fr.site().pk): {"gpu_hours": gpu, "cpu_core_hours": 0}}}
    cr.save(update_fields=["payload"])
    return app, alloc, cr


def _decide(client, cr, **extra):
    data = {f"cr{cr.pk}-decision": "approve", f"cr{cr.pk}-reason": "Good progress."}
    data.update(extra)
    return client.post(reverse("grants:change_request_decide", args=[cr.pk]), data)


def test_the_change_request_list_offers_the_split_for_a_top_up_only(client):
    _app, alloc, cr = _top_up()
    other = fr.change_request(alloc, kind=ChangeKind.EXTENSION)
    client.force_login(fr.manager())
    page = client.get(reverse("grants:change_request_list")).content.decode()
    rows = {pk: page[page.index(f'id="cr-{pk}"'):] for pk in (cr.pk, other.pk)}
    rows = {pk: row[:row.index("</tr>")] for pk, row in rows.items()}
    assert 'name="split_step"' in rows[cr.pk]
    assert 'name="split_step"' not in rows[other.pk]


def test_a_top_up_split_is_confirmed_on_a_page_prefilled_with_what_is_left(client):
    app, alloc, cr = _top_up()
    before = _reserved(alloc)
    client.force_login(fr.manager())
    page = _decide(client, cr, split_step="1")
    assert page.status_code == 200
    text = page.content.decode()
    # Prefilled pro rata with the quotas after the top-up, over the quarters the allocation spans (it has not
    # started: nothing is past).
    needs = {n.label: n for n in top_up_split_needs(cr)}
    assert sorted(needs) == sorted(quarter_label(p) for p in _shares(app))
    assert sum(n.gpu_hours for n in needs.values()) == GPU + 2_000
    assert "Zellik: +2,000 GPU-hours, +0 CPU core-hours" in text
    for label, need in needs.items():
        assert f'name="split-zellik-{label}-gpu" value="{need.gpu_hours}"' in text
        # What the allocation holds there is free to it again.
        cap = SiteCapacity.objects.get(site=fr.site(), period_start=need.period_start)
        assert need.free_gpu_hours == cap.remaining_gpu_hours + before.get(label, 0)
        assert f"<td class=\"num\">{need.free_gpu_hours:,}</td>" in text
    # Nothing is recorded before the confirmation.
    cr.refresh_from_db()
    assert cr.status == "submitted" and _reserved(alloc) == before
    assert alloc.quotas.get().gpu_hours == GPU
    # Confirmed with everything in the last quarter.
    last = max(needs)
    fields = {f"split-zellik-{label}-gpu": str(GPU + 2_000 if label == last else 0) for label in needs}
    fields |= {f"split-zellik-{label}-cpu": str(needs[label].cpu_core_hours) for label in needs}
    response = _decide(client, cr, confirm="1", **fields)
    assert response.status_code == 302
    cr.refresh_from_db()
    assert cr.status == "approved"
    assert {label: n for label, n in _reserved(alloc).items() if n} == {last: GPU + 2_000}
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE_REQUEST_DECIDED).get()
    assert event.changes["capacity_split"][str(fr.site().pk)][last][0] == GPU + 2_000


def test_a_wrong_top_up_split_stays_on_its_page_beside_the_field_and_writes_nothing(client):
    _app, alloc, cr = _top_up()
    before = _reserved(alloc)
    needs = {n.label: n for n in top_up_split_needs(cr)}
    last = max(needs)
    fields = {f"split-zellik-{label}-gpu": str(n.gpu_hours + (9 if label == last else 0)) for label, n in needs.items()}
    fields |= {f"split-zellik-{label}-cpu": str(n.cpu_core_hours) for label, n in needs.items()}
    client.force_login(fr.manager())
    response = _decide(client, cr, confirm="1", **fields)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="id_split-zellik-{last}-gpu_error"' in page
    assert "The quarters add up to 12,009 GPU-hours" in page
    assert f'value="{fields[f"split-zellik-{last}-gpu"]}"' in page
    cr.refresh_from_db()
    assert cr.status == "submitted" and _reserved(alloc) == before and alloc.quotas.get().gpu_hours == GPU
    # Hostile values are refused at the field, and write nothing either.
    fields[f"split-zellik-{last}-gpu"] = "-5"
    response = _decide(client, cr, confirm="1", **fields)
    assert response.status_code == 200 and f'id="id_split-zellik-{last}-gpu_error"' in response.content.decode()
    cr.refresh_from_db()
    assert cr.status == "submitted" and _reserved(alloc) == before


def test_the_split_step_with_a_rejection_records_nothing(client):
    _app, alloc, cr = _top_up()
    client.force_login(fr.manager())
    response = _decide(client, cr, split_step="1", **{f"cr{cr.pk}-decision": "reject"})
    assert response.status_code == 302
    cr.refresh_from_db()
    assert cr.status == "submitted"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("only when approving a top-up" in m for m in messages)
