"""Demo data for allocations: site capacity, an open Large Scale call, and the demo organisation's
applications, written through the services: a draft, a submitted one, one in review with a project plan in
PDF (assigned to the demo reviewer and waiting for the ethics officer), and one granted under the Playground,
which the demo makes de minimis aid (reference prices on both sites, a linked enterprise, a self-declaration
and the grant's line in the aid ledger); an allocation that ended ten days ago, whose final report is due in
twenty days, with one output recorded; and an active allocation whose team holds the demo applicant, who has
still to accept the demo terms of use (allocations.terms.demo). Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from allocations.aid import services as aid_services
from allocations.aid.choices import LegalBasis
from allocations.aid.models import LinkedEnterprise, LinkRelation, SiteReferencePrice
from allocations.aid.selectors import declaration_is_current
from allocations.applications import services as applications_services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, AttachmentKind, EthicsIssue, TeamMember
from allocations.applications.services import next_application_reference
from allocations.catalogue.models import AccessMode, Call, Site, SiteCapacity, quarter_start
from allocations.grants.models import Allocation, AllocationQuota, AllocationStatus, SyncState
from allocations.grants.services import slurm_account_for
from allocations.outcomes import services as outcomes_services
from allocations.outcomes.models import OutputKind
from allocations.review import services as review_services
from allocations.review.models import ReviewerPool, ReviewKind
from allocations.terms.demo import seed_terms
from compliance.services import assessment_save

QUARTERS = 5  # the current quarter and the next four
CAPACITY = {"gpu_hours": 400_000, "cpu_core_hours": 4_000_000, "storage_tb": Decimal("500")}
CALL_TITLE = "Large Scale call: open cut-off"

DRAFT_TITLE = "Demo: vision models for hospital logistics"
SUBMITTED_TITLE = "Demo: bilingual (FR/NL) assistant for public-service letters"
IN_REVIEW_TITLE = "Demo: speech recognition for Belgian call centres"
ENDED_TITLE = "Demo: Dutch speech model for customer service (ended)"
ENDED_DAYS_AGO = 10
ACTIVE_TITLE = "Demo: handwriting recognition for municipal archives (active)"
ACTIVE_USERNAME = "demovision"
PLAN_NAME = "project-plan.pdf"
GRANTED_TITLE = "Demo: defect detection on a bakery production line"
REVIEWER = "reviewer@demo.aifactory.eu"
REVIEWER2 = "reviewer2@demo.aifactory.eu"
MANAGER = "manager@demo.aifactory.eu"
OPERATOR = "operator@demo.aifactory.eu"


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


# How applicants reach the demo sites (allocation page): example hosts, never real ones.
SITE_CONNECTIONS = {
    "zellik": {"login_host": "login.zellik.aifactory.example", "default_partition": "gpu", "gpu_gres_type": "h100",
               "documentation_url": "https://docs.aifactory.example/zellik/"},
    "charleroi": {"login_host": "login.charleroi.aifactory.example", "default_partition": "gpu",
                  "gpu_gres_type": "h200", "documentation_url": "https://docs.aifactory.example/charleroi/"},
}


def seed_site_connections() -> int:
    """Fill the connection details of the demo sites an operator has not filled (safe to repeat)."""
    changed = 0
    for code, values in SITE_CONNECTIONS.items():
        changed += Site.objects.filter(code=code, login_host="").update(**values)
    return changed


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


def _filled(applicant, colleague, organisation, *, title: str, project: dict, mode: str, starts_in_days: int,
            months: int, request: tuple[int, int, str], model: dict, personal_data: str = "") -> Application:
    """A draft with every step filled as a demo applicant would: project, resources on the first GPU site,
    model, the AI Act answers of a research project, the colleague on the team, the ethics issues (personal
    data declared with ``personal_data`` as the answer, when given). Ready to submit."""
    app = applications_services.application_create(actor=applicant, organisation=organisation, title=title)
    applications_services.application_update_step(actor=applicant, application=app, step="project", data=project)
    site = Site.objects.filter(is_active=True, offers_gpu_hours=True).order_by("name").first()
    gpu_hours, cpu_core_hours, storage_tb = request
    applications_services.application_save_resources(
        actor=applicant, application=app,
        data={"access_mode": AccessMode.objects.get(code=mode), "call": None,
              "start_date": timezone.localdate() + datetime.timedelta(days=starts_in_days), "duration_months": months},
        rows=[{"site": site, "gpu_hours": gpu_hours, "cpu_core_hours": cpu_core_hours,
               "storage_tb": Decimal(storage_tb)}])
    applications_services.application_update_step(actor=applicant, application=app, step="model", data=model)
    assessment_save(actor=applicant, application=app, answers={
        "research_only": "yes", "prohibited_practices": ["none"], "intimate_imagery": "no"})
    applications_services.team_member_add(actor=applicant, application=app, full_name=colleague.display_name,
                                          email=colleague.email, cluster_username="milo")
    applications_services.application_set_ethics_issues(actor=applicant, application=app, issues={
        code: {"answer": bool(personal_data) and code == EthicsIssue.PERSONAL_DATA,
               "text": personal_data if code == EthicsIssue.PERSONAL_DATA else ""}
        for code in EthicsIssue.values})
    return app


def _submitted(applicant, colleague, organisation) -> Application:
    app = _filled(applicant, colleague, organisation, title=SUBMITTED_TITLE, project={
        "abstract": "Fine-tune a 7B open-weights language model on public letters in French and Dutch, to help "
                    "municipalities answer citizens in both languages.",
        "public_summary": "A bilingual assistant that helps Belgian municipalities answer citizens' letters.",
        "sector": "public_services", "civilian_purpose": True, "dual_use": False, "rd_type": "open"},
        mode="fast_lane", starts_in_days=21, months=3, request=(12_000, 50_000, "5"), model={
        "model_activity": "fine_tune", "model_family": "Transformer decoder", "parameter_count": 7_000_000_000,
        "training_tokens": 2_000_000_000, "base_model_name": "Mistral-7B-v0.3", "base_model_flop": 8.4e22},
        personal_data="Letters are pseudonymised before training; a DPIA is on file.")
    return applications_services.application_submit(actor=applicant, application=app,
                                                     declaration_version=DECLARATION_VERSION)


def pdf_document(title: str, lines: list[str]) -> bytes:
    """A one-page PDF (Helvetica, ASCII text) written out by hand: small, valid, with nothing active in it,
    so that it passes the attachment check (allocations.applications.pdf) like any uploaded plan."""

    def text(value: str) -> bytes:
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii")

    content = b"BT /F1 18 Tf 72 770 Td (" + text(title) + b") Tj /F1 11 Tf 16 TL 0 -12 Td"
    for line in lines:
        content += b" (" + text(line) + b") '"
    content += b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PROJECT_PLAN = pdf_document("Project plan: speech recognition for Belgian call centres", [
    "Demo Vision Analytics BV - AI Factory Fast Lane application",
    "",
    "1. Objectives",
    "Fine-tune an open speech recognition model on call-centre recordings in French, Dutch",
    "and German, with the accents and dialects heard in Belgium.",
    "",
    "2. Work plan and resources",
    "Month 1: data preparation and pseudonymisation (CPU). Month 2: fine-tuning on 8 GPUs.",
    "Month 3: evaluation per language and dialect; publication of the weights.",
    "",
    "3. Data protection",
    "Recordings are pseudonymised before they leave the customer; a DPIA is on file.",
])


def _in_review(applicant, colleague, organisation, manager, reviewer) -> Application:
    """Submitted with a project plan, found eligible by the demo manager, assigned to the demo reviewer."""
    app = _filled(applicant, colleague, organisation, title=IN_REVIEW_TITLE, project={
        "abstract": "Fine-tune an open-weights speech recognition model on pseudonymised call-centre recordings "
                    "in French, Dutch and German, to transcribe calls with Belgian accents and dialects.",
        "public_summary": "Speech recognition that understands the three national languages of Belgium.",
        "sector": "other", "civilian_purpose": True, "dual_use": False, "rd_type": "open"},
        mode="fast_lane", starts_in_days=28, months=3, request=(8_000, 40_000, "3"), model={
        "model_activity": "fine_tune", "model_family": "Encoder-decoder transformer (speech)",
        "parameter_count": 1_550_000_000, "training_tokens": 900_000_000, "base_model_name": "Whisper large-v3",
        "open_weights": True},
        personal_data="Callers' voices are personal data: recordings are pseudonymised; a DPIA is on file.")
    applications_services.attachment_add(
        actor=applicant, application=app, kind=AttachmentKind.PROJECT_PLAN,
        upload=SimpleUploadedFile(PLAN_NAME, PROJECT_PLAN, content_type="application/pdf"))
    app = applications_services.application_submit(actor=applicant, application=app,
                                                    declaration_version=DECLARATION_VERSION)
    app = review_services.application_check_eligibility(actor=manager, application=app, eligible=True)
    review_services.reviewer_assign(actor=manager, application=app, reviewer=reviewer, kind=ReviewKind.TECHNICAL)
    return app


# The demo's reference prices (EUR per GPU-hour, per CPU core-hour): illustrations, not the AI Factory's prices.
DEMO_PRICES = {"zellik": (Decimal("2.40"), Decimal("0.0200")), "charleroi": (Decimal("1.90"), Decimal("0.0150"))}
HOLDING = "Demo Vision Holding SA"


def seed_aid(applicant, organisation) -> None:
    """The Playground as de minimis aid (refusing above the ceiling), a reference price per site, the demo
    organisation's parent outside the portal and its self-declaration of de minimis aid."""
    mode = AccessMode.objects.filter(code="playground").first()
    if mode is not None and mode.aid_legal_basis == LegalBasis.NONE:
        mode.aid_legal_basis = LegalBasis.DE_MINIMIS
        mode.save(update_fields=["aid_legal_basis"])
    for site in Site.objects.all():
        gpu, cpu = DEMO_PRICES.get(site.code, (Decimal("2.00"), Decimal("0.0200")))
        if not SiteReferencePrice.objects.filter(site=site).exists():
            SiteReferencePrice.objects.create(
                site=site, valid_from=datetime.date(2026, 1, 1), gpu_hour_price=gpu, cpu_core_hour_price=cpu,
                source="Demo figure: the price of commercial access, for illustration only")
    if not LinkedEnterprise.objects.filter(organisation=organisation, name=HOLDING).exists():
        aid_services.linked_enterprise_add(actor=applicant, organisation=organisation, relation=LinkRelation.OWNER,
                                           name=HOLDING, country="LU", vat_number="LU26375245")
    if not declaration_is_current(organisation):
        aid_services.aid_self_declare(actor=applicant, organisation=organisation, aids=[{
            "amount": Decimal("45000.00"), "granted_on": timezone.localdate() - datetime.timedelta(days=400),
            "granting_authority": "VLAIO (Flanders Innovation & Entrepreneurship)"}])


