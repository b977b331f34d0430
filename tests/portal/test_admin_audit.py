"""Every model admin is read-only or audited: an edit in the Django admin never bypasses the audit trail.

The test walks `admin.site._registry`: an admin that lets anyone add, change or delete must have a case
below, and the case's change, made through the admin's own pages, must write an audit event with the
before and after of the changed field."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Organisation, User
from allocations.catalogue.models import SiteAccessMode
from allocations.review.models import ConflictDeclaration
from portal.admin import REDACTED, AuditedAdmin
from portal.audit import verify_chain
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The fields a browser would send from the admin's change form (id ending in "_form")."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "on"))  # what a browser sends
                return
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def form_data(html: str) -> dict[str, Any]:
    parser = _FormFields()
    parser.feed(html)
    data: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value
    return data


@dataclass
class Case:
    build: Callable[[], Any]
    field: str
    value: Any  # what the form sends
    expected: Callable[[Any], dict]  # the object -> the changes the event must hold


# The admin's form shows times to the second.
WHOLE_SECONDS = {"opens_at": datetime.datetime(2026, 3, 1, 9, tzinfo=datetime.UTC),
                 "cutoff_at": datetime.datetime(2026, 4, 1, 17, tzinfo=datetime.UTC)}


def _reviewer_id():
    return f.ReviewerFactory().pk


CHANGES: dict[str, Case] = {
    "accounts.User": Case(lambda: f.UserFactory(), "is_staff", "on", lambda o: {"is_staff": [False, True]}),
    "accounts.Organisation": Case(lambda: f.OrganisationFactory(), "headcount", "300",
                                  lambda o: {"headcount": [8, 300], "sme_class": ["micro", "not_sme"]}),
    "allocations.Site": Case(lambda: f.site("zellik"), "name", "Zellik campus",
                             lambda o: {"name": ["Zellik", "Zellik campus"]}),
    "allocations.SiteCapacity": Case(lambda: f.publish_capacity()[0], "gpu_hours", "123456",
                                     lambda o: {"gpu_hours": [400_000, 123456]}),
    "allocations.SiteAccessMode": Case(
        lambda: SiteAccessMode.objects.create(site=f.site("zellik"), access_mode=f.mode("playground"), fairshare=10),
        "fairshare", "20", lambda o: {"fairshare": [10, 20]}),
    "allocations.AccessMode": Case(lambda: f.mode("playground"), "sla_working_days", "3",
                                   lambda o: {"sla_working_days": [2, 3]}),
    "allocations.Call": Case(lambda: f.open_call(**WHOLE_SECONDS), "title", "Spring cut-off",
                             lambda o: {"title": ["Large Scale cut-off", "Spring cut-off"]}),
    "allocations.ReviewerPool": Case(lambda: f.general_pool(), "members", None,
                                     lambda o: {"members": [[], sorted(o.members.values_list("pk", flat=True))]}),
    "allocations.SiteReferencePrice": Case(
        lambda: f.reference_price(source="Commercial price list 2026"), "source", "Commercial price list 2027",
        lambda o: {"source": ["Commercial price list 2026", "Commercial price list 2027"]}),
    "allocations.ConflictDeclaration": Case(
        lambda: ConflictDeclaration.objects.create(reviewer=f.reviewer(), organisation=f.OrganisationFactory(),
                                                   statement="Former adviser"),
        "statement", "Former adviser and shareholder", lambda o: {"statement": [REDACTED, REDACTED]}),
}


@pytest.fixture
def superuser(client):
    user = f.AdminFactory(totp=True)
    client.force_login(user)
    return user


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _label(model) -> str:
    return model._meta.label


def test_every_admin_is_read_only_or_audited(superuser):
    request = _request(superuser)
    editable = set()
    for model, model_admin in admin.site._registry.items():
        can = (model_admin.has_add_permission(request), model_admin.has_change_permission(request),
               model_admin.has_delete_permission(request))
        for inline in model_admin.get_inline_instances(request):
            assert not (inline.has_add_permission(request, None) or inline.has_change_permission(request)
                        or inline.has_delete_permission(request)), (_label(model), type(inline).__name__)
        if not any(can):
            assert set(model_admin.get_actions(request)) == set(), _label(model)
            continue
        editable.add(_label(model))
        # Added and deleted rows are audited by the shared AuditedAdmin; a change needs its own case.
        if can[0] or can[2]:
            assert isinstance(model_admin, AuditedAdmin), _label(model)
        if can[1]:
            assert _label(model) in CHANGES, f"{_label(model)} is editable in the admin: add a change case"
    assert editable == set(CHANGES) | {"mfa.Authenticator"}


@pytest.mark.parametrize("label", sorted(CHANGES))
def test_a_change_in_the_admin_writes_the_audit_event_with_before_and_after(client, superuser, label):
    case = CHANGES[label]
    obj = case.build()
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode())
    data[case.field] = case.value if case.value is not None else [str(_reviewer_id())]
    data["_save"] = "Save"
    before = AuditEvent.objects.count()

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    obj.refresh_from_db()
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.actor_id == superuser.pk
    assert (event.object_type, event.object_id) == (f"{obj._meta.app_label}.{obj._meta.model_name}", str(obj.pk))
    expected = case.expected(obj)
    assert event.action == ("organisation.updated" if label == "accounts.Organisation" else "admin.changed")
    assert {k: event.changes[k] for k in expected} == expected
    assert set(event.changes) == set(expected)
    assert verify_chain().ok


@pytest.mark.parametrize("label", sorted(CHANGES))
def test_saving_an_unchanged_form_writes_nothing(client, superuser, label):
    obj = CHANGES[label].build()
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    data = form_data(client.get(url).content.decode()) | {"_save": "Save"}
    before = AuditEvent.objects.count()
    assert client.post(url, data).status_code == 302
    assert AuditEvent.objects.count() == before


def test_an_operator_changing_an_organisation_in_the_admin_is_audited_like_its_owner(client):
    """The operator edits the name and the headcount; the SME class follows, and the chain says so."""
    call_command("setup_roles", stdout=None)
    operator = f.OperatorFactory(totp=True)
    org = f.OrganisationFactory(legal_name="Tiny Vision BV")
    client.force_login(operator)
    url = reverse("admin:accounts_organisation_change", args=[org.pk])
    data = form_data(client.get(url).content.decode())
    data.update(legal_name="Large Vision NV", headcount="400", _save="Save")

    assert client.post(url, data).status_code == 302

    org.refresh_from_db()
    assert (org.legal_name, org.headcount, org.get_sme_class_display()) == ("Large Vision NV", 400, "Not an SME")
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.actor_id == operator.pk
    assert event.changes == {"legal_name": ["Tiny Vision BV", "Large Vision NV"], "headcount": [8, 400],
                             "sme_class": ["micro", "not_sme"]}


def test_an_invalid_change_in_the_admin_changes_nothing(client, superuser):
    org = f.OrganisationFactory()
    taken = f.OrganisationFactory()
    url = reverse("admin:accounts_organisation_change", args=[org.pk])
    data = form_data(client.get(url).content.decode()) | {"vat_number": taken.vat_number, "headcount": "300",
                                                           "_save": "Save"}
    response = client.post(url, data)
    assert response.status_code == 200 and "already" in response.content.decode()
    assert Organisation.objects.get(pk=org.pk).headcount == 8
    assert not AuditEvent.objects.exists()


def test_adding_in_the_admin_is_audited(client, superuser):
    page = client.get(reverse("admin:allocations_call_add"))
    data = form_data(page.content.decode()) | {
        "title": "Autumn cut-off", "access_mode": str(f.mode("large_scale").pk), "opens_at_0": "2026-09-01",
        "opens_at_1": "09:00:00", "cutoff_at_0": "2026-10-01", "cutoff_at_1": "17:00:00", "_save": "Save"}
    assert client.post(reverse("admin:allocations_call_add"), data).status_code == 302
    event = AuditEvent.objects.get(action="admin.added")
    assert event.object_type == "allocations.call" and event.changes["title"] == [None, "Autumn cut-off"]

    response = client.post(reverse("admin:accounts_user_add"), {
        "email": "new.operator@aif.example.be", "password1": "Another-horse-battery-42",
        "password2": "Another-horse-battery-42", "_save": "Save"})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="admin.added", object_type="accounts.user").get()
    assert event.changes["email"] == [REDACTED, REDACTED] and event.changes["password"] == [REDACTED, REDACTED]
    assert "new.operator" not in str(event.changes)


def test_deleting_in_the_admin_is_audited(client, superuser):
    call = f.open_call()
    url = reverse("admin:allocations_call_delete", args=[call.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="admin.deleted")
    assert (event.object_type, event.object_id) == ("allocations.call", str(call.pk))
    assert event.changes["title"] == ["Large Scale cut-off", None]


def test_removing_a_lost_second_factor_is_audited_without_its_secret(client, superuser):
    person = f.StaffUserFactory(totp=True)
    authenticator = person.authenticator_set.get()
    url = reverse("admin:mfa_authenticator_delete", args=[authenticator.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="admin.deleted", object_type="mfa.authenticator")
    assert event.changes["user"] == [person.pk, None] and event.changes["data"] == [REDACTED, REDACTED]
    assert f.TOTP_SECRET not in str(event.changes)
    assert not person.authenticator_set.exists()


def test_a_password_set_in_the_admin_is_audited(client, superuser):
    person = f.UserFactory()
    url = reverse("admin:auth_user_password_change", args=[person.pk])
    response = client.post(url, {"password1": "Another-horse-battery-42", "password2": "Another-horse-battery-42",
                                 "usable_password": "true"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.changed", object_type="accounts.user")
    assert event.object_id == str(person.pk) and event.changes == {"password": [REDACTED, REDACTED]}
    assert User.objects.get(pk=person.pk).check_password("Another-horse-battery-42")


@pytest.mark.parametrize("path", ["accounts/membership", "accounts/invitation", "auth/group", "portal/auditevent",
                                  "allocations/allocation", "allocations/review", "account/emailaddress"])
def test_read_only_admins_refuse_a_change(client, superuser, path):
    response = client.post(f"/admin/{path}/add/", {})
    assert response.status_code == 403
