"""Sign-up asks the person's name, shows the privacy notice, and the name is shown where people are listed."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "Fresh-signup-pass-2026"


def sign_up(client, run_on_commit, **data):
    with run_on_commit():
        return client.post(reverse("account_signup"), {"email": "ines@example.eu", "password1": PASSWORD,
                                                       "password2": PASSWORD, **data})


def test_the_sign_up_page_asks_the_name_first_and_shows_the_privacy_notice(client):
    page = client.get(reverse("account_signup")).content.decode()
    names = re.findall(r'<input[^>]*name="(full_name|email|password1|password2)"', page)
    assert names == ["full_name", "email", "password1", "password2"]
    assert re.search(r'<input[^>]*name="full_name"[^>]*autocomplete="name"|autocomplete="name"[^>]*name="full_name"',
                     page)
    notice = page.index(f'href="{reverse("privacy_notice")}"')
    assert notice < page.index('name="full_name"')  # read before giving anything


def test_sign_up_stores_the_name(client, run_on_commit):
    response = sign_up(client, run_on_commit, full_name="  Ines Founder ")
    assert response.status_code == 302
    user = User.objects.get(email="ines@example.eu")
    assert user.full_name == "Ines Founder" and user.display_name == "Ines Founder"


@pytest.mark.parametrize("name", ["", "   "])
def test_sign_up_without_a_name_creates_nobody(client, run_on_commit, name):
    response = sign_up(client, run_on_commit, full_name=name)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not User.objects.filter(email="ines@example.eu").exists()


def test_members_are_listed_by_name(client, owner, organisation):
    colleague = f.MembershipFactory(organisation=organisation, user__full_name="Milo Colleague").user
    nameless = f.MembershipFactory(organisation=organisation, user__full_name="").user
    client.force_login(owner)
    page = client.get(reverse("accounts:organisation_detail", args=[organisation.pk])).content.decode()
    assert re.search(rf'<th scope="row">Milo Colleague <span class="muted">{re.escape(colleague.email)}</span></th>',
                     page)
    # Without a name the address stands in for it, once.
    assert f'<th scope="row">{nameless.email}</th>' in page
