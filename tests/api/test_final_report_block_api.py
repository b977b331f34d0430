"""The API's submission obeys the same block as the page: the service refuses, the API says why."""

import pytest

from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import ApplicationStatus
from allocations.outcomes import services
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_api_submission_refused_while_a_report_is_overdue_then_allowed_by_an_exception(as_user, capacity):
    old = f.ended_allocation(ended_days_ago=45)
    member = f.applicant(old.organisation)
    app = f.complete(member, old.organisation)
    client = as_user(member)
    url = f"/api/v1/applications/{app.reference}/submit/"
    refused = client.post(url, {"declaration_version": DECLARATION_VERSION}, format="json")
    assert refused.status_code == 400
    assert old.reference in str(refused.json())
    app.refresh_from_db()
    assert app.status == ApplicationStatus.DRAFT
    services.submission_override_grant(actor=f.manager(), organisation=old.organisation, reason="Agreed by phone")
    allowed = client.post(url, {"declaration_version": DECLARATION_VERSION}, format="json")
    assert allowed.status_code == 200 and allowed.json()["status"] == "submitted"