def _granted(applicant, colleague, organisation, manager, reviewer) -> Application:
    """A Playground application (de minimis aid) reviewed by the second demo reviewer and approved by the demo
    manager: its value is in the aid ledger."""
    app = _filled(applicant, colleague, organisation, title=GRANTED_TITLE, project={
        "abstract": "Train a small vision model that spots burnt or misshapen loaves on a bakery's production line.",
        "public_summary": "Less food waste on a production line, with a small open vision model.",
        "sector": "manufacturing", "civilian_purpose": True, "dual_use": False, "rd_type": "product",
        "route_to_market": "Sold to the bakery's equipment supplier as an option of its line."},
        mode="playground", starts_in_days=14, months=2, request=(1_500, 10_000, "1"), model={
        "model_activity": "fine_tune", "model_family": "Convolutional network", "parameter_count": 25_000_000,
        "training_tokens": 50_000_000, "base_model_name": "ResNet-50", "open_weights": True})
    mode = AccessMode.objects.get(code="playground")
    site = app.resources.get().site
    app = applications_services.application_submit(actor=applicant, application=app,
                                                    declaration_version=DECLARATION_VERSION)
    app = review_services.application_check_eligibility(actor=manager, application=app, eligible=True)
    assignment = review_services.reviewer_assign(actor=manager, application=app, reviewer=reviewer,
                                                 kind=ReviewKind.TECHNICAL)
    review_services.reviewer_declare(actor=reviewer, assignment=assignment, has_conflict=False)
    review_services.review_submit(
        actor=reviewer, assignment=assignment, scores={c["code"]: 4 for c in mode.rubric}, recommendation="approve",
        comments_for_committee="Small, well-scoped request.", comments_for_applicant="Clear plan.")
    review_services.application_approve(
        actor=manager, application=Application.objects.get(pk=app.pk),
        quotas={site.pk: {"gpu_hours": 1_500, "cpu_core_hours": 10_000, "storage_tb": Decimal("1")}},
        reasons="Within the Playground's limits.")
    return Application.objects.get(pk=app.pk)


