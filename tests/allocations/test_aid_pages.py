"""The aid ledger as people use it: the organisation declares its links and the aid it received before submitting
under a de minimis mode; the decision page shows the value and the headroom; the staff ledger, its corrections
and the register download; the export command, read back."""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.aid.choices import CeilingPolicy
from allocations.aid.models import AidLedgerLine, AidSelfDeclaration, LedgerKind, LinkedEnterprise
from allocations.aid.services import aid_correction_record
from allocations.applications import services as application_services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import ApplicationStatus
from allocations.review import services as review_services
from portal.models import AuditEvent
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


def _today():
    return timezone.localdate()


# --------------------------------------------------------------------------------- before submission

def test_a_de_minimis_application_needs_a_current_self_declaration(owner, organisation, capacity):
    f.de_minimis_mode()
    app = f.complete(owner, organisation)
    with pytest.raises(ValidationError) as exc:
        application_services.application_submit(actor=owner, application=app, declaration_version=DECLARATION_VERSION)
    assert any("de minimis aid" in message for message in exc.value.messages)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT

    f.self_declare(organisation)
    # A link added after the declaration asks for a new one: it covers the whole single undertaking.
    f.link(organisation)
    assert any(p.field == "access_mode" for p in application_services.validate_for_submission(app))
    f.self_declare(organisation)
    app = application_services.application_submit(actor=owner, application=app,
                                                  declaration_version=DECLARATION_VERSION)
    assert app.status == ApplicationStatus.SUBMITTED


def test_an_old_self_declaration_is_not_enough(owner, organisation, capacity, settings):
    f.de_minimis_mode()
    settings.AIF_AID_DECLARATION_MAX_AGE_DAYS = 30
    declaration = f.self_declare(organisation)
    AidSelfDeclaration.objects.filter(pk=declaration.pk).update(
        declared_at=timezone.now() - datetime.timedelta(days=31))
    app = f.complete(owner, organisation)
    assert any(p.field == "access_mode" for p in application_services.validate_for_submission(app))


def test_a_mode_that_is_not_de_minimis_needs_no_declaration(owner, organisation, capacity):
    app = f.complete(owner, organisation)
    assert application_services.application_submit(
        actor=owner, application=app, declaration_version=DECLARATION_VERSION).status == ApplicationStatus.SUBMITTED


# --------------------------------------------------------------------------------- the organisation's page

def _aid_url(organisation):
    return reverse("aid:organisation_aid", args=[organisation.pk])


def test_the_owner_declares_links_and_aid_on_the_page(owner_client, owner, organisation):
    sister = f.OrganisationFactory(legal_name="Sister Robotics NV")
    url = _aid_url(organisation)
    response = owner_client.post(url, {"action": "link", "link-relation": "owner",
                                       "link-vat_number": sister.vat_number})
    assert response.status_code == 302
    link = LinkedEnterprise.objects.get(organisation=organisation)
    assert (link.linked_organisation, link.name, link.relation) == (sister, "Sister Robotics NV", "owner")
    response = owner_client.post(url, {"action": "link", "link-relation": "contract", "link-name": "Outside GmbH",
                                       "link-country": "de"})
    assert response.status_code == 302
    assert LinkedEnterprise.objects.get(name="Outside GmbH").country == "DE"

    response = owner_client.post(url, {"action": "declare", "declare-confirm": "on", "declare-amount_0": "12000.50",
                                       "declare-granted_on_0": (_today() - datetime.timedelta(days=200)).isoformat(),
                                       "declare-authority_0": "Wallonia (SPW)"})
    assert response.status_code == 302
    declaration = AidSelfDeclaration.objects.get(organisation=organisation)
    assert [a.amount for a in declaration.aids.all()] == [Decimal("12000.50")]
    assert [link["name"] for link in declaration.links] == ["Sister Robotics NV", "Outside GmbH"]
    page = owner_client.get(url).content.decode()
    assert "Sister Robotics NV" in page and "Wallonia (SPW)" in page
    assert AuditEvent.objects.filter(action="aid.self_declared").count() == 1
    assert AuditEvent.objects.filter(action="aid.link_added").count() == 2


