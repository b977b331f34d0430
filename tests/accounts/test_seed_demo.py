"""`manage.py seed_demo`: the accounts README.md lists, usable as documented, and idempotent."""

import io
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse

from accounts.management.commands.seed_demo import DEMO_ORG, DEMO_TOTP_SECRET, DEMO_USERS
from accounts.models import Membership, Organisation, User
from accounts.roles import Role, roles_of
from allocations import demo
from allocations.applications.models import Application, ApplicationStatus
from allocations.applications.pdf import pdf_problem
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.models import EthicsStatus
from portal.audit import AuditAction
from portal.models import AuditEvent
from tests.factories import totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)  # twice: idempotent
    return out.getvalue()


def test_seed_demo_is_idempotent_and_creates_every_account(seeded, settings):
    assert "Demo data ready" in seeded
    assert settings.AIF_DEMO_PASSWORD in seeded
    assert User.objects.count() == len(DEMO_USERS)
    org = Organisation.objects.get()
    assert org.legal_name == DEMO_ORG["legal_name"]
    assert org.vat_number == "BE0403170701"
    assert dict(Membership.objects.values_list("user__email", "role")) == {
        "applicant@demo-vision.example": "owner", "member@demo-vision.example": "member"}


@pytest.mark.parametrize(("email", "name", "roles", "superuser"), DEMO_USERS)
def test_demo_account_signs_in_as_documented(client, seeded, settings, email, name, roles, superuser):
    user = User.objects.get(email=email)
    assert roles_of(user) == (frozenset(Role.values) if superuser else frozenset(roles))
    response = client.post(reverse("account_login"), {"login": email, "password": settings.AIF_DEMO_PASSWORD})
    assert response.status_code == 302
    if roles or superuser:
        # Staff: the second step asks for the code of the shared demo TOTP secret.
        assert response.url == reverse("mfa_authenticate")
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1
        code = totp_code(DEMO_TOTP_SECRET)
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert response.status_code == 302
        assert client.get("/staff/").status_code == 200
    else:
        assert response.url == reverse("dashboard")
        assert client.get("/staff/").status_code == 403
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("email", ["operator@demo.aifactory.eu", "admin@demo.aifactory.eu"])
def test_demo_operator_and_admin_reach_the_django_admin(client, seeded, email):
    client.force_login(User.objects.get(email=email))
    assert client.get("/admin/").status_code == 200


# --- the staff journey the demo data shows ---------------------------------------------------------


def _download(client, app, attachment) -> bytes:
    response = client.get(reverse("applications:attachment_download", args=[app.reference, attachment.pk]))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


def test_demo_reviewer_declares_then_reads_the_project_plan_and_the_ethics_officer_too(client, seeded):
    app = Application.objects.get(title=demo.IN_REVIEW_TITLE)
    assert app.status == ApplicationStatus.IN_REVIEW
    plan = app.attachments.get()
    assert (plan.original_name, plan.kind, plan.size) == (demo.PLAN_NAME, "project_plan", len(demo.PROJECT_PLAN))
    assert pdf_problem(io.BytesIO(demo.PROJECT_PLAN)) is None  # the attachment check passes it, as an upload
    reviewer = User.objects.get(email=demo.REVIEWER)
    assignment = ReviewAssignment.objects.get(application=app, reviewer=reviewer)
    assert assignment.status == AssignmentStatus.ASSIGNED
    download_url = reverse("applications:attachment_download", args=[app.reference, plan.pk])

    client.force_login(reviewer)
    assert client.get(download_url).status_code == 404  # not before the declaration
    client.post(reverse("review:assignment_declare", args=[assignment.pk]), {"has_conflict": "no"})
    page = client.get(reverse("review:assignment_detail", args=[assignment.pk])).content.decode()
    assert f'href="{download_url}"' in page and demo.PLAN_NAME in page
    assert _download(client, app, plan) == demo.PROJECT_PLAN

    # The DPIA question (personal data) puts the application in the ethics queue: the officer reads it too.
    assert app.ethics_review.status == EthicsStatus.PENDING
    client.force_login(User.objects.get(email="ethics@demo.aifactory.eu"))
    page = client.get(reverse("compliance:ethics_review", args=[app.reference])).content.decode()
    assert f'href="{download_url}"' in page
    assert _download(client, app, plan).startswith(b"%PDF-")
    readers = list(AuditEvent.objects.filter(action=AuditAction.ATTACHMENT_DOWNLOADED)
                   .values_list("actor__email", flat=True).order_by("seq"))
    assert readers == [demo.REVIEWER, "ethics@demo.aifactory.eu"]