REVIEWERS = ["reviewer@demo.aifactory.eu", "reviewer2@demo.aifactory.eu"]
POOLS = [  # name, kind, restricted sectors
    ("Technical reviewers", "technical", []),
    ("Scientific reviewers", "scientific", []),
    ("Restricted technical (defence, security)", "technical", ["defence", "security"]),
    ("Restricted scientific (defence, security)", "scientific", ["defence", "security"]),
]


def _ended(applicant, organisation) -> Application:
    """A Fast Lane allocation that ran for three months and ended ten days ago: its final report is open
    (due 30 days after the end) and a released model is recorded. The grant is written directly, as the
    review of a past call would have left it; the report and the output go through their services."""
    end = timezone.localdate() - datetime.timedelta(days=ENDED_DAYS_AGO)
    start = end - datetime.timedelta(days=90)
    app = Application.objects.create(
        reference=next_application_reference(), organisation=organisation, created_by=applicant,
        status="approved", title=ENDED_TITLE, access_mode=AccessMode.objects.get(code="fast_lane"),
        abstract="Fine-tune an open speech model on Dutch customer-service calls.", sector="public_services",
        start_date=start, duration_months=3, submitted_at=timezone.now(), decided_at=timezone.now())
    alloc = Allocation.objects.create(
        application=app, organisation=organisation, reference=app.reference, status=AllocationStatus.EXPIRED,
        start_date=start, end_date=end, slurm_account=slurm_account_for(app.reference),
        sync_state=SyncState.IN_SYNC, desired_version=1, synced_version=1)
    site = Site.objects.filter(is_active=True, offers_gpu_hours=True).order_by("name").first()
    AllocationQuota.objects.create(allocation=alloc, site=site, gpu_hours=8_000, cpu_core_hours=40_000)
    outcomes_services.final_report_open(allocation=alloc)
    outcomes_services.output_record(actor=applicant, allocation=alloc, kind=OutputKind.MODEL,
                                    title="whisper-nl-customer-service",
                                    link="https://huggingface.co/demo-vision/whisper-nl-customer-service")
    return app


