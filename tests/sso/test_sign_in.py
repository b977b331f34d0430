"""Single sign-on end to end: the portal's allauth views against a certified OpenID provider over HTTP.

The good path is real throughout: authorization request with state, nonce and PKCE, sign-in and consent
at the provider, callback, code exchange, ID token checked against the provider's JWKS, userinfo.
The bad tokens are made by the provider itself on request (tests/oidc_op/provider.js, "faults") and
reach the portal through the same token endpoint."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests import factories as f
from tests.sso.conftest import (
    MFA,
    PROVIDER_ID,
    SFA,
    authentication_records,
    sign_in_at_provider,
    signed_in_user_id,
    start_sign_in,
)

pytestmark = pytest.mark.django_db

ERROR_PAGE = "socialaccount/authentication_error.html"


def template_names(response) -> list[str]:
    return [template.name for template in response.templates]


def assert_sent_to_confirm_the_address(client, response) -> None:
    """Not signed in: sent to the page that says a mail went to the address to confirm it."""
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None


def assert_refused(client, response, users_before: int) -> None:
    assert response.status_code == 401
    assert ERROR_PAGE in template_names(response)
    assert signed_in_user_id(client) is None
    assert User.objects.count() == users_before
    assert not SocialAccount.objects.exists()


# --- the good path --------------------------------------------------------------------------------


def test_a_new_person_signs_in_and_gets_an_account(client, openid_provider):
    openid_provider.add_account("ada-7f3", "Ada.Peeters@Example.eu", name="Ada Peeters")

    authorize = parse_qs(urlsplit(start_sign_in(client)).query)
    assert authorize["client_id"] == ["aif-portal"]
    assert authorize["code_challenge_method"] == ["S256"]
    assert authorize["acr_values"] == [f"{MFA} {SFA}"]
    assert len(authorize["nonce"][0]) >= 32 and authorize["state"][0]

    callback = sign_in_at_provider(client, "ada-7f3")
    response = client.get(callback)

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = User.objects.get(pk=signed_in_user_id(client))
    assert user.email.lower() == "ada.peeters@example.eu"
    assert user.full_name == "Ada Peeters"
    address = EmailAddress.objects.get(user=user)
    assert address.verified and address.primary  # verified by the provider: no mail to confirm
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == (PROVIDER_ID, "ada-7f3")
    assert account.extra_data["id_token"]["acr"] == SFA
    assert authentication_records(client) == [{"method": "socialaccount", "provider": PROVIDER_ID, "uid": "ada-7f3"}]
    # The code was exchanged, the ID token's signature checked against the JWKS, then userinfo read.
    seen = openid_provider.requests_seen
    assert seen[-3:] == ["POST /token", "GET /jwks", "GET /me"]
    assert openid_provider.errors == []
    assert client.get(reverse("dashboard")).status_code == 200


def test_each_sign_in_sends_its_own_nonce_and_state(client, openid_provider):
    first = parse_qs(urlsplit(start_sign_in(client)).query)
    second = parse_qs(urlsplit(start_sign_in(client)).query)
    assert first["nonce"] != second["nonce"]
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


def test_an_existing_account_is_linked_by_its_verified_email(client, openid_provider, password):
    person = f.UserFactory(email="jan.maes@example.eu")
    openid_provider.add_account("jan-21c", "JAN.MAES@example.eu")

    response = client.get(sign_in_at_provider(client, "jan-21c"))

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(person.pk)
    assert User.objects.filter(email__iexact="jan.maes@example.eu").count() == 1
    assert SocialAccount.objects.get(provider=PROVIDER_ID, uid="jan-21c").user == person
    person.refresh_from_db()
    assert person.check_password(password)  # a verified portal address keeps its password

    # Next time the subject finds the account, whatever address the provider gives.
    client.logout()
    openid_provider.add_account("jan-21c", "jan@another-employer.example", name="Jan Maes")
    client.get(sign_in_at_provider(client, "jan-21c"))
    assert signed_in_user_id(client) == str(person.pk)
    assert SocialAccount.objects.count() == 1


def test_an_unverified_email_does_not_take_over_an_account(client, openid_provider, password, run_on_commit):
    person = f.UserFactory(email="owner@example.eu")
    openid_provider.add_account("intruder-1", "owner@example.eu", email_verified=False)
    callback = sign_in_at_provider(client, "intruder-1")

    with run_on_commit():
        response = client.get(callback)

    # The intruder sees what any sign-up sees; the owner gets allauth's "account already exists" mail.
    assert_sent_to_confirm_the_address(client, response)
    assert not SocialAccount.objects.exists()
    assert User.objects.filter(email__iexact="owner@example.eu").count() == 1
    person.refresh_from_db()
    assert person.check_password(password)
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["owner@example.eu"], "[AI Factory] Account already exists")]


def test_a_new_person_with_an_unverified_email_must_confirm_it_first(client, openid_provider, run_on_commit):
    openid_provider.add_account("new-9", "new.person@example.eu", email_verified=False)
    callback = sign_in_at_provider(client, "new-9")

    with run_on_commit():
        response = client.get(callback)

    assert_sent_to_confirm_the_address(client, response)
    assert not EmailAddress.objects.get(email="new.person@example.eu").verified
    assert [message.to for message in mail.outbox] == [["new.person@example.eu"]]


def test_a_verified_email_locks_out_an_unconfirmed_sign_up_with_it(client, openid_provider, run_on_commit):
    """Someone signed up with the address and never confirmed it (so never signed in): the provider's
    verified owner is linked to that account, whose password stops working (allauth wipes it), and
    signs in once they confirm the address by mail like any unconfirmed account."""
    squatter = f.UserFactory(email="victim@example.eu", verified_email=False)
    EmailAddress.objects.create(user=squatter, email="victim@example.eu", verified=False, primary=True)
    openid_provider.add_account("victim-3", "victim@example.eu")
    callback = sign_in_at_provider(client, "victim-3")

    with run_on_commit():
        response = client.get(callback)

    assert_sent_to_confirm_the_address(client, response)
    squatter.refresh_from_db()
    assert not squatter.has_usable_password()
    assert SocialAccount.objects.get(uid="victim-3").user == squatter
    assert [message.to for message in mail.outbox] == [["victim@example.eu"]]


# --- what the portal refuses ----------------------------------------------------------------------


@pytest.mark.parametrize("fault", [
    "tampered_payload",  # signature no longer matches the claims
    "foreign_key",  # signed by a key that is not the provider's, under the provider's kid
    "alg_none",  # not signed at all
    "wrong_audience",
    "wrong_issuer",
    "expired",
    "wrong_nonce",  # a token of another sign-in
    "no_nonce",
])
def test_a_bad_id_token_is_refused(client, openid_provider, fault):
    openid_provider.add_account("ada-1", "ada@example.eu")
    callback = sign_in_at_provider(client, "ada-1")
    users_before = User.objects.count()
    openid_provider.spoil_next_id_token(fault)

    response = client.get(callback)

    assert_refused(client, response, users_before)
    assert "POST /token" in openid_provider.requests_seen  # refused by the portal, not by the provider
    assert openid_provider.errors == []


def test_a_genuine_token_passes_where_a_spoiled_one_failed(client, openid_provider):
    """The same sign-in steps with no fault: the refusals above come from the faults alone."""
    openid_provider.add_account("ada-1", "ada@example.eu")
    client.get(sign_in_at_provider(client, "ada-1"))
    assert signed_in_user_id(client) is not None


def test_userinfo_about_another_subject_is_refused(client, openid_provider):
    openid_provider.add_account("ada-1", "ada@example.eu")
    callback = sign_in_at_provider(client, "ada-1")
    openid_provider.spoil_next_userinfo("other_sub")

    assert_refused(client, client.get(callback), User.objects.count())
    assert openid_provider.requests_seen[-1] == "GET /me"


def test_a_callback_with_a_wrong_state_is_refused_before_any_code_exchange(client, openid_provider):
    openid_provider.add_account("ada-1", "ada@example.eu")
    callback = sign_in_at_provider(client, "ada-1")
    state = parse_qs(urlsplit(callback).query)["state"][0]

    response = client.get(callback.replace(f"state={state}", "state=forged-state-value"))

    assert_refused(client, response, User.objects.count())
    assert "POST /token" not in openid_provider.requests_seen


def test_a_callback_in_another_browser_is_refused(client, openid_provider):
    """Login CSRF: a callback URL planted in someone else's browser, where no sign-in was started."""
    openid_provider.add_account("ada-1", "ada@example.eu")
    callback = sign_in_at_provider(client, "ada-1")
    other = Client()

    response = other.get(callback)

    assert_refused(other, response, User.objects.count())
    assert "POST /token" not in openid_provider.requests_seen


