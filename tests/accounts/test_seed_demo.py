"""`manage.py seed_demo`: the accounts README.md lists, usable as documented, and idempotent."""

import time
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management import call_command
from django.urls import reverse

from accounts.management.commands.seed_demo import DEMO_ORG, DEMO_TOTP_SECRET, DEMO_USERS
from accounts.models import Membership, Organisation, User
from accounts.roles import Role, roles_of

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
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time()) // 30))
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