def _active(applicant, organisation) -> Application:
    """An active Fast Lane allocation on Zellik with the demo applicant confirmed on its team. The grant is
    written directly, as a past decision left it, and marked for provisioning: the run leaves the applicant
    out of the association until they accept the terms of use."""
    start = timezone.localdate() - datetime.timedelta(days=14)
    app = Application.objects.create(
        reference=next_application_reference(), organisation=organisation, created_by=applicant,
        status="approved", title=ACTIVE_TITLE, access_mode=AccessMode.objects.get(code="fast_lane"),
        abstract="Train a handwriting recognition model on digitised municipal registers in French and Dutch.",
        sector="public_services", start_date=start, duration_months=3, submitted_at=timezone.now(),
        decided_at=timezone.now())
    alloc = Allocation.objects.create(
        application=app, organisation=organisation, reference=app.reference, status=AllocationStatus.ACTIVE,
        start_date=start, end_date=start + datetime.timedelta(days=91), slurm_account=slurm_account_for(app.reference),
        sync_state=SyncState.NEEDS_SYNC, desired_version=1, synced_version=0)
    site = Site.objects.filter(code="zellik").first() or Site.objects.filter(is_active=True).order_by("name").first()
    AllocationQuota.objects.create(allocation=alloc, site=site, gpu_hours=6_000, cpu_core_hours=30_000)
    TeamMember.objects.create(application=app, full_name=applicant.display_name, email=applicant.email,
                              cluster_username=ACTIVE_USERNAME, user=applicant, invited_at=timezone.now(),
                              confirmed_at=timezone.now())
    return app


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
    seed_site_connections()
    call = seed_call()
    titles = set(Application.objects.filter(organisation=organisation).values_list("title", flat=True))
    made = []
    if DRAFT_TITLE not in titles:
        made.append(_draft(applicant, organisation))
    if SUBMITTED_TITLE not in titles:
        made.append(_submitted(applicant, colleague, organisation))
    if IN_REVIEW_TITLE not in titles and MANAGER in users and REVIEWER in users:
        made.append(_in_review(applicant, colleague, organisation, users[MANAGER], users[REVIEWER]))
    if ENDED_TITLE not in titles:
        made.append(_ended(applicant, organisation))
    if ACTIVE_TITLE not in titles:
        made.append(_active(applicant, organisation))
    terms = seed_terms(operator=users.get(OPERATOR))
    seed_aid(applicant, organisation)
    if GRANTED_TITLE not in titles and MANAGER in users and REVIEWER2 in users:
        made.append(_granted(applicant, colleague, organisation, users[MANAGER], users[REVIEWER2]))
    stdout.write(f"Allocations: {pools} reviewer pools added, "
                 f"{created} site-quarter capacity rows added, call: {call.title if call else '-'}, "
                 f"demo applications added: {', '.join(a.reference for a in made) or 'none'}, "
                 f"terms of use versions published: {terms}")
