"""The person's terms page, the dashboard and allocation page, and the operator's pages."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Membership
from allocations.applications.models import TeamMember
from allocations.terms.models import TermsAcceptance, TermsVersion
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""


def granted(users=("alice",), sites=("zellik",)):
    allocation, _manager, applicant = f.approved_allocation(users=users, sites=sites)
    accounts = {m.cluster_username: f.member_account(m)
                for m in TeamMember.objects.filter(application_id=allocation.application_id)}
    return allocation, accounts, applicant


def test_the_terms_page_lists_what_is_pending_with_the_deadline_and_accepting_it_works(client):
    _allocation, accounts, _applicant = granted(sites=("zellik", "charleroi"))
    today = timezone.localdate()
    platform = f.terms_version(title="Platform rules", text="No mining.\n\nNo sharing of accounts.")
    site_terms = f.terms_version(site=f.site("charleroi"), title="Charleroi rules",
                                 effective=today + datetime.timedelta(days=12))
    client.force_login(accounts["alice"])
    page = client.get("/terms/").content.decode()
    assert "Platform rules v1" in page and "Charleroi rules v1" in page and "No sharing of accounts." in page
    assert "Until you accept, you are not a member" in page  # the platform version is in force
    assert f"Accept before {date_format(site_terms.effective_date, 'DATE_FORMAT')} " in page

    response = client.post(f"/terms/{platform.pk}/accept/", follow=True)
    assert response.redirect_chain[-1][0] == "/terms/"
    assert "You accepted Platform terms of use (version 1)." in response.content.decode()
    assert TermsAcceptance.objects.filter(user=accounts["alice"], version=platform).exists()
    page = response.content.decode()
    assert "Platform rules v1" in page.split("Terms you accepted")[1]


def test_a_refused_acceptance_is_an_error_message_and_an_unknown_version_a_404(client):
    _allocation, accounts, _applicant = granted()
    old = f.terms_version()
    f.terms_version()
    client.force_login(accounts["alice"])
    response = client.post(f"/terms/{old.pk}/accept/", follow=True)
    assert "A newer version of these terms was published" in response.content.decode()
    assert client.post("/terms/999999/accept/").status_code == 404
    assert client.get(f"/terms/{old.pk}/accept/").status_code == 405
    assert not TermsAcceptance.objects.exists()


def test_the_dashboard_and_the_allocation_page_show_what_is_pending(client):
    allocation, accounts, applicant = granted(users=("alice", "bob"))
    today = timezone.localdate()
    first = f.terms_version(title="Platform rules", effective=today - datetime.timedelta(days=9))
    f.accept_terms(accounts["bob"], first)
    f.terms_version(title="Platform rules", effective=today, grace_days=20)
    alice = accounts["alice"]
    Membership.objects.create(user=alice, organisation=allocation.organisation, role="member")
    client.force_login(alice)
    dashboard = client.get("/dashboard/").content.decode()
    assert "Terms of use to accept" in dashboard and "Platform rules v2" in dashboard
    assert "you are out of the clusters' accounts until you accept" in dashboard
    detail = client.get(allocation.get_absolute_url()).content.decode()
    assert "You have 1 version of the terms of use to accept." in detail
    section = detail.split('id="terms-heading"')[1]
    assert "Member 0" in section and "Zellik" in section  # alice: not accepted, out of Zellik
    bob = section.split("Member 1")[1].split("</tr>")[0]
    assert "none yet (grace period)" in bob  # bob accepted v1; v2 is in its grace period


def test_nothing_is_shown_when_no_terms_are_published(client):
    allocation, accounts, _applicant = granted()
    Membership.objects.create(user=accounts["alice"], organisation=allocation.organisation, role="member")
    client.force_login(accounts["alice"])
    assert "Terms of use to accept" not in client.get("/dashboard/").content.decode()
    assert 'id="terms-heading"' not in client.get(allocation.get_absolute_url()).content.decode()
    assert "Nothing to accept" in client.get("/terms/").content.decode()


def test_the_operator_sees_per_site_who_has_not_accepted_and_whether_they_are_held_out(client):
    allocation, accounts, _applicant = granted(users=("alice", "bob", "carl"), sites=("zellik", "charleroi"))
    today = timezone.localdate()
    v1 = f.terms_version(effective=today - datetime.timedelta(days=40))
    f.accept_terms(accounts["bob"], v1)
    f.accept_terms(accounts["alice"], v1)
    TermsVersion.objects.filter(pk=v1.pk).update(resynced_on=v1.effective_date)
    v2 = f.terms_version(effective=today - datetime.timedelta(days=2), grace_days=30)
    f.accept_terms(accounts["alice"], v2)
    client.force_login(f.OperatorFactory())
    page = client.get("/staff/terms/").content.decode()
    zellik = page.split('id="site-zellik"')[1].split("</section>")[0]
    rows = {row.split("</td>")[0]: row for row in zellik.split("<tr><td>")[1:]}
    assert not any("Member 0" in name for name in rows), "alice accepted v2"
    bob = next(row for name, row in rows.items() if "Member 1" in name)
    carl = next(row for name, row in rows.items() if "Member 2" in name)
    assert "Yes, in the grace period" in bob and "Held out" in carl
    assert allocation.reference in bob


def test_the_operator_page_costs_the_same_queries_for_more_people(client):
    operator = f.OperatorFactory()
    f.terms_version()
    granted(users=("alice",), sites=("zellik", "charleroi"))
    client.force_login(operator)
    client.get("/staff/terms/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/staff/terms/").status_code == 200
    granted(users=("bob", "carl", "dora"), sites=("zellik", "charleroi"))
    granted(users=("emil", "fay"))
    with CaptureQueriesContext(connection) as many:
        assert client.get("/staff/terms/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_person_pages_cost_the_same_queries_for_more_allocations(client):
    _allocation, accounts, _applicant = granted(users=("alice",))
    f.terms_version()
    f.terms_version(site=f.site("zellik"))
    client.force_login(accounts["alice"])
    client.get("/terms/")
    with CaptureQueriesContext(connection) as few:
        client.get("/terms/")
    for _ in range(3):
        other, _manager, _applicant = f.approved_allocation(users=("alice",), sites=("zellik", "charleroi"))
        TeamMember.objects.filter(application_id=other.application_id).update(user=accounts["alice"])
    f.terms_version(site=f.site("charleroi"))
    with CaptureQueriesContext(connection) as many:
        client.get("/terms/")
    assert len(many) == len(few)


def test_publishing_through_the_page_shows_errors_next_to_the_field_and_then_publishes(client):
    client.force_login(f.OperatorFactory())
    assert client.get("/staff/terms/publish/").status_code == 200
    data = {"site": "", "effective_date": "2020-01-01", "grace_days": "30", "title_en": "Rules", "text_en": ""}
    page = client.post("/staff/terms/publish/", data).content.decode()
    assert 'id="id_text_en_error"' in page and 'id="id_effective_date_error"' in page
    assert not TermsVersion.objects.exists()
    data.update(effective_date=timezone.localdate().isoformat(), text_en="Be fair.", site=str(f.site("zellik").pk))
    response = client.post("/staff/terms/publish/", data)
    assert response.status_code == 302 and response["Location"] == "/staff/terms/"
    version = TermsVersion.objects.get()
    assert (version.site.code, version.number, version.text_en) == ("zellik", 1, "Be fair.")


def test_the_operator_pages_are_for_operators(client):
    client.force_login(f.AllocationManagerFactory())
    assert client.get("/staff/terms/").status_code == 403
    assert client.post("/staff/terms/publish/", {}).status_code == 403
    client.force_login(f.UserFactory())
    assert client.get("/staff/terms/").status_code == 403


def test_the_provisioning_site_page_counts_who_is_held_out_and_links_the_list(client):
    _allocation, accounts, _applicant = granted(users=("alice", "bob"))
    f.accept_terms(accounts["alice"], f.terms_version())
    client.force_login(f.OperatorFactory())
    page = client.get("/staff/provisioning/sites/zellik/").content.decode()
    assert "1 team member has not accepted the terms of use in force (1 held out of the associations)." in page
    assert 'href="/staff/terms/#site-zellik"' in page


def test_an_ended_allocation_elsewhere_on_the_site_does_not_hide_the_persons_terms(client):
    _allocation, accounts, _applicant = granted(users=("alice",))
    f.allocation(status="expired")  # another organisation's allocation on the same site, ended
    site_terms = f.terms_version(site=f.site("zellik"))
    client.force_login(accounts["alice"])
    assert site_terms.title_en in client.get("/terms/").content.decode()
