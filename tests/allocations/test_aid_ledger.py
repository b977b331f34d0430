"""The value of free compute: recorded at approval and top-up, corrected only by an operator, and held to the
single undertaking's de minimis ceiling over a rolling three years (allocations/aid, docs/aid.md)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from allocations.aid import selectors as aid_selectors
from allocations.aid.choices import CeilingPolicy, LegalBasis
from allocations.aid.models import AidLedgerLine, LedgerKind
from allocations.aid.services import aid_correction_record
from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import SiteCapacity
from allocations.grants.models import Allocation, AllocationQuota, ChangeKind, ChangeStatus
from allocations.grants.services import allocation_revoke, change_request_decide, change_request_submit
from allocations.review import services
from portal.models import AuditEvent
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


def _today() -> datetime.date:
    return timezone.localdate()


def _grant(gpu: int, cpu: int = 0, site_code: str = "zellik") -> dict:
    return {f.site(site_code).pk: {"gpu_hours": gpu, "cpu_core_hours": cpu, "storage_tb": Decimal("0")}}


def _awaiting(organisation=None, gpu: int = 50_000, sites=("zellik",)):
    for code in sites:
        f.set_capacity(site_code=code, gpu_hours=400_000)
    return f.awaiting_decision(organisation=organisation, requests={code: gpu for code in sites})


def _nothing_granted(app, capacity: SiteCapacity) -> None:
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION
    assert not Allocation.objects.filter(application=app).exists()
    assert not AidLedgerLine.objects.filter(allocation__application=app).exists()
    capacity.refresh_from_db()
    assert capacity.committed_gpu_hours == 0


# --------------------------------------------------------------------------------- at approval

def test_approval_records_the_value_per_site_at_the_price_valid_on_the_day():
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.50", cpu="0.02", valid_to=_today() - datetime.timedelta(days=1))
    f.reference_price("zellik", gpu="3.1000", cpu="0.0150", valid_from=_today())
    f.reference_price("charleroi", gpu="1.75", cpu="0.01")
    app = _awaiting(gpu=4000, sites=("zellik", "charleroi"))
    manager = f.manager()

    alloc = services.application_approve(actor=manager, application=app,
                                         quotas={**_grant(1000, 400), **_grant(2000, 0, "charleroi")})

    lines = {line.site.code: line for line in AidLedgerLine.objects.filter(allocation=alloc).select_related("site")}
    assert set(lines) == {"zellik", "charleroi"}
    zellik = lines["zellik"]
    assert zellik.value == Decimal("3106.00")  # 1000 x 3.10 + 400 x 0.015: today's price, not yesterday's
    assert (zellik.gpu_hours, zellik.cpu_core_hours, zellik.gpu_hour_price) == (1000, 400, Decimal("3.1000"))
    assert lines["charleroi"].value == Decimal("3500.00")
    assert zellik.kind == LedgerKind.GRANT and zellik.legal_basis == LegalBasis.DE_MINIMIS
    assert zellik.granted_on == _today() and zellik.currency == "EUR"
    assert (zellik.beneficiary_name, zellik.beneficiary_vat) == (app.organisation.legal_name,
                                                                 app.organisation.vat_number)
    event = AuditEvent.objects.get(action="aid.recorded")
    assert event.changes["value"] == "6606.00" and event.changes["kind"] == "grant"
    assert sorted(event.changes["lines"]) == sorted(line.pk for line in lines.values())


def test_a_mode_without_a_legal_basis_records_nothing():
    app = _awaiting(gpu=1000)
    assert f.mode("fast_lane").aid_legal_basis == LegalBasis.NONE  # the migration's default for existing modes
    alloc = services.application_approve(actor=f.manager(), application=app, quotas=_grant(1000))
    assert not AidLedgerLine.objects.filter(allocation=alloc).exists()
    assert not AuditEvent.objects.filter(action="aid.recorded").exists()


def test_without_a_reference_price_the_decision_is_not_recorded():
    f.de_minimis_mode()
    f.reference_price("zellik", valid_to=_today() - datetime.timedelta(days=1))  # expired yesterday
    app = _awaiting(gpu=1000)
    capacity = SiteCapacity.objects.get(site__code="zellik", period_start__lte=app.start_date,
                                        period_start__gt=app.start_date - datetime.timedelta(days=92))
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=f.manager(), application=app, quotas=_grant(1000))
    assert "No reference price is valid" in str(exc.value.message_dict["aid"])
    assert "Zellik" in str(exc.value.message_dict["aid"])
    _nothing_granted(app, capacity)
    assert not AidLedgerLine.objects.exists()


def test_a_block_exemption_mode_records_its_article_and_no_ceiling_applies():
    mode = f.mode("fast_lane")
    mode.aid_legal_basis = LegalBasis.BLOCK_EXEMPTION
    mode.aid_legal_basis_article = "Regulation (EU) No 651/2014, Article 25"
    mode.save()
    f.reference_price("zellik", gpu="10.00", cpu="0")
    app = _awaiting(gpu=50_000)
    f.ledger_line(app.organisation, "299000.00", _today() - datetime.timedelta(days=30))
    alloc = services.application_approve(actor=f.manager(), application=app, quotas=_grant(50_000))
    line = AidLedgerLine.objects.get(allocation=alloc)
    assert line.value == Decimal("500000.00")
    assert line.legal_basis_article == "Regulation (EU) No 651/2014, Article 25"


# --------------------------------------------------------------------------------- the ceiling

@pytest.fixture
def group():
    """Organisation A (applying) controls B (in the portal); B received EUR 100,000 from the portal 2 years
    ago; A self-declared EUR 75,000 received elsewhere 1 year ago. Headroom: EUR 125,000."""
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.50", cpu="0.01")
    a, b = f.OrganisationFactory(legal_name="Alpha Vision BV"), f.OrganisationFactory(legal_name="Beta Labs BV")
    f.link(a, b, relation="subsidiary")
    f.ledger_line(b, "100000.00", _today() - datetime.timedelta(days=730))
    f.self_declare(a, ("75000.00", _today() - datetime.timedelta(days=365)))
    return a, b


def test_the_single_undertaking_counts_linked_organisations_and_declared_aid(group):
    a, b = group
    app = _awaiting(organisation=a)
    preview = aid_selectors.decision_preview(app, {f.site().pk: {"gpu_hours": 1, "cpu_core_hours": 0}})
    assert preview.undertaking.organisation_ids == {a.pk, b.pk}
    assert (preview.received.ledger, preview.received.declared) == (Decimal("100000.00"), Decimal("75000.00"))
    assert preview.headroom == Decimal("125000.00")
    # Seen from B, the undertaking is the same (the link counts in both directions).
    assert aid_selectors.undertaking_of(b).organisation_ids == {a.pk, b.pk}


@pytest.mark.parametrize("gpu, cpu, value", [
    (49_999, 0, "124997.50"),  # just under the ceiling
    (50_000, 0, "125000.00"),  # exactly at it: allowed
])
def test_up_to_the_ceiling_the_grant_is_recorded(group, gpu, cpu, value):
    a, _b = group
    app = _awaiting(organisation=a)
    alloc = services.application_approve(actor=f.manager(), application=app, quotas=_grant(gpu, cpu))
    line = AidLedgerLine.objects.get(allocation=alloc)
    assert line.value == Decimal(value) and not line.over_ceiling
    assert [link["name"] for link in line.undertaking] == ["Beta Labs BV"]


def test_one_cent_above_the_ceiling_is_refused_with_the_figures(group):
    a, _b = group
    app = _awaiting(organisation=a)
    capacity = SiteCapacity.objects.get(site__code="zellik", committed_gpu_hours=0,
                                        period_start__lte=app.start_date,
                                        period_start__gt=app.start_date - datetime.timedelta(days=92))
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=f.manager(), application=app, quotas=_grant(50_000, 1))
    message = exc.value.message_dict["aid"][0]
    for figure in ("EUR 125,000.01", "EUR 175,000.00", "EUR 300,000.00", "EUR 125,000.00"):
        assert figure in message
    assert exc.value.api_extra["aid"]["headroom"] == "125000.00"
    _nothing_granted(app, capacity)
    assert AidLedgerLine.objects.count() == 1  # B's earlier grant only


def test_a_partial_grant_up_to_the_headroom_goes_through(group):
    a, _b = group
    app = _awaiting(organisation=a, gpu=50_000)
    preview = aid_selectors.decision_preview(app)  # what was asked: 50,000 GPU-hours and 500 core-hours
    assert preview.exceeds and preview.value == Decimal("125005.00")
    assert preview.sites[0].gpu_hours_for(preview.headroom) == 50_000
    alloc = services.application_approve(actor=f.manager(), application=app, quotas=_grant(50_000, 0))
    assert AllocationQuota.objects.get(allocation=alloc).gpu_hours == 50_000
    assert aid_selectors.decision_preview(_awaiting(organisation=a, gpu=1)).headroom == Decimal("0.00")


def test_when_the_mode_warns_the_manager_confirms_and_the_line_is_marked(group):
    a, _b = group
    f.de_minimis_mode(policy=CeilingPolicy.WARN)
    app = _awaiting(organisation=a)
    with pytest.raises(ValidationError) as exc:
        services.application_approve(actor=f.manager(), application=app, quotas=_grant(50_000, 500))
    assert "confirm" in exc.value.message_dict["aid_confirmed"][0]
    assert not Allocation.objects.filter(application=app).exists()
    alloc = services.application_approve(actor=f.manager(), application=app, quotas=_grant(50_000, 500),
                                         aid_confirmed=True)
    line = AidLedgerLine.objects.get(allocation=alloc)
    assert line.over_ceiling and line.value == Decimal("125005.00")
    assert AuditEvent.objects.get(action="aid.recorded").changes["over_ceiling"] is True


def test_the_rolling_window_at_its_edges(group):
    """Aid granted on D counts for a grant on G when G - 3 years < D <= G."""
    a, b = group
    today = _today()
    three_years = aid_selectors.years_before(today)
    f.ledger_line(b, "1000.00", three_years - datetime.timedelta(days=1))  # G is 3 years and one day after: out
    f.ledger_line(b, "2000.00", three_years)  # exactly three years before: out (the period ends at G)
    f.ledger_line(b, "4000.00", three_years + datetime.timedelta(days=1))  # in
    f.ledger_line(b, "8000.00", today + datetime.timedelta(days=1))  # after G: not yet granted on G
    received = aid_selectors.de_minimis_received(aid_selectors.undertaking_of(a), today)
    assert received.ledger == Decimal("104000.00")


def test_a_grant_three_years_and_a_day_after_another_does_not_count_it():
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.50", cpu="0.01")
    org = f.OrganisationFactory()
    f.self_declare(org)
    f.ledger_line(org, "300000.00", aid_selectors.years_before(_today()) - datetime.timedelta(days=1))
    app = _awaiting(organisation=org)
    alloc = services.application_approve(actor=f.manager(), application=app, quotas=_grant(50_000))
    assert AidLedgerLine.objects.get(allocation=alloc).value == Decimal("125000.00")


def test_the_same_aid_declared_by_two_linked_organisations_counts_once(group):
    a, b = group
    f.self_declare(b, ("75000.00", _today() - datetime.timedelta(days=365)))
    received = aid_selectors.de_minimis_received(aid_selectors.undertaking_of(a), _today())
    assert received.declared == Decimal("75000.00")


def test_aid_on_another_basis_does_not_count_towards_the_de_minimis_ceiling(group):
    a, _b = group
    f.ledger_line(a, "250000.00", _today() - datetime.timedelta(days=10), basis=LegalBasis.BLOCK_EXEMPTION)
    received = aid_selectors.de_minimis_received(aid_selectors.undertaking_of(a), _today())
    assert received.total == Decimal("175000.00")


def test_a_link_through_a_third_organisation_is_part_of_the_undertaking():
    a, b, c = f.OrganisationFactory(), f.OrganisationFactory(), f.OrganisationFactory()
    f.link(b, a, relation="owner")  # A owns B
    f.link(b, c, relation="subsidiary")  # B owns C
    f.link(c)  # C's outside parent
    undertaking = aid_selectors.undertaking_of(a)
    assert undertaking.organisation_ids == {a.pk, b.pk, c.pk}
    assert sorted(m["name"] for m in undertaking.members) == sorted(
        [b.legal_name, c.legal_name, "Holding Outside SA"])


# --------------------------------------------------------------------------------- top-ups and corrections

def _approved(gpu: int = 10_000):
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.00", cpu="0.01")
    app = _awaiting(gpu=gpu)
    f.self_declare(app.organisation)
    manager = f.manager()
    alloc = services.application_approve(actor=manager, application=app, quotas=_grant(gpu, 500))
    owner = app.organisation.memberships.first().user
    return alloc, manager, owner


def test_an_approved_top_up_adds_a_line_and_an_extension_adds_none():
    alloc, manager, owner = _approved()
    zellik = f.site().pk
    top_up = change_request_submit(actor=owner, allocation=alloc, kind=ChangeKind.TOP_UP,
                                   payload={"quotas": {str(zellik): {"gpu_hours": 5000, "cpu_core_hours": 100}}},
                                   justification="The model needs more epochs.")
    change_request_decide(actor=manager, change_request=top_up, approve=True)
    line = AidLedgerLine.objects.get(kind=LedgerKind.TOP_UP)
    assert (line.allocation_id, line.change_request_id, line.value) == (alloc.pk, top_up.pk, Decimal("10001.00"))
    later = (alloc.end_date + datetime.timedelta(days=60)).isoformat()
    extension = change_request_submit(actor=owner, allocation=alloc, kind=ChangeKind.EXTENSION,
                                      payload={"end_date": later}, justification="Delayed data.")
    change_request_decide(actor=manager, change_request=extension, approve=True)
    assert AidLedgerLine.objects.filter(allocation=alloc).count() == 2


def test_a_top_up_above_the_ceiling_is_refused_and_nothing_changes():
    alloc, manager, owner = _approved()
    f.ledger_line(alloc.organisation, "275000.00", _today() - datetime.timedelta(days=5))  # 20,005 + 275,000
    zellik = f.site().pk
    top_up = change_request_submit(actor=owner, allocation=alloc, kind=ChangeKind.TOP_UP,
                                   payload={"quotas": {str(zellik): {"gpu_hours": 2500, "cpu_core_hours": 0}}},
                                   justification="More.")
    with pytest.raises(ValidationError) as exc:
        change_request_decide(actor=manager, change_request=top_up, approve=True)
    assert "EUR 4,995.00" in exc.value.message_dict["aid"][0]  # the headroom left
    top_up.refresh_from_db()
    assert top_up.status == ChangeStatus.SUBMITTED
    assert AllocationQuota.objects.get(allocation=alloc).gpu_hours == 10_000
    assert not AidLedgerLine.objects.filter(kind=LedgerKind.TOP_UP).exists()


def test_revocation_leaves_the_aid_and_an_operator_corrects_it_with_an_audit_event():
    alloc, manager, _owner = _approved()
    services_line = AidLedgerLine.objects.get(allocation=alloc)
    allocation_revoke(actor=manager, allocation=alloc, reason="Project stopped.")
    assert aid_selectors.net_value(services_line) == Decimal("20005.00")  # revocation reduces nothing

    with pytest.raises(PermissionDenied):
        aid_correction_record(actor=manager, line=services_line, amount="-5000", reason="Wrong price.")
    operator = f.OperatorFactory()
    with pytest.raises(ValidationError) as exc:
        aid_correction_record(actor=operator, line=services_line, amount="-20005.01", reason="Too much.")
    assert "amount" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        aid_correction_record(actor=operator, line=services_line, amount="-5000", reason=" ")
    assert "reason" in exc.value.message_dict
    assert AidLedgerLine.objects.filter(kind=LedgerKind.CORRECTION).count() == 0

    correction = aid_correction_record(actor=operator, line=services_line, amount="-5000.00",
                                       reason="Hours granted by mistake on the test partition.")
    assert (correction.corrects_id, correction.value, correction.granted_on) == (
        services_line.pk, Decimal("-5000.00"), services_line.granted_on)
    assert aid_selectors.net_value(services_line) == Decimal("15005.00")
    event = AuditEvent.objects.get(action="aid.corrected")
    assert event.changes["amount"] == "-5000.00" and event.changes["value_after"] == "15005.00"
    received = aid_selectors.de_minimis_received(aid_selectors.undertaking_of(alloc.organisation), _today())
    assert received.ledger == Decimal("15005.00")