def test_bad_input_on_the_page_is_shown_next_to_its_field_and_changes_nothing(owner_client, organisation):
    url = _aid_url(organisation)
    before = AuditEvent.objects.count()
    response = owner_client.post(url, {"action": "link", "link-relation": "owner", "link-name": "No Country Ltd"})
    assert response.status_code == 400
    assert 'id="id_link-country_error"' in response.content.decode()
    response = owner_client.post(url, {"action": "declare", "declare-confirm": "on", "declare-amount_0": "500",
                                       "declare-granted_on_0": (_today() + datetime.timedelta(days=3)).isoformat(),
                                       "declare-authority_0": "Somewhere"})
    assert response.status_code == 400
    assert 'id="id_declare-granted_on_0_error"' in response.content.decode()
    response = owner_client.post(url, {"action": "declare", "declare-amount_0": "500"})  # not confirmed
    assert response.status_code == 400 and 'id="id_declare-confirm_error"' in response.content.decode()
    assert not LinkedEnterprise.objects.exists() and not AidSelfDeclaration.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_member_reads_the_page_but_only_owners_declare(member_client, organisation, other_org_user, client):
    assert member_client.get(_aid_url(organisation)).status_code == 200
    response = member_client.post(_aid_url(organisation), {"action": "link", "link-relation": "owner",
                                                           "link-name": "X", "link-country": "BE"})
    assert response.status_code == 403
    client.force_login(other_org_user)
    assert client.get(_aid_url(organisation)).status_code == 404


# --------------------------------------------------------------------------------- the decision page

def _decision_setup(policy=CeilingPolicy.REFUSE):
    f.de_minimis_mode(policy=policy)
    f.reference_price("zellik", gpu="2.50", cpu="0.01")
    f.set_capacity(gpu_hours=400_000)
    app = f.awaiting_decision(requests={"zellik": 50_000})
    f.self_declare(app.organisation, ("200000.00", _today() - datetime.timedelta(days=100)))
    return app


def test_the_decision_page_shows_the_value_and_the_headroom_and_previews_typed_quotas(client):
    app = _decision_setup()
    client.force_login(f.manager())
    url = reverse("review:application_decision", args=[app.reference])
    page = client.get(url).content.decode()
    assert "Value of the grant (State aid)" in page
    assert "EUR 125,005.00" in page  # what was asked: 50,000 GPU-hours and 500 core-hours
    assert "EUR 100,000.00" in page  # the headroom
    assert "40,000 GPU-hours on Zellik" in page
    assert "above the ceiling" in page
    site = f.site().pk
    data = {"action": "preview", f"approve-gpu_{site}": "40000", f"approve-cpu_{site}": "0",
            f"approve-storage_{site}": "0"}
    page = client.post(url, data).content.decode()
    assert "EUR 100,000.00</strong></td>" in page and "above the ceiling of" not in page
    assert not AidLedgerLine.objects.exists()
    response = client.post(url, {**data, "action": "approve", "confirm": "1"})
    assert response.status_code == 302
    assert AidLedgerLine.objects.get().value == Decimal("100000.00")


def test_the_decision_page_refuses_above_the_ceiling_with_the_figures(client):
    app = _decision_setup()
    client.force_login(f.manager())
    url = reverse("review:application_decision", args=[app.reference])
    site = f.site().pk
    response = client.post(url, {"action": "approve", "confirm": "1", f"approve-gpu_{site}": "40001",
                                 f"approve-cpu_{site}": "0", f"approve-storage_{site}": "0"})
    assert response.status_code == 200
    assert "At most EUR 100,000.00 can be granted" in response.content.decode()
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION


def test_where_the_mode_warns_the_page_asks_for_the_confirmation(client):
    app = _decision_setup(policy=CeilingPolicy.WARN)
    client.force_login(f.manager())
    url = reverse("review:application_decision", args=[app.reference])
    site = f.site().pk
    data = {"action": "approve", "confirm": "1", f"approve-gpu_{site}": "50000", f"approve-cpu_{site}": "0",
            f"approve-storage_{site}": "0"}
    page = client.post(url, data).content.decode()
    assert 'id="id_approve-aid_confirmed_error"' in page
    assert client.post(url, {**data, "approve-aid_confirmed": "on"}).status_code == 302
    assert AidLedgerLine.objects.get().over_ceiling


# --------------------------------------------------------------------------------- the staff ledger and the register

def _lines(count: int):
    """`count` more ledger lines, of as many organisations (each with an outside parent)."""
    lines = []
    for i in range(count):
        org = f.OrganisationFactory(legal_name=f"=Formula {i} BV" if i == 0 else f"Gamma {i} BV {count}")
        f.link(org)
        lines.append(f.ledger_line(org, f"{1000 + i}.00", _today() - datetime.timedelta(days=i)))
    return lines