def test_a_replayed_callback_is_refused(client, openid_provider):
    openid_provider.add_account("ada-1", "ada@example.eu")
    callback = sign_in_at_provider(client, "ada-1")
    stashed_states = client.session[statekit.STATES_SESSION_KEY]
    assert client.get(callback).status_code == 302
    client.logout()

    # The state was used up: the same URL again does not even reach the provider.
    response = client.get(callback)
    assert response.status_code == 401 and ERROR_PAGE in template_names(response)
    assert signed_in_user_id(client) is None
    assert openid_provider.requests_seen.count("POST /token") == 1

    # With the state put back (as if the portal had kept it), the provider refuses the used code.
    session = client.session
    session[statekit.STATES_SESSION_KEY] = stashed_states
    session.save()
    response = client.get(callback)
    assert response.status_code == 401 and ERROR_PAGE in template_names(response)
    assert signed_in_user_id(client) is None
    assert openid_provider.requests_seen.count("POST /token") == 2
    assert [(error["error"], error["detail"]) for error in openid_provider.errors] == [
        ("invalid_grant", "authorization code already consumed")]


def test_cancelling_at_the_provider_signs_nobody_in(client, openid_provider):
    openid_provider.add_account("ada-1", "ada@example.eu")
    response = client.get(sign_in_at_provider(client, "ada-1", consent=False))
    assert response.status_code == 302
    assert response.url == reverse("socialaccount_login_cancelled")
    assert signed_in_user_id(client) is None
    assert "POST /token" not in openid_provider.requests_seen
