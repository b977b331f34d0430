"""The allocations part of `manage.py seed_demo`."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from allocations import demo
from allocations.aid.models import AidLedgerLine, LinkedEnterprise, SiteReferencePrice
from allocations.aid.selectors import declaration_is_current
from allocations.applications.models import Application, ApplicationStatus
from allocations.catalogue.models import Call, Site, SiteCapacity
from allocations.grants.models import Allocation
from allocations.provisioning.services import site_team
from allocations.terms.models import TermsVersion
from allocations.terms.selectors import pending_for
from allocations.terms.services import terms_accept

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_capacity_a_call_and_applications_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)  # idempotent
    assert SiteCapacity.objects.count() == Site.objects.count() * demo.QUARTERS
    assert set(SiteCapacity.objects.values_list("gpu_hours", flat=True)) == {400_000}
    now = timezone.now()
    assert Call.objects.filter(access_mode__code="large_scale", opens_at__lte=now, cutoff_at__gt=now).count() == 1
    statuses = dict(Application.objects.values_list("title", "status"))
    assert statuses == {demo.DRAFT_TITLE: ApplicationStatus.DRAFT, demo.SUBMITTED_TITLE: ApplicationStatus.SUBMITTED,
                        demo.IN_REVIEW_TITLE: ApplicationStatus.IN_REVIEW,
                        demo.ENDED_TITLE: ApplicationStatus.APPROVED,
                        demo.ACTIVE_TITLE: ApplicationStatus.APPROVED,
                        demo.GRANTED_TITLE: ApplicationStatus.APPROVED}
    submitted = Application.objects.get(title=demo.SUBMITTED_TITLE)
    assert submitted.decision_due and submitted.team.get().cluster_username == "milo"
    assert "demo applications added: none" in out.getvalue()
    ended = Application.objects.get(title=demo.ENDED_TITLE).allocation
    assert ended.is_ended and ended.final_report.status == "due"
    assert ended.final_report.due_date == ended.end_date + datetime.timedelta(days=30)
    assert ended.outputs.count() == 1


def test_the_demo_applicant_has_terms_of_use_to_accept_and_is_out_of_the_association_until_then():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert TermsVersion.objects.count() == 2
    applicant = User.objects.get(email="applicant@demo-vision.example")
    pending = pending_for(applicant)
    assert [(p.version.site_id is None, p.held_out) for p in pending] == [(True, True), (False, False)]
    allocation = Allocation.objects.get(application__title=demo.ACTIVE_TITLE)
    zellik = Site.objects.get(code="zellik")
    assert site_team(zellik).get(allocation.application_id, []) == []
    for item in pending:
        terms_accept(actor=applicant, version=item.version)
    assert site_team(zellik)[allocation.application_id] == [demo.ACTIVE_USERNAME]


def test_seed_demo_puts_the_demo_reviewers_in_pools_a_manager_can_assign_from():
    from allocations.review.models import ReviewerPool
    from allocations.review.selectors import eligible_pools

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert ReviewerPool.objects.count() == len(demo.POOLS)
    submitted = Application.objects.get(title=demo.SUBMITTED_TITLE)
    for kind in ("technical", "scientific"):
        members = {u.email for pool in eligible_pools(submitted, kind) for u in pool.members.all()}
        assert members == set(demo.REVIEWERS)


def test_demo_reviewers_can_be_assigned_to_the_demo_application_without_a_conflict():
    from accounts.models import User
    from allocations.review.selectors import detect_conflicts

    call_command("seed_demo", stdout=StringIO())
    submitted = Application.objects.get(title=demo.SUBMITTED_TITLE)
    for email in demo.REVIEWERS:
        assert detect_conflicts(User.objects.get(email=email), submitted) == []


def test_seed_demo_shows_the_aid_ledger():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    granted = Application.objects.get(title=demo.GRANTED_TITLE)
    assert granted.access_mode.aid_legal_basis == "de_minimis"
    assert SiteReferencePrice.objects.count() == Site.objects.count()
    assert LinkedEnterprise.objects.get(organisation=granted.organisation).name == demo.HOLDING
    assert declaration_is_current(granted.organisation)
    line = AidLedgerLine.objects.get()
    assert (line.allocation.application, line.kind) == (granted, "grant")
    assert line.value == line.gpu_hours * line.gpu_hour_price + line.cpu_core_hours * line.cpu_core_hour_price
    assert [m["name"] for m in line.undertaking] == [demo.HOLDING]
