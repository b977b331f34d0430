"""One error shape for every error the API returns."""

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
