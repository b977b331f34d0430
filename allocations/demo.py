"""Demo data for allocations: site capacity, an open Large Scale call, and two applications of the
demo organisation (a draft and a submitted one), written through the services. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from allocations.applications import services as applications_services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, EthicsIssue
from allocations.catalogue.models import AccessMode, Call, Site, SiteCapacity, quarter_start
from allocations.review.models import ReviewerPool
from compliance.services import assessment_save

QUARTERS = 5  # the current quarter and the next four
CAPACITY = {"gpu_hours": 400_000, "cpu_core_hours": 4_000_000, "storage_tb": Decimal("500")}
CALL_TITLE = "Large Scale call: open cut-off"

DRAFT_TITLE = "Demo: vision models for hospital logistics"
SUBMITTED_TITLE = "Demo: bilingual (FR/NL) assistant for public-service letters"


def _quarters(count: int) -> list[datetime.date]:
    day = quarter_start(timezone.localdate())
    periods = []
    for _ in range(count):
        periods.append(day)
        month = day.month + 3
        day = datetime.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return periods


def seed_capacity() -> int:
    created = 0
    for site in Site.objects.all():
        for period in _quarters(QUARTERS):
            # get_or_create: never reset what approvals already committed.
            _row, was_created = SiteCapacity.objects.get_or_create(site=site, period_start=period, defaults=CAPACITY)
            created += was_created
    return created


def seed_call() -> Call | None:
    mode = AccessMode.objects.filter(code="large_scale").first()
    if mode is None:
        return None
    now = timezone.now()
    call = Call.objects.filter(access_mode=mode, opens_at__lte=now, cutoff_at__gt=now).first()
    if call is None:
        call = Call.objects.create(access_mode=mode, title=CALL_TITLE, opens_at=now - datetime.timedelta(days=7),
                                   cutoff_at=now + datetime.timedelta(days=60))
    return call


def _draft(applicant, organisation) -> Application:
    app = applications_services.application_create(actor=applicant, organisation=organisation, title=DRAFT_TITLE)
    applications_services.application_update_step(actor=applicant, application=app, step="project", data={
        "abstract": "Fine-tune an open vision model to follow medical supplies through hospital corridors.",
        "sector": "health", "civilian_purpose": True})
    return app


def _submitted(applicant, colleague, organisation) -> Application:
    app = applications_services.application_create(actor=applicant, organisation=organisation, title=SUBMITTED_TITLE)
    applications_services.application_update_step(actor=applicant, application=app, step="project", data={
        "abstract": "Fine-tune a 7B open-weights language model on public letters in French and Dutch, to help "
                    "municipalities answer citizens in both languages.",
        "public_summary": "A bilingual assistant that helps Belgian municipalities answer citizens' letters.",
        "sector": "public_services", "civilian_purpose": True, "dual_use": False, "rd_type": "open"})
    mode = AccessMode.objects.get(code="fast_lane")
    site = Site.objects.filter(is_active=True, offers_gpu_hours=True).order_by("name").first()
    applications_services.application_save_resources(
        actor=applicant, application=app,
        data={"access_mode": mode, "call": None, "start_date": timezone.localdate() + datetime.timedelta(days=21),
              "duration_months": 3},
        rows=[{"site": site, "gpu_hours": 12_000, "cpu_core_hours": 50_000, "storage_tb": Decimal("5")}])
    applications_services.application_update_step(actor=applicant, application=app, step="model", data={
        "model_activity": "fine_tune", "model_family": "Transformer decoder", "parameter_count": 7_000_000_000,
        "training_tokens": 2_000_000_000, "base_model_name": "Mistral-7B-v0.3", "base_model_flop": 8.4e22})
    assessment_save(actor=applicant, application=app, answers={
        "research_only": "yes", "prohibited_practices": ["none"], "intimate_imagery": "no"})
    applications_services.team_member_add(actor=applicant, application=app, full_name=colleague.display_name,
                             email=colleague.email, cluster_username="milo")
    applications_services.application_set_ethics_issues(actor=applicant, application=app, issues={
        code: {"answer": code == EthicsIssue.PERSONAL_DATA,
               "text": "Letters are pseudonymised before training; a DPIA is on file."
               if code == EthicsIssue.PERSONAL_DATA else ""}
        for code in EthicsIssue.values})
    return applications_services.application_submit(actor=applicant, application=app,
                                                     declaration_version=DECLARATION_VERSION)


REVIEWERS = ["reviewer@demo.aifactory.eu", "reviewer2@demo.aifactory.eu"]
POOLS = [  # name, kind, restricted sectors
    ("Technical reviewers", "technical", []),
    ("Scientific reviewers", "scientific", []),
    ("Restricted technical (defence, security)", "technical", ["defence", "security"]),
    ("Restricted scientific (defence, security)", "scientific", ["defence", "security"]),
]


def seed_pools(users) -> int:
    """Reviewer pools with the demo reviewers, so a manager can assign reviews right away."""
    reviewers = [users[email] for email in REVIEWERS if email in users]
    created = 0
    for name, kind, sectors in POOLS:
        pool, made = ReviewerPool.objects.get_or_create(
            name=name, defaults={"kind": kind, "restricted_sectors": sectors})
        pool.members.add(*reviewers)
        created += made
    return created


def seed(*, users, organisation, stdout) -> None:
    applicant = users["applicant@demo-vision.example"]
    colleague = users.get("member@demo-vision.example", applicant)
    pools = seed_pools(users)
    created = seed_capacity()
    call = seed_call()
    titles = set(Application.objects.filter(organisation=organisation).values_list("title", flat=True))
    made = []
    if DRAFT_TITLE not in titles:
        made.append(_draft(applicant, organisation))
    if SUBMITTED_TITLE not in titles:
        made.append(_submitted(applicant, colleague, organisation))
    stdout.write(f"Allocations: {pools} reviewer pools added, "
                 f"{created} site-quarter capacity rows added, call: {call.title if call else '-'}, "
                 f"demo applications added: {', '.join(a.reference for a in made) or 'none'}")
