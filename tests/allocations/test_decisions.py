"""The committee's decision: quotas may be lowered, never raised; ethics and capacity block approval
with nothing written; rejection and revision need reasons."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import formats

from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import SiteCapacity
from allocations.grants.models import Allocation, SyncState
from allocations.review import services
from allocations.review.models import Decision, DecisionOutcome
from compliance.models import EthicsStatus
from portal.models import AuditEvent
from tests import factories as fr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


def _quota(app, gpu, site_code="zellik", cpu=500, storage="2"):
    return {fr.site(site_code).pk: {"gpu_hours": gpu, "cpu_core_hours": cpu, "storage_tb": storage}}


def _nothing_written(app, cap_before: SiteCapacity):
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION
    assert not Allocation.objects.filter(application=app).exists()
    assert not Decision.objects.filter(application=app).exists()
    cap = SiteCapacity.objects.get(pk=cap_before.pk)
    assert (cap.committed_gpu_hours, cap.committed_cpu_core_hours) == (cap_before.committed_gpu_hours,
                                                                       cap_before.committed_cpu_core_hours)


def test_approve_with_lower_quotas():
    cap = fr.set_capacity(gpu_hours=10_000)
    app = fr.awaiting_decision(requests={"zellik": 4000, "charleroi": 1000})
    fr.set_capacity(site_code="charleroi", gpu_hours=10_000)
    alloc = services.application_approve(actor=fr.manager(), application=app,
                                          quotas={**_quota(app, 2500), **_quota(app, 0, "charleroi", 0, "0")},
                                          reasons="Half is enough for the first phase.")
    quotas = {q.site.code: q.gpu_hours for q in alloc.quotas.select_related("site")}
    assert quotas == {"zellik": 2500}  # nothing granted on Charleroi: no quota row there
    assert fr.committed() == (2500, 500)  # across the quarters the allocation spans
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED
    assert alloc.slurm_account == app.reference.lower().replace("-", "_")
    assert alloc.sync_state == SyncState.NEEDS_SYNC
    assert Decision.objects.get(application=app).outcome == DecisionOutcome.APPROVED
    # Idempotent: approving again returns the same allocation and commits nothing more.
    again = services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 2500))
    assert again.pk == alloc.pk
    assert fr.committed() == (2500, 500)
    assert cap


def test_higher_quota_refused():
    cap = fr.set_capacity()
    app = fr.awaiting_decision(requests={"zellik": 1000})
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 1001))
    assert "never higher" in str(exc.value)
    _nothing_written(app, cap)


def test_quota_on_a_site_not_requested_refused():
    cap = fr.set_capacity()
    fr.set_capacity(site_code="charleroi")
    app = fr.awaiting_decision(requests={"zellik": 1000})
    with pytest.raises(ValidationError):
        services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 10, "charleroi"))
    _nothing_written(app, cap)


def test_prohibited_practice_refused():
    cap = fr.set_capacity()
    app = fr.awaiting_decision(prohibited=True, classification="prohibited")
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 1000))
    assert "prohibited practice" in str(exc.value)
    _nothing_written(app, cap)


@pytest.mark.parametrize(("status", "text"), [(EthicsStatus.PENDING, "has not cleared"),
                                              (EthicsStatus.REFUSED, "refused this application")])
def test_ethics_not_cleared_refused(status, text):
    cap = fr.set_capacity()
    app = fr.awaiting_decision(ethics=status)
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 1000))
    assert text in str(exc.value)
    _nothing_written(app, cap)


def test_capacity_exceeded_refused_and_nothing_written():
    cap = fr.set_capacity(gpu_hours=5000)
    # 400 GPU-hours left in every quarter: 1,000 spread over the span puts at least 500 in one of them.
    SiteCapacity.objects.filter(site=cap.site).update(gpu_hours=5000, committed_gpu_hours=4600)
    cap.refresh_from_db()
    app = fr.awaiting_decision(requests={"zellik": 1000})
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 1000))
    assert "400 GPU-hours" in str(exc.value) and "Zellik" in str(exc.value)
    _nothing_written(app, cap)
    before = fr.committed()[0]
    # What fits is granted.
    services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 400))
    assert fr.committed()[0] == before + 400
    assert all(c.committed_gpu_hours <= c.gpu_hours for c in SiteCapacity.objects.filter(site=cap.site))


def test_no_capacity_published_refused():
    app = fr.awaiting_decision(requests={"zellik": 1000})
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=fr.manager(), application=app, quotas=_quota(app, 1000))
    assert "No capacity is published" in str(exc.value)
    assert not Allocation.objects.filter(application=app).exists()


def test_only_managers_decide():
    fr.set_capacity()
    app = fr.awaiting_decision()
    for actor in (fr.reviewer(), app.created_by):
        with pytest.raises(PermissionDenied):
            services.application_approve(actor=actor, application=app, quotas=_quota(app, 1000))
        with pytest.raises(PermissionDenied):
            services.application_reject(actor=actor, application=app, reasons="No")


def test_reject_needs_reasons():
    app = fr.awaiting_decision()
    with pytest.raises(ValidationError):
        services.application_reject(actor=fr.manager(), application=app, reasons="  ")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION
    services.application_reject(actor=fr.manager(), application=app, reasons="Out of scope for the call.")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REJECTED
    assert Decision.objects.get(application=app).reasons == "Out of scope for the call."


def test_revision_needs_comments():
    app = fr.awaiting_decision()
    with pytest.raises(ValidationError):
        services.application_request_revision(actor=fr.manager(), application=app, comments="")
    services.application_request_revision(actor=fr.manager(), application=app, comments="Split the request.")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.REVISION_REQUESTED
    assert Decision.objects.get(application=app).comments_for_applicant == "Split the request."


@pytest.mark.parametrize("decide", [
    lambda actor, app: services.application_reject(actor=actor, application=app, reasons="Out of scope."),
    lambda actor, app: services.application_request_revision(actor=actor, application=app, comments="Split it."),
], ids=["reject", "request-revision"])
def test_a_second_reject_or_revision_request_is_a_no_op(decide, run_on_commit):
    """Like approve: the same decision twice writes one Decision, one audit event and one e-mail."""
    app = fr.awaiting_decision()
    boss = fr.manager()
    events = AuditEvent.objects.filter(action="application.status_changed", object_id=str(app.pk))
    before = events.count()
    with run_on_commit():
        first = decide(boss, app)
    mails = len(mail.outbox)
    with run_on_commit():
        second = decide(boss, app)
    assert second.status == first.status
    assert Decision.objects.filter(application=app).count() == 1
    assert events.count() == before + 1
    assert len(mail.outbox) == mails


# --- the decision page ----------------------------------------------------------------------------

def test_decision_page_shows_reviews_blockers_and_prefilled_quotas(client):
    fr.set_capacity()
    app = fr.awaiting_decision(ethics=EthicsStatus.PENDING, requests={"zellik": 1234})
    client.force_login(fr.manager())
    page = client.get(reverse("review:application_decision", args=[app.reference])).content.decode()
    assert "Solid team." in page and "Clear plan; justify the storage." in page
    assert "Approval is blocked" in page and "has not cleared" in page
    site_id = fr.site("zellik").pk
    assert f'name="approve-gpu_{site_id}"' in page and 'value="1234"' in page
    assert "Awaiting ethics review" in page and "Minimal risk" in page


def test_approve_reject_and_revise_through_the_page(client, run_on_commit):
    fr.set_capacity()
    app = fr.awaiting_decision(requests={"zellik": 1000})
    client.force_login(fr.manager())
    url = reverse("review:application_decision", args=[app.reference])
    site_id = fr.site("zellik").pk
    too_much = {"action": "approve", f"approve-gpu_{site_id}": 2000, f"approve-cpu_{site_id}": 500,
                f"approve-storage_{site_id}": "2"}
    response = client.post(url, too_much)
    # The error sits next to the field it concerns, and nothing is written.
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'id="id_approve-gpu_{site_id}_error"[^>]*>\s*<li>More than requested: a quota may be '
                     r"lowered, never raised\.</li>", page)
    assert client.post(url, {"action": "reject", "reject-reasons": ""}).status_code == 200
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION
    # A valid approval first shows what it grants; nothing is recorded before the confirmation.
    lowered = {**too_much, f"approve-gpu_{site_id}": 800, f"approve-cpu_{site_id}": 400,
               "approve-reasons": "Sound plan."}
    response = client.post(url, lowered)
    page = response.content.decode()
    assert response.status_code == 200 and "Confirm the approval of" in page
    assert "<td>Zellik</td><td class=\"num\">800</td><td class=\"num\">400</td><td class=\"num\">2</td>" in page
    assert formats.date_format(app.start_date, "DATE_FORMAT") in page and "Sound plan." in page
    assert f'<input type="hidden" name="approve-cpu_{site_id}" value="400"' in page
    assert not Allocation.objects.filter(application=app).exists()
    with run_on_commit():
        response = client.post(url, {**lowered, "confirm": "1"})
    assert response.status_code == 302
    assert Allocation.objects.get(application=app).quotas.get().gpu_hours == 800
