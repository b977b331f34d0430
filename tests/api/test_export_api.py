"""The personal data export through the API (GET /api/v1/me/export/), and what stays on the pages only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Membership
from tests import factories as f

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------ personal data export

EXPORT = "/api/v1/me/export/"


def test_export_is_the_document_the_page_downloads(as_user, applicant, client):
    f.draft(applicant)
    response = as_user(applicant, scopes=["read"]).get(EXPORT)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    client.force_login(applicant)
    page = json.loads(client.get(reverse("accounts:privacy_export")).content)
    api = response.json()
    for data in (api, page):
        data.pop("exported_at")
        data["profile"].pop("last_login")  # the page's sign-in sets it
        for token in data["api_tokens"]:
            token.pop("last_used_at")
    assert api == page
    assert api["profile"]["email"] == applicant.email
    assert [m["organisation_id"] for m in api["memberships"]] == [
        m.organisation_id for m in Membership.objects.filter(user=applicant)]


def test_export_is_only_the_caller_s(as_user, applicant, outsider):
    data = as_user(outsider).get(EXPORT).json()
    assert data["profile"]["id"] == outsider.pk
    assert applicant.email not in json.dumps(data)


def test_export_needs_a_staff_second_factor(as_user):
    response = as_user(f.AllocationManagerFactory(totp=False)).get(EXPORT)
    assert response.status_code == 403 and response.json()["error"]["code"] == "mfa_required"
    assert APIClient().get(EXPORT).status_code == 401


def test_erasure_and_token_management_are_not_in_the_api(as_user, applicant):
    client = as_user(applicant)
    for method, path in (("post", "/api/v1/me/erase/"), ("delete", "/api/v1/me/"), ("post", "/api/v1/me/tokens/"),
                         ("get", "/api/v1/me/tokens/")):
        assert getattr(client, method)(path).status_code in (404, 405), path
    assert client.get("/api/v1/me/").status_code == 200
