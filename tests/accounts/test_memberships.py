"""Invitations and memberships: owners manage, members do not, an organisation keeps an owner."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Membership, MembershipRole, Organisation
from portal.models import AuditEvent
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCEPT_LINK = re.compile(r"https?://\S+/invitations/(?P<token>[\w-]+)/")


def state(organisation):
    """Everything an owner action could change, to compare before and after a refusal."""
    organisation.refresh_from_db()
    return {
        "organisation": services._organisation_snapshot(organisation),
        "memberships": sorted(Membership.objects.filter(organisation=organisation)
                              .values_list("user_id", "role")),
        "invitations": sorted(Invitation.objects.filter(organisation=organisation)
                              .values_list("email", "role", "revoked_at", "accepted_at")),
        "events": AuditEvent.objects.count(),
        "mails": len(mail.outbox),
    }


def invite(client, organisation, email, run_on_commit, role=MembershipRole.MEMBER):
    with run_on_commit():
        response = client.post(reverse("accounts:invitation_create", args=[organisation.pk]),
                               {"email": email, "role": role})
    assert response.status_code == 302
    return response


def token_from_outbox():
    match = ACCEPT_LINK.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match["token"]


# --- invitations -----------------------------------------------------------------------------------


def test_owner_invites_by_email_and_the_mail_holds_the_accept_link(owner_client, organisation, run_on_commit):
    invite(owner_client, organisation, "New.Person@Example.eu", run_on_commit)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.eu"]
    assert organisation.legal_name in message.subject
    token = token_from_outbox()
    invitation = Invitation.objects.get()
    assert invitation.token_hash == Invitation.hash_token(token)  # only the hash is stored
    assert token not in str(Invitation.objects.values_list())
    assert AuditEvent.objects.filter(action="invitation.created", object_id=str(invitation.pk)).exists()


def test_mail_is_sent_only_after_commit(owner, organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invitation_create(actor=owner, organisation=organisation, email="later@example.eu")
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_accept_with_the_invited_account(owner_client, client, organisation, run_on_commit):
    invite(owner_client, organisation, "joiner@example.eu", run_on_commit, role=MembershipRole.OWNER)
    token = token_from_outbox()
    joiner = UserFactory(email="joiner@example.eu")
    client.force_login(joiner)
    url = reverse("accounts:invitation_accept", args=[token])
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == organisation.get_absolute_url()
    membership = Membership.objects.get(user=joiner, organisation=organisation)
    assert membership.role == MembershipRole.OWNER
    assert Invitation.objects.get().accepted_by == joiner
    # A used invitation cannot be used again.
    other = UserFactory(email="joiner2@example.eu")
    client.force_login(other)
    client.post(url)
    assert not Membership.objects.filter(user=other).exists()


def test_accept_requires_sign_in(client, owner, organisation):
    _, token = services.invitation_create(actor=owner, organisation=organisation, email="anon@example.eu")
    response = client.post(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 302
    assert reverse("account_login") in response.url
    assert Invitation.objects.get().accepted_at is None


def test_accept_with_the_wrong_account_is_refused(client, owner, organisation):
    _, token = services.invitation_create(actor=owner, organisation=organisation, email="right@example.eu")
    intruder = UserFactory(email="wrong@example.eu")
    client.force_login(intruder)
    before = state(organisation)
    response = client.post(reverse("accounts:invitation_accept", args=[token]))
    assert response.status_code == 403
    assert state(organisation) == before
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.parametrize("how", ["expired", "revoked", "unknown"])
def test_expired_revoked_or_unknown_invitation_is_refused(client, owner, organisation, how):
    invitation, token = services.invitation_create(actor=owner, organisation=organisation,
                                                   email="late@example.eu")
    if how == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif how == "revoked":
        services.invitation_revoke(actor=owner, invitation=invitation)
    else:
        token = token + "x"
    client.force_login(UserFactory(email="late@example.eu"))
    before = state(organisation)
    response = client.post(reverse("accounts:invitation_accept", args=[token]), follow=True)
    assert response.redirect_chain[0][0] == reverse("dashboard")
    assert "not valid any more" in response.content.decode()
    assert state(organisation) == before


def test_owner_revokes_an_invitation_through_the_view(owner_client, owner, organisation):
    invitation, _ = services.invitation_create(actor=owner, organisation=organisation, email="x@example.eu")
    response = owner_client.post(reverse("accounts:invitation_revoke", args=[organisation.pk, invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_inviting_an_existing_member_is_refused(owner_client, member, organisation, run_on_commit):
    with run_on_commit():
        response = owner_client.post(reverse("accounts:invitation_create", args=[organisation.pk]),
                                     {"email": member.email.upper(), "role": "member"}, follow=True)
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


# --- members cannot do owner actions ---------------------------------------------------------------


@pytest.fixture
def second_member(organisation):
    return MembershipFactory(organisation=organisation)


@pytest.fixture
def open_invitation(owner, organisation):
    invitation, _ = services.invitation_create(actor=owner, organisation=organisation, email="open@example.eu")
    return invitation


def owner_actions(organisation, second_member, open_invitation, owner):
    owner_membership = Membership.objects.get(user=owner, organisation=organisation)
    pk = organisation.pk
    return [
        ("get", reverse("accounts:organisation_edit", args=[pk]), {}),
        ("post", reverse("accounts:organisation_edit", args=[pk]),
         {"legal_name": "Hijacked", "country": "BE", "org_type": "sme", "vat_number": organisation.vat_number,
          "headcount": "1", "annual_turnover": "1", "balance_sheet_total": "1"}),
        ("post", reverse("accounts:invitation_create", args=[pk]), {"email": "friend@example.eu", "role": "owner"}),
        ("post", reverse("accounts:invitation_revoke", args=[pk, open_invitation.pk]), {}),
        ("post", reverse("accounts:membership_role", args=[pk, second_member.pk]), {"role": "owner"}),
        ("post", reverse("accounts:membership_role", args=[pk, owner_membership.pk]), {"role": "member"}),
        ("post", reverse("accounts:membership_remove", args=[pk, second_member.pk]), {}),
        ("post", reverse("accounts:membership_remove", args=[pk, owner_membership.pk]), {}),
    ]


def test_member_gets_403_for_every_owner_action_and_nothing_changes(
        member_client, organisation, owner, second_member, open_invitation, run_on_commit):
    actions = owner_actions(organisation, second_member, open_invitation, owner)
    before = state(organisation)
    for method, url, data in actions:
        with run_on_commit():
            response = getattr(member_client, method)(url, data)
        assert response.status_code == 403, (method, url, response.status_code)
    assert state(organisation) == before


def test_member_sees_no_owner_controls(member_client, organisation):
    page = member_client.get(organisation.get_absolute_url()).content.decode()
    assert reverse("accounts:organisation_edit", args=[organisation.pk]) not in page
    assert reverse("accounts:invitation_create", args=[organisation.pk]) not in page


def test_member_may_leave(member_client, member, organisation):
    membership = Membership.objects.get(user=member, organisation=organisation)
    response = member_client.post(reverse("accounts:membership_remove", args=[organisation.pk, membership.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed", actor_id=member.pk).exists()


def test_owner_changes_a_role_and_removes_a_member(owner_client, organisation, second_member):
    url = reverse("accounts:membership_role", args=[organisation.pk, second_member.pk])
    assert owner_client.post(url, {"role": "owner"}).status_code == 302
    second_member.refresh_from_db()
    assert second_member.role == MembershipRole.OWNER
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.changes["role"] == ["member", "owner"]
    owner_client.post(reverse("accounts:membership_remove", args=[organisation.pk, second_member.pk]))
    assert not Membership.objects.filter(pk=second_member.pk).exists()


# --- the last owner --------------------------------------------------------------------------------


def test_last_owner_cannot_be_demoted(owner_client, owner, organisation, member):
    owner_membership = Membership.objects.get(user=owner, organisation=organisation)
    before = state(organisation)
    response = owner_client.post(reverse("accounts:membership_role", args=[organisation.pk, owner_membership.pk]),
                                 {"role": "member"}, follow=True)
    assert "at least one owner" in response.content.decode()
    assert state(organisation) == before


def test_last_owner_cannot_be_removed_or_leave(owner_client, owner, organisation, member):
    owner_membership = Membership.objects.get(user=owner, organisation=organisation)
    before = state(organisation)
    response = owner_client.post(reverse("accounts:membership_remove", args=[organisation.pk, owner_membership.pk]),
                                 follow=True)
    assert "at least one owner" in response.content.decode()
    assert state(organisation) == before


def test_an_owner_can_step_down_when_another_owner_remains(owner_client, owner, organisation):
    MembershipFactory(organisation=organisation, role=MembershipRole.OWNER)
    owner_membership = Membership.objects.get(user=owner, organisation=organisation)
    owner_client.post(reverse("accounts:membership_role", args=[organisation.pk, owner_membership.pk]),
                      {"role": "member"})
    owner_membership.refresh_from_db()
    assert owner_membership.role == MembershipRole.MEMBER


# --- scoping: another organisation's URLs do not exist ---------------------------------------------


def _organisation_urls(organisation, membership, invitation):
    """Every URL in accounts/urls.py that names an organisation, filled with the target's ids."""
    from accounts.urls import urlpatterns

    ids = {"pk": organisation.pk, "membership_pk": membership.pk, "invitation_pk": invitation.pk}
    urls = []
    for pattern in urlpatterns:
        converters = pattern.pattern.converters
        if "pk" not in converters:
            continue
        kwargs = {name: ids[name] for name in converters}
        urls.append(reverse(f"accounts:{pattern.name}", kwargs=kwargs))
    return urls