def test_the_ledger_page_costs_the_same_queries_for_more_lines(client, django_assert_max_num_queries):
    manager = f.manager()
    client.force_login(manager)
    _lines(2)
    url = reverse("aid:ledger")
    client.get(url)  # the session and the second factor are read once per sign-in
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _lines(12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert "Gamma 11 BV 12" in page


def test_reviewers_and_applicants_do_not_read_the_ledger(client, applicant):
    client.force_login(f.reviewer())
    assert client.get(reverse("aid:ledger")).status_code == 403
    client.force_login(applicant)
    assert client.get(reverse("aid:register_download"), {"start": "2026-01-01", "end": "2026-12-31"}
                      ).status_code in (302, 403)


def test_the_register_download_reads_back_as_csv_with_formulas_neutralised(client):
    lines = _lines(2)
    client.force_login(f.EthicsOfficerFactory())
    start, end = (_today() - datetime.timedelta(days=5)).isoformat(), _today().isoformat()
    response = client.get(reverse("aid:register_download"), {"start": start, "end": end, "fmt": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["Beneficiary"] for r in rows] == ["Gamma 1 BV 2", "'=Formula 0 BV"]
    first = rows[0]
    assert first["Value"] == "1001.00" and first["Currency"] == "EUR" and first["Granting site"] == "Zellik"
    assert first["Legal basis"] == "De minimis aid (Regulation (EU) 2023/2831)"
    assert first["Date of grant"] == lines[1].granted_on.isoformat()
    assert first["Single undertaking"] == f"Gamma 1 BV 2 ({lines[1].beneficiary_vat}); Holding Outside SA (LU12345678)"
    bad = client.get(reverse("aid:register_download"), {"start": end, "end": start, "fmt": "csv"})
    assert bad.status_code == 400


def test_the_reports_page_offers_the_register_to_an_ethics_officer(client):
    client.force_login(f.EthicsOfficerFactory())
    page = client.get(reverse("compliance:report_list")).content.decode()
    assert "Aid register" in page and reverse("aid:register_download") in page


def test_an_operator_records_a_correction_on_the_page(client):
    line = _lines(1)[0]
    client.force_login(f.OperatorFactory())
    url = reverse("aid:line_correct", args=[line.pk])
    response = client.post(url, {"amount": "-2000", "reason": "Wrong price"})
    assert response.status_code == 400 and 'id="id_amount_error"' in response.content.decode()
    response = client.post(url, {"amount": "-250.00", "reason": "Hours recorded twice on the partition."})
    assert response.status_code == 302
    correction = AidLedgerLine.objects.get(kind=LedgerKind.CORRECTION)
    assert correction.value == Decimal("-250.00") and correction.corrects == line
    client.force_login(f.manager())
    assert client.get(url).status_code == 403


# --------------------------------------------------------------------------------- the command

def _call(*args) -> str:
    out = io.StringIO()
    call_command("export_aid_register", *args, stdout=out)
    return out.getvalue()


def test_the_command_writes_the_register_read_back_as_csv_and_json(tmp_path):
    lines = _lines(3)
    start = (_today() - datetime.timedelta(days=1)).isoformat()
    text = _call("--from", start, "--to", _today().isoformat())
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["Value"] for r in rows] == ["1001.00", "1000.00"]  # oldest first; the third is out of the period
    document = json.loads(_call("--from", start, "--to", _today().isoformat(), "--format", "json"))
    assert document["from"] == start and document["currency"] == "EUR"
    first = document["lines"][0]
    assert {k: first[k] for k in ("beneficiary", "vat_number", "legal_basis", "granted_on", "value", "currency",
                                  "granting_site")} == {
        "beneficiary": "Gamma 1 BV 3", "vat_number": lines[1].beneficiary_vat, "legal_basis": "de_minimis",
        "granted_on": lines[1].granted_on.isoformat(), "value": "1001.00", "currency": "EUR",
        "granting_site": "Zellik"}
    target = tmp_path / "register.json"
    _call("--from", start, "--to", _today().isoformat(), "--format", "json", "--output", str(target))
    assert json.loads(target.read_text())["lines"] == document["lines"]
    assert json.loads(_call("--from", start, "--to", _today().isoformat(), "--format", "json",
                            "--basis", "block_exemption"))["lines"] == []


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-13-01", "--to", "2026-12-31"], "--from: Give a date as YYYY-MM-DD."),
    (["--from", "2026-12-31", "--to", "2026-01-01"], "--to: The end of the period comes before its start."),
])
def test_the_command_refuses_a_wrong_period(args, message):
    with pytest.raises(CommandError, match=message):
        _call(*args)


def test_a_manager_approval_then_a_correction_appear_in_the_register():
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.00", cpu="0")
    f.set_capacity(gpu_hours=400_000)
    app = f.awaiting_decision(requests={"zellik": 1000})
    f.self_declare(app.organisation)
    alloc = review_services.application_approve(
        actor=f.manager(), application=app,
        quotas={f.site().pk: {"gpu_hours": 1000, "cpu_core_hours": 0, "storage_tb": 0}})
    line = AidLedgerLine.objects.get(allocation=alloc)
    aid_correction_record(actor=f.OperatorFactory(), line=line, amount="-500", reason="Price list error.")
    document = json.loads(_call("--from", _today().isoformat(), "--to", _today().isoformat(), "--format", "json"))
    assert [(r["kind"], r["value"], r["corrects"]) for r in document["lines"]] == [
        ("grant", "2000.00", None), ("correction", "-500.00", line.pk)]
    assert sum(Decimal(r["value"]) for r in document["lines"]) == Decimal("1500.00")
