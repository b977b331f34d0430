"""Builders for the review, decision and lifecycle tests.

Most tests here are about what happens *after* submission, so `application()` writes the rows
directly (with a complete AI Act assessment and an ethics review in the wanted state) for speed;
`awaiting_decision()` then walks the review path through the real services, and
`tests.allocations.factories.submitted` covers the full applicant path where that matters."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Membership, MembershipRole
from accounts.roles import ROLE_GROUPS
from allocations.applications.models import Application, ApplicationStatus, RequestedResource, TeamMember
from allocations.applications.services import next_application_reference
from allocations.catalogue.models import AccessMode, Site, SiteCapacity, quarter_start
from allocations.grants.models import Allocation, AllocationQuota, AllocationStatus, SyncState
from allocations.grants.services import slurm_account_for
from allocations.review import services as review_services
from allocations.review.models import ReviewerPool
from compliance.ai_act import RiskClass
from compliance.models import EthicsCondition, EthicsReview, EthicsStatus, RiskAssessment
from tests import factories as shared

_seq = itertools.count(1)


def site(code: str = "zellik") -> Site:
    return Site.objects.get(code=code)


def mode(code: str = "fast_lane") -> AccessMode:
    return AccessMode.objects.get(code=code)


def start_soon() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=14)


def set_capacity(*, site_code: str = "zellik", period: datetime.date | None = None, gpu_hours: int = 400_000,
                 cpu_core_hours: int = 4_000_000, storage_tb: Decimal = Decimal("500")) -> SiteCapacity:
    period = quarter_start(period or start_soon())
    row, _ = SiteCapacity.objects.update_or_create(
        site=site(site_code), period_start=period,
        defaults={"gpu_hours": gpu_hours, "cpu_core_hours": cpu_core_hours, "storage_tb": storage_tb,
                  "committed_gpu_hours": 0, "committed_cpu_core_hours": 0, "committed_storage_tb": 0})
    return row


# --- people ---------------------------------------------------------------------------------------

def applicant(organisation=None, *, domain: str | None = None, owner: bool = True):
    """A member of an organisation, with an address at the organisation's own domain."""
    n = next(_seq)
    organisation = organisation or shared.OrganisationFactory()
    user = shared.UserFactory(email=f"applicant{n}@{domain or f'org{organisation.pk}.example.com'}")
    Membership.objects.create(user=user, organisation=organisation,
                              role=MembershipRole.OWNER if owner else MembershipRole.MEMBER)
    return user


def reviewer(*, kind: str = "technical", pool: ReviewerPool | None = None, email: str | None = None, totp=True):
    """A reviewer at their own institution's domain, member of a (general) pool of `kind`."""
    n = next(_seq)
    person = shared.ReviewerFactory(email=email or f"reviewer{n}@institute{n}.example.org",
                                    full_name=f"Reviewer Number{n}", totp=totp)
    pool = pool or general_pool(kind)
    pool.members.add(person)
    return person


def general_pool(kind: str = "technical") -> ReviewerPool:
    return ReviewerPool.objects.get_or_create(name=f"General {kind}", defaults={"kind": kind})[0]


def restricted_pool(sector: str = "defence", kind: str = "technical") -> ReviewerPool:
    return ReviewerPool.objects.get_or_create(name=f"Restricted {sector} {kind}",
                                              defaults={"kind": kind, "restricted_sectors": [sector]})[0]


def manager(totp=True):
    n = next(_seq)
    return shared.AllocationManagerFactory(email=f"manager{n}@aif.example.be", totp=totp)


def give_role(user, role: str):
    user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[role])[0])
    user.__dict__.pop("_aif_roles", None)
    return user


# --- applications ---------------------------------------------------------------------------------

