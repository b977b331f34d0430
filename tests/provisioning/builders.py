"""Build an approved allocation through the real services (no shortcuts past the rules)."""

import datetime

from django.utils import timezone

from allocations.applications.models import Application, ApplicationStatus, TeamMember
from allocations.catalogue.models import AccessMode, Site, SiteCapacity, quarter_start
from allocations.review.services import application_approve
from compliance.models import EthicsReview, EthicsStatus, RiskAssessment
from tests.factories import AllocationManagerFactory, MembershipFactory, OrganisationFactory, UserFactory


def ensure_reference_data() -> None:
    """Transactional tests flush the tables, data-migration rows included: put sites and modes back."""
    if not AccessMode.objects.exists():
        import importlib

        from django.apps import apps

        importlib.import_module("allocations.migrations.0002_reference_data").load(apps, None)


def ensure_capacity(start: datetime.date, gpu_hours: int = 1_000_000, cpu_hours: int = 10_000_000) -> None:
    for site in Site.objects.all():
        SiteCapacity.objects.get_or_create(site=site, period_start=quarter_start(start),
                                           defaults={"gpu_hours": gpu_hours, "cpu_core_hours": cpu_hours,
                                                     "storage_tb": 1000})


def approved_allocation(*, gpu=100, cpu=1000, users=("alice",), start=None, sites=("zellik",), manager=None):
    """An application awaiting decision with a complete assessment and cleared ethics, approved."""
    start = start or timezone.localdate()
    ensure_reference_data()
    ensure_capacity(start)
    org = OrganisationFactory()
    applicant = UserFactory()
    MembershipFactory(user=applicant, organisation=org)
    n = Application.objects.count() + 1
    app = Application.objects.create(
        reference=f"AIF-2026-{9000 + n:04d}", organisation=org, created_by=applicant, title=f"Project {n}",
        status=ApplicationStatus.AWAITING_DECISION, access_mode=AccessMode.objects.get(code="fast_lane"),
        start_date=start, duration_months=2)
    for code in sites:
        app.resources.create(site=Site.objects.get(code=code), gpu_hours=gpu, cpu_core_hours=cpu)
    for i, username in enumerate(users):
        TeamMember.objects.create(application=app, full_name=f"Member {i}", email=f"{username}@example.org",
                                  cluster_username=username, confirmed_at=timezone.now())
    RiskAssessment.objects.create(application=app, ruleset_version="2026-omnibus", ruleset_sha256="0" * 64,
                                  result={"classification": "minimal", "flags": {}}, classification="minimal",
                                  complete=True)
    EthicsReview.objects.create(application=app, status=EthicsStatus.AUTO_CLEARED)
    manager = manager or AllocationManagerFactory()
    quotas = {Site.objects.get(code=code).pk: {"gpu_hours": gpu, "cpu_core_hours": cpu} for code in sites}
    allocation = application_approve(actor=manager, application=app, quotas=quotas)
    return allocation, manager, applicant
