"""The aid ledger through the API: the register (the same lines as the downloads), the approval refused above the
de minimis ceiling with the figures, and a de minimis submission without the self-declaration."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from allocations.aid.models import AidLedgerLine
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]

URL = "/api/v1/staff/aid/register/"


def _today():
    return timezone.localdate()


def test_the_register_reads_back_as_json(as_user):
    f.de_minimis_mode()
    org = f.OrganisationFactory(legal_name="Delta Drones BV")
    f.link(org)
    line = f.ledger_line(org, "4321.09", _today() - datetime.timedelta(days=3))
    f.ledger_line(org, "10.00", _today() - datetime.timedelta(days=400))  # outside the period
    body = as_user(f.OperatorFactory()).get(URL, {"from": (_today() - datetime.timedelta(days=30)).isoformat(),
                                                  "to": _today().isoformat()}).json()
    assert body["currency"] == "EUR" and len(body["lines"]) == 1
    row = body["lines"][0]
    assert (row["beneficiary"], row["vat_number"], row["value"], row["granted_on"], row["granting_site"]) == (
        "Delta Drones BV", org.vat_number, "4321.09", line.granted_on.isoformat(), "Zellik")
    assert row["single_undertaking"] == f"Delta Drones BV ({org.vat_number}); Holding Outside SA (LU12345678)"
    assert row["legal_basis"] == "de_minimis" and row["kind"] == "grant" and row["corrects"] is None


def test_the_register_refuses_a_wrong_period_and_other_roles(as_user, applicant):
    client = as_user(f.manager())
    response = client.get(URL, {"from": "2026-12-31", "to": "2026-01-01"})
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["to"]
    assert client.get(URL, {"from": "yesterday", "to": "2026-01-01"}).status_code == 400
    assert as_user(f.reviewer()).get(URL, {"from": "2026-01-01", "to": "2026-12-31"}).status_code == 403
    assert as_user(applicant).get(URL, {"from": "2026-01-01", "to": "2026-12-31"}).status_code == 403


def test_an_approval_above_the_ceiling_is_a_400_with_the_figures(as_user):
    f.de_minimis_mode()
    f.reference_price("zellik", gpu="2.50", cpu="0.01")
    f.set_capacity(gpu_hours=400_000)
    app = f.awaiting_decision(requests={"zellik": 50_000})
    f.self_declare(app.organisation, ("200000.00", _today() - datetime.timedelta(days=100)))
    client = as_user(f.manager())
    url = f"/api/v1/staff/applications/{app.reference}/approve/"
    body = {"quotas": [{"site": "zellik", "gpu_hours": 40_001, "cpu_core_hours": 0, "storage_tb": "0"}]}
    response = client.post(url, body, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert list(error["fields"]) == ["aid"]
    assert error["aid"]["headroom"] == "100000.00" and error["aid"]["value"] == "100002.50"
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.AWAITING_DECISION
    body["quotas"][0]["gpu_hours"] = 40_000
    assert client.post(url, body, format="json").status_code == 201
    assert AidLedgerLine.objects.get().value == Decimal("100000.00")


def test_a_de_minimis_submission_through_the_api_needs_the_self_declaration(as_user, applicant, capacity):
    f.de_minimis_mode()
    app = f.complete(applicant)
    client = as_user(applicant)
    url = f"/api/v1/applications/{app.reference}/submit/"
    response = client.post(url, {"declaration_version": DECLARATION_VERSION}, format="json")
    assert response.status_code == 400
    problems = response.json()["error"]["problems"]
    assert any(p["field"] == "access_mode" and "de minimis" in p["message"] for p in problems)
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.DRAFT
    f.self_declare(f.org_of(applicant))
    assert client.post(url, {"declaration_version": DECLARATION_VERSION}, format="json").status_code == 200
