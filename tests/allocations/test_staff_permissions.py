"""Every staff URL of this issue, for every role: allowed, 403 or 404, and MFA first for staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from allocations.applications.models import ApplicationStatus
from allocations.grants import services as grants_services
from allocations.grants.models import AllocationStatus, ChangeKind
from allocations.review import services as review_services
from tests import factories as fr

pytestmark = pytest.mark.django_db

MANAGER_PAGES = ["review:application_list", "review:application_eligibility", "review:application_reviewers",
                 "review:application_decision", "review:overdue", "grants:capacity", "grants:staff_allocation_list",
                 "grants:staff_allocation_detail", "grants:change_request_list", "grants:change_request_decide"]
REVIEWER_PAGES = ["review:assignment_list", "review:assignment_detail", "review:assignment_declare"]
POST_ONLY = {"grants:change_request_decide", "review:assignment_declare"}


@pytest.fixture
def world():
    """One application in review with an assignment for `assigned`, an allocation with a change request."""
    member = fr.applicant()
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member)
    assigned = fr.reviewer()
    assignment = review_services.reviewer_assign(
        actor=fr.manager(), application=app, reviewer=assigned, kind="technical"
    )
    alloc = fr.allocation(status=AllocationStatus.ACTIVE, member=member)
    cr = grants_services.change_request_submit(
        actor=member,
        allocation=alloc,
        kind=ChangeKind.EXTENSION,
        payload={"end_date": "2099-01-01"},
        justification="More time",
    )
    args = {
        "review:application_eligibility": [app.reference],
        "review:application_reviewers": [app.reference],
        "review:application_decision": [app.reference],
        "grants:staff_allocation_detail": [alloc.reference],
        "grants:change_request_decide": [cr.pk],
        "review:assignment_detail": [assignment.pk],
        "review:assignment_declare": [assignment.pk],
    }
    return {"member": member, "assigned": assigned, "args": args}


def _url(world, name):
    return reverse(name, args=world["args"].get(name, []))


def _call(client, world, name):
    url = _url(world, name)
    return client.post(url, {}) if name in POST_ONLY else client.get(url)


ROLES = {
    "applicant": lambda w: w["member"],
    "reviewer (assigned)": lambda w: w["assigned"],
    "reviewer (other)": lambda w: fr.reviewer(),
    "ethics officer": lambda w: fr.EthicsOfficerFactory(totp=True),
    "operator": lambda w: fr.OperatorFactory(totp=True),
    "manager": lambda w: fr.manager(),
}

# role -> page -> expected status
EXPECTED = {
    "applicant": dict.fromkeys(MANAGER_PAGES + REVIEWER_PAGES, 403),
    "reviewer (assigned)": {
        **dict.fromkeys(MANAGER_PAGES, 403),
        "review:assignment_list": 200,
        "review:assignment_detail": 200,
        "review:assignment_declare": 400,
    },
    "reviewer (other)": {
        **dict.fromkeys(MANAGER_PAGES, 403),
        "review:assignment_list": 200,
        "review:assignment_detail": 404,
        "review:assignment_declare": 404,
    },
    "ethics officer": dict.fromkeys(MANAGER_PAGES + REVIEWER_PAGES, 403),
    "operator": dict.fromkeys(MANAGER_PAGES + REVIEWER_PAGES, 403),
    "manager": {
        **dict.fromkeys(MANAGER_PAGES, 200),
        "grants:change_request_decide": 302,
        **dict.fromkeys(REVIEWER_PAGES, 403),
    },
}
CASES = [(role, view_name) for role in EXPECTED for view_name in MANAGER_PAGES + REVIEWER_PAGES]


@pytest.mark.parametrize(("role", "view_name"), CASES, ids=[f"{r}:{p}" for r, p in CASES])
def test_staff_url_for_role(client, world, role, view_name):
    client.force_login(ROLES[role](world))
    assert _call(client, world, view_name).status_code == EXPECTED[role][view_name]


@pytest.mark.parametrize("view_name", MANAGER_PAGES + REVIEWER_PAGES)
def test_staff_without_mfa_is_sent_to_the_mfa_page(client, world, view_name):
    person = fr.StaffUserFactory(roles=[Role.ALLOCATION_MANAGER, Role.REVIEWER], totp=False)  # no authenticator
    client.force_login(person)
    response = _call(client, world, view_name)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


@pytest.mark.parametrize("view_name", MANAGER_PAGES + REVIEWER_PAGES)
def test_anonymous_is_sent_to_sign_in(client, world, view_name):
    response = _call(client, world, view_name)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_unknown_objects_are_404_for_managers(client, world):
    client.force_login(fr.manager())
    for name in ("review:application_eligibility", "review:application_decision", "grants:staff_allocation_detail"):
        assert client.get(reverse(name, args=["AIF-1999-0001"])).status_code == 404
    draft = fr.application(status=ApplicationStatus.DRAFT)
    assert client.get(reverse("review:application_decision", args=[draft.reference])).status_code == 404


def test_staff_home_links_per_role(client):
    client.force_login(fr.manager())
    page = client.get(reverse("staff_home")).content.decode()
    assert reverse("review:application_list") in page and reverse("review:assignment_list") not in page
    client.force_login(fr.reviewer())
    page = client.get(reverse("staff_home")).content.decode()
    assert reverse("review:assignment_list") in page and reverse("review:application_list") not in page
