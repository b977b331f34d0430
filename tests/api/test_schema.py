"""The OpenAPI schema: valid, served with its docs (no CDN), and fuzzed in-process with schemathesis.

The fuzz run authenticates with a token of an administrator who has an authenticator (so every staff
endpoint answers), generates requests from the schema for every operation, and checks that none is a
server error and that every response (status code, content type, body) is the one the schema declares."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from accounts.services import invitation_create
from portal.wsgi import application
from tests import factories as f

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 12
FAILURE_CHARS = int(os.environ.get("AIF_SCHEMATHESIS_FAILURE_CHARS", "2000"))


def generated_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi_and_declares_the_error_shape():
    schema = generated_schema()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    for path, item in schema["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            for code in codes - {"200", "201", "202", "204"}:
                ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error"), (method, path, code)
            if "{" in path:
                assert "404" in codes, (method, path)


def test_schema_and_docs_are_served_without_a_cdn(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200 and "/api/v1/applications/" in response.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "drf_spectacular_sidecar" in html and "cdn.jsdelivr" not in html and "unpkg" not in html
    # No inline script: Swagger UI's start-up script is a second request to the same view.
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts), scripts
    start = client.get("/api/docs/?script=")
    assert start.status_code == 200 and start["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in start.content.decode()
    # Redoc (inline styles, a blob: worker, a logo from a CDN) gave way to Swagger UI.
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 301 and redoc["Location"] == "/api/docs/"


BODY_TARGETS = {"organisation"}


def real_objects(admin) -> dict[str, list]:
    """Objects the fuzzer may aim at (half of its path parameters), so that writes reach the services."""
    from allocations.grants.models import ChangeRequest
    from allocations.review.models import AssignmentStatus, ReviewAssignment
    from compliance.models import EthicsCondition, EthicsReview, Report, ReportStatus
    from compliance.reports.services import report_dir

    f.publish_capacity()
    owner = f.OwnerMembershipFactory(user=admin)
    organisation = owner.organisation
    member = f.MembershipFactory(organisation=organisation)
    invitation, _token = invitation_create(actor=admin, organisation=organisation, email="fuzz@example.eu")
    draft = f.complete(admin, organisation)
    submitted = f.submitted(admin, organisation)
    alloc = f.bare_allocation(organisation, admin)
    review = EthicsReview.objects.create(application=alloc.application, status="cleared_with_conditions")
    condition = EthicsCondition.objects.create(review=review, text="Delete raw images")
    assignment = ReviewAssignment.objects.create(application=submitted, reviewer=admin, kind="technical",
                                                 assigned_by=admin, status=AssignmentStatus.ASSIGNED)
    change = ChangeRequest.objects.create(allocation=alloc, kind="extension", payload={"end_date": "2100-01-01"},
                                          justification="More time", requested_by=admin)
    report = Report.objects.create(kind="period", status=ReportStatus.DONE, progress=100, file_name="r.pdf",
                                   csv_file_name="r.csv", requested_by=admin,
                                   params={"date_from": "2026-01-01", "date_to": "2026-03-31"})
    report_dir().mkdir(parents=True, exist_ok=True)
    (report_dir() / "r.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (report_dir() / "r.csv").write_text("site,gpu_hours\n")
    return {
        "reference": [draft.reference, submitted.reference, alloc.reference],
        "id": [organisation.pk, draft.team.first().pk, assignment.pk, change.pk, condition.pk, report.pk],
        "membership_pk": [owner.pk, member.pk],
        "invitation_pk": [invitation.pk],
        # In request bodies: the organisation an application is created for.
        "organisation": [organisation.pk],
    }


def test_every_response_matches_the_schema_under_schemathesis(db):
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    admin = f.AdminFactory(totp=True)
    targets = real_objects(admin)
    headers = {"Authorization": f"Token {f.token(admin)}"}
    schema = schemathesis.from_dict(generated_schema(), app=application, base_url="/")
    checks = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
    failures: list[str] = []
    statuses: Counter = Counter()

    # In-process WSGI calls fire request_started/finished: their connection cleanup would close the
    # test's connection (and its transaction) between requests on PostgreSQL.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy(), data=st.data())
            @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                                 phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))
            def run(case, data):
                for name in list(case.path_parameters or {}):
                    if name in targets and data.draw(st.booleans()):
                        case.path_parameters[name] = data.draw(st.sampled_from(targets[name]))
                # Ids in a body aim at real objects too: a generated id matches one only by the chance of the
                # sequences, which the tests run before this one move.
                for name in BODY_TARGETS & set(case.body if isinstance(case.body, dict) else ()):
                    if data.draw(st.booleans()):
                        case.body[name] = data.draw(st.sampled_from(targets[name]))
                response = case.call_wsgi(headers=headers)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=checks)

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
                failures.append(f"{operation.verbose_name}: {str(exc)[:FAILURE_CHARS]}")
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    print(f"schemathesis: {sum(statuses.values())} requests, status codes {dict(sorted(statuses.items()))}, "
          f"{len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)
    assert statuses[200] and statuses[201] and statuses[400] and statuses[404]
