"""A second factor after single sign-on: the portal's own, or the identity provider's when trusted.

AIF_TRUST_IDP_MFA off (the default): a staff member with an authenticator enters its code after the
provider, whatever the provider says it did. On, with the ID token's acr in AIF_IDP_MFA_ACR_VALUES:
the sign-in itself counts, recorded in the session as {"method": "mfa", "type": "idp_acr", ...}."""


import pytest
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.test import override_settings
from django.urls import reverse

from accounts.mfa import IDP_MFA_TYPE, idp_mfa_acr
from tests import factories as f
from tests.sso.conftest import (
    MFA,
    PROVIDER_ID,
    SFA,
    authentication_records,
    sign_in_at_provider,
    signed_in_user_id,
)

pytestmark = pytest.mark.django_db

SSO_RECORD = {"method": "socialaccount", "provider": PROVIDER_ID}
IDP_MFA_RECORD = {"method": "mfa", "type": IDP_MFA_TYPE, "acr": MFA, "provider": PROVIDER_ID}


def sso_staff_member(openid_provider):
    """An allocation manager with a TOTP authenticator, known to the provider by the same address."""
    staff = f.manager()
    openid_provider.add_account(f"staff-{staff.pk}", staff.email)
    return staff, f"staff-{staff.pk}"


def records_without_ids(client) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in {"uid", "id"}} for record in authentication_records(client)]


def test_by_default_staff_enter_the_portal_s_code_even_after_mfa_at_the_provider(client, openid_provider):
    staff, sub = sso_staff_member(openid_provider)

    response = client.get(sign_in_at_provider(client, sub, acr=MFA))

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None  # the second factor is still owed
    assert records_without_ids(client) == [SSO_RECORD]
    assert client.get("/staff/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": f.totp_code()})

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(staff.pk)
    assert records_without_ids(client) == [SSO_RECORD, {"method": "mfa", "type": "totp"}]
    assert client.get("/staff/").status_code == 200


@override_settings(AIF_TRUST_IDP_MFA=True)
def test_when_trusted_mfa_at_the_provider_is_the_second_factor(client, openid_provider):
    staff, sub = sso_staff_member(openid_provider)

    response = client.get(sign_in_at_provider(client, sub, acr=MFA))

    assert response.status_code == 302
    assert response.url == reverse("staff_home")  # no code asked: staff land on their work
    assert signed_in_user_id(client) == str(staff.pk)
    assert records_without_ids(client) == [SSO_RECORD, IDP_MFA_RECORD]
    assert client.get("/staff/").status_code == 200


@override_settings(AIF_TRUST_IDP_MFA=True)
def test_when_trusted_a_single_factor_at_the_provider_still_needs_the_portal_s_code(client, openid_provider):
    staff, sub = sso_staff_member(openid_provider)

    response = client.get(sign_in_at_provider(client, sub, acr=SFA))

    assert response.url == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None
    assert records_without_ids(client) == [SSO_RECORD]
    client.post(reverse("mfa_authenticate"), {"code": f.totp_code()})
    assert signed_in_user_id(client) == str(staff.pk)


@override_settings(AIF_TRUST_IDP_MFA=True, AIF_IDP_MFA_ACR_VALUES=["https://example.org/assurance/high"])
def test_only_the_listed_acr_values_count(client, openid_provider):
    _, sub = sso_staff_member(openid_provider)
    response = client.get(sign_in_at_provider(client, sub, acr=MFA))
    assert response.url == reverse("mfa_authenticate")
    assert records_without_ids(client) == [SSO_RECORD]


@override_settings(AIF_TRUST_IDP_MFA=True)
def test_when_trusted_an_applicant_s_sign_in_records_the_provider_s_mfa_too(client, openid_provider):
    openid_provider.add_account("applicant-5", "applicant5@example.eu")
    client.get(sign_in_at_provider(client, "applicant-5", acr=MFA))
    assert signed_in_user_id(client) is not None
    assert records_without_ids(client) == [SSO_RECORD, IDP_MFA_RECORD]


def test_a_password_sign_in_never_gets_the_provider_s_mfa(client, password, settings):
    settings.AIF_TRUST_IDP_MFA = True
    staff = f.manager()
    response = client.post(reverse("account_login"), {"login": staff.email, "password": password})
    assert response.url == reverse("mfa_authenticate")
    assert records_without_ids(client) == [{"method": "password", "email": staff.email}]


# --- the rule, on the claims alone -----------------------------------------------------------------


def sociallogin_with(extra_data: dict) -> SocialLogin:
    return SocialLogin(account=SocialAccount(provider=PROVIDER_ID, uid="x", extra_data=extra_data))


@pytest.mark.parametrize(("trusted", "extra_data", "expected"), [
    (True, {"id_token": {"acr": MFA}}, MFA),
    (False, {"id_token": {"acr": MFA}}, None),
    (True, {"id_token": {"acr": SFA}}, None),
    (True, {"id_token": {}}, None),
    (True, {"id_token": {"acr": [MFA]}}, None),  # not a string
    # The userinfo answer is not signed by the provider: its acr never counts.
    (True, {"id_token": {"acr": SFA}, "userinfo": {"acr": MFA}}, None),
    (True, {"userinfo": {"acr": MFA}}, None),
])
def test_idp_mfa_acr_reads_the_id_token_only(settings, trusted, extra_data, expected):
    settings.AIF_TRUST_IDP_MFA = trusted
    assert idp_mfa_acr(sociallogin_with(extra_data)) == expected
