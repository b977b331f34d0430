"""One error shape for every error the API returns."""

import json

import pytest

from portal.api.errors import _flatten
from tests import factories as f

pytestmark = pytest.mark.django_db


def shape(response):
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_unknown_paths_under_the_api_are_json_404(as_user, applicant):
    client = as_user(applicant)
    for path in ("/api/v1/nothing/", "/api/v1/applications/not-a-reference/", "/api/v1/organisations/0/",
                 "/api/v1/organisations/99999999999999999999/"):
        response = client.get(path)
        assert response.status_code == 404 and shape(response)["code"] == "not_found", path


def test_method_not_allowed_and_parse_errors(as_user, applicant):
    client = as_user(applicant)
    assert shape(client.delete("/api/v1/organisations/"))["code"] == "method_not_allowed"
    broken = client.post("/api/v1/applications/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and shape(broken)["code"] == "parse_error"
    wrong_type = client.post("/api/v1/applications/", "title=x", content_type="application/x-www-form-urlencoded")
    assert wrong_type.status_code == 415 and shape(wrong_type)["code"] == "unsupported_media_type"


def test_a_nul_character_anywhere_in_a_json_body_is_a_parse_error_and_writes_nothing(as_user, applicant):
    """A code looked up as it comes (a site in a row, a key of a split) reached PostgreSQL, which refuses NUL:
    500 (found by schemathesis). Every JSON document holding NUL is now refused whole."""
    from allocations.grants.models import ChangeRequest

    alloc = f.allocation(member=applicant)
    client = as_user(applicant)
    base = f"/api/v1/allocations/{alloc.reference}/change-requests/"
    for body in ({"kind": "top_up", "justification": "x", "quotas": [{"site": "zel\u0000lik", "gpu_hours": 1}]},
                 {"kind": "top_up", "justification": "x", "quotas": [{"site": "zellik", "gpu_hours": 1}],
                  "extra": {"\u0000": 1}},
                 {"kind": "top_up\u0000", "justification": "x"}):
        response = client.post(base, json.dumps(body), content_type="application/json")
        assert response.status_code == 400 and shape(response)["code"] == "parse_error", (body, response.content)
        assert "NUL" in shape(response)["message"]
    assert not ChangeRequest.objects.exists()


def test_holds_nul_reads_keys_values_and_nesting():
    from portal.api.parsers import holds_nul

    assert not holds_nul({"a": [1, {"b": "ok"}], "c": None})
    assert holds_nul({"a": [1, {"b": "o\x00k"}]}) and holds_nul({"\x00": 1}) and holds_nul(["x", ["\x00"]])
    deep = current = []
    for _ in range(5000):  # no recursion limit
        current.append([])
        current = current[0]
    current.append("\x00")
    assert holds_nul(deep)


def test_service_validation_error_names_fields_and_message(as_user, applicant):
    app = f.draft(applicant)
    response = as_user(applicant).post(f"/api/v1/applications/{app.reference}/team/", {
        "full_name": "A", "email": "a@example.eu", "cluster_username": "Not Valid"}, format="json")
    error = shape(response)
    assert response.status_code == 400 and error["code"] == "validation_error"
    assert error["message"] == error["fields"]["cluster_username"][0]


def test_nested_errors_are_flattened_with_dotted_names():
    detail = {"resources": [{}, {"site": ["Unknown."]}], "non_field_errors": ["Bad."], "a": {"b": ["x", "y"]}}
    assert _flatten(detail) == {"resources.1.site": ["Unknown."], "non_field_errors": ["Bad."], "a.b": ["x", "y"]}


@pytest.mark.django_db
def test_audit_date_filters_refuse_offsets_the_database_cannot_compare(client):
    from tests.factories import EthicsOfficerFactory

    officer = EthicsOfficerFactory(totp=True)
    client.force_login(officer)
    url = "/api/v1/staff/audit-events/"
    bad = client.get(url, {"created_after": "0263-12-05T08:26:12+17:22"})
    assert bad.status_code == 400
    assert "created_after" in bad.json()["error"]["fields"]
    ok = client.get(url, {"created_after": "2026-01-01T00:00:00+01:00"})
    assert ok.status_code == 200