def test_every_organisation_url_is_404_for_another_organisations_user(client, organisation, owner, run_on_commit):
    invitation, _ = services.invitation_create(actor=owner, organisation=organisation, email="x@example.eu")
    membership = Membership.objects.get(organisation=organisation)
    outsider_org_owner = MembershipFactory(role=MembershipRole.OWNER)  # owner of ANOTHER organisation
    client.force_login(outsider_org_owner.user)
    urls = _organisation_urls(organisation, membership, invitation)
    assert len(urls) >= 6, urls
    before = state(organisation)
    for url in urls:
        for method in ("get", "post"):
            with run_on_commit():
                response = getattr(client, method)(url, {"role": "owner", "email": "a@example.eu"})
            if response.status_code == 405:
                continue
            assert response.status_code == 404, (method, url, response.status_code)
    assert state(organisation) == before
    # ...and the organisation is not listed anywhere for them.
    for page in (reverse("dashboard"), reverse("accounts:organisation_list")):
        assert organisation.legal_name not in client.get(page).content.decode()


def test_anonymous_users_are_sent_to_sign_in(client, organisation):
    response = client.get(organisation.get_absolute_url())
    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_organisation_queryset_scoping(user, organisation, member):
    assert list(Organisation.objects.visible_to(member)) == [organisation]
    assert list(Organisation.objects.visible_to(user)) == []