def application(*, status: str = ApplicationStatus.SUBMITTED, organisation=None, member=None,
                access_mode: str = "fast_lane", sector: str = "health", requests: dict | None = None,
                start: datetime.date | None = None, duration: int | None = None,
                ethics: str = EthicsStatus.AUTO_CLEARED, prohibited: bool = False,
                classification: str = RiskClass.MINIMAL, decision_due: datetime.date | None = None,
                title: str | None = None) -> Application:
    """An application written directly in `status`, with its assessment and ethics review."""
    if member is None:
        member = applicant(organisation)
    organisation = organisation or Membership.objects.filter(user=member).first().organisation
    the_mode = mode(access_mode)
    n = next(_seq)
    now = timezone.now()
    app = Application.objects.create(
        reference=next_application_reference(), organisation=organisation, created_by=member, status=status,
        title=title or f"Protein folding model {n}", abstract=f"Confidential abstract {n}.",
        public_summary="Faster drug discovery.", sector=sector, civilian_purpose=True, dual_use=False,
        rd_type="open", access_mode=the_mode, start_date=start or start_soon(),
        duration_months=duration or the_mode.allowed_durations[0], model_activity="fine_tune",
        model_family="ESM", parameter_count=650_000_000, training_tokens=1_000_000_000, base_model_name="ESM-2",
        open_weights=True, ethics_issues={},
        submitted_at=None if status == ApplicationStatus.DRAFT else now,
        decision_due=decision_due, decided_at=now if status in (ApplicationStatus.APPROVED,
                                                               ApplicationStatus.REJECTED) else None)
    for code, gpu in (requests or {"zellik": 1000}).items():
        RequestedResource.objects.create(application=app, site=site(code), gpu_hours=gpu, cpu_core_hours=500,
                                         storage_tb=Decimal("2"))
    TeamMember.objects.create(application=app, full_name="Ada Scientist", email=f"ada{n}@example.com",
                              cluster_username=f"ada{n}", confirmed_at=now, invited_at=now)
    RiskAssessment.objects.create(application=app, ruleset_version="2026-omnibus", ruleset_sha256="0" * 64,
                                  answers={}, result={"classification": classification},
                                  classification=classification, prohibited=prohibited, complete=True)
    if status != ApplicationStatus.DRAFT:
        EthicsReview.objects.create(application=app, status=ethics, reasons="" if ethics != "refused" else "No.")
    return app


def awaiting_decision(**kwargs) -> Application:
    """In review -> every review on the mode's path submitted through the services."""
    app = application(status=ApplicationStatus.IN_REVIEW, **kwargs)
    boss = manager()
    for kind, count in (app.access_mode.review_path or {}).items():
        if kind not in ("technical", "scientific"):
            continue
        for _ in range(int(count)):
            submit_review(app, reviewer(kind=kind), kind=kind, actor=boss)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION, app.status
    return app


def full_scores(app: Application, value: int = 4) -> dict[str, int]:
    return {c["code"]: value for c in app.access_mode.rubric}


def submit_review(app, person, *, kind="technical", actor=None, value=4, recommendation="approve",
                  for_applicant="Clear plan; justify the storage.", for_committee="Solid team."):
    assignment = review_services.reviewer_assign(actor=actor or manager(), application=app, reviewer=person, kind=kind)
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    return review_services.review_submit(actor=person, assignment=assignment, scores=full_scores(app, value),
                                 recommendation=recommendation, comments_for_committee=for_committee,
                                 comments_for_applicant=for_applicant)


def add_condition(app: Application, text: str = "Delete the raw images after training.") -> EthicsCondition:
    review = EthicsReview.objects.get(application=app)
    review.status = EthicsStatus.CLEARED_WITH_CONDITIONS
    review.save(update_fields=["status"])
    return EthicsCondition.objects.create(review=review, text=text)


# --- allocations ----------------------------------------------------------------------------------

def allocation(*, status: str = AllocationStatus.ACTIVE, start: datetime.date | None = None,
               end: datetime.date | None = None, gpu_hours: int = 1000, member=None, organisation=None,
               sync_state: str = SyncState.IN_SYNC) -> Allocation:
    """A granted allocation written directly in `status` (approved application behind it)."""
    today = timezone.localdate()
    start = start or today - datetime.timedelta(days=10)
    app = application(status=ApplicationStatus.APPROVED, member=member, organisation=organisation,
                      start=start, requests={"zellik": gpu_hours})
    alloc = Allocation.objects.create(
        application=app, organisation=app.organisation, reference=app.reference, status=status,
        start_date=start, end_date=end or start + datetime.timedelta(days=90),
        slurm_account=slurm_account_for(app.reference), sync_state=sync_state,
        desired_version=3, synced_version=3 if sync_state == SyncState.IN_SYNC else 2)
    AllocationQuota.objects.create(allocation=alloc, site=site("zellik"), gpu_hours=gpu_hours,
                                   cpu_core_hours=500, storage_tb=Decimal("2"))
    return alloc
