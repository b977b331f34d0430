import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from accounts.context_processors import roles
from accounts.roles import Role
from tests.factories import EthicsOfficerFactory


def test_anonymous_visitors_have_no_role():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert roles(request) == {"portal_roles": frozenset(), "portal_staff_needs_mfa": False}


@pytest.mark.django_db
def test_staff_roles_reach_every_template():
    request = RequestFactory().get("/")
    request.user = EthicsOfficerFactory()
    assert roles(request)["portal_roles"] == {Role.ETHICS_OFFICER}
