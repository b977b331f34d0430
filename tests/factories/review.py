"""Reviewers, their pools, reviews and ethics conditions: the path from submission to a decision."""

from __future__ import annotations

from allocations.applications import services as applications_services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus
from allocations.review import services as review_services
from allocations.review.models import AssignmentStatus, ReviewAssignment, ReviewerPool
from compliance.models import EthicsCondition, EthicsReview, EthicsStatus

from .accounts import ReviewerFactory, manager, sequence
from .applications import ETHICS_PERSONAL_DATA, application, complete, file_upload, pdf_bytes, submitted


def general_pool(kind: str = "technical") -> ReviewerPool:
    return ReviewerPool.objects.get_or_create(name=f"General {kind}", defaults={"kind": kind})[0]


def restricted_pool(sector: str = "defence", kind: str = "technical") -> ReviewerPool:
    return ReviewerPool.objects.get_or_create(name=f"Restricted {sector} {kind}",
                                              defaults={"kind": kind, "restricted_sectors": [sector]})[0]


def reviewer(*, kind: str = "technical", pool: ReviewerPool | None = None, email: str | None = None, totp=True):
    """A reviewer at their own institution's domain, member of a (general) pool of `kind`."""
    n = next(sequence)
    person = ReviewerFactory(email=email or f"reviewer{n}@institute{n}.example.org",
                             full_name=f"Reviewer Number{n}", totp=totp)
    pool = pool or general_pool(kind)
    pool.members.add(person)
    return person


def in_review(actor, boss, organisation=None) -> Application:
    """Submitted through the services, then found eligible by `boss`."""
    app = submitted(actor, organisation)
    return review_services.application_check_eligibility(actor=boss, application=app, eligible=True)


def in_review_with_plan(actor, boss, organisation=None, *, plan: bytes | None = None,
                        name: str = "project-plan.pdf", ethics: dict | None = None) -> Application:
    """Through the services: a complete draft with a project plan uploaded (`plan`, by default a small
    PDF), submitted with personal data declared (the ethics review is pending), found eligible by `boss`."""
    app = complete(actor, organisation, ethics=ethics or ETHICS_PERSONAL_DATA)
    applications_services.attachment_add(actor=actor, application=app, kind="project_plan",
                                         upload=file_upload(name, plan if plan is not None else pdf_bytes()))
    app = applications_services.application_submit(actor=actor, application=app,
                                                     declaration_version=DECLARATION_VERSION)
    return review_services.application_check_eligibility(actor=boss, application=app, eligible=True)


def reviewed(actor, boss, organisation=None) -> Application:
    """Awaiting decision through the services only: submitted, found eligible, one technical review."""
    app = in_review(actor, boss, organisation)
    person = reviewer()
    assignment = review_services.reviewer_assign(actor=boss, application=app, reviewer=person, kind="technical")
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    review_services.review_submit(actor=person, assignment=assignment, scores=full_scores(app),
                                  recommendation="approve")
    return Application.objects.get(pk=app.pk)


def full_scores(app: Application, value: int = 4) -> dict[str, int]:
    return {c["code"]: value for c in app.access_mode.rubric}


def submit_review(app, person, *, kind="technical", actor=None, value=4, recommendation="approve",
                  for_applicant="Clear plan; justify the storage.", for_committee="Solid team."):
    assignment = review_services.reviewer_assign(actor=actor or manager(), application=app, reviewer=person,
                                                 kind=kind)
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    return review_services.review_submit(actor=person, assignment=assignment, scores=full_scores(app, value),
                                         recommendation=recommendation, comments_for_committee=for_committee,
                                         comments_for_applicant=for_applicant)


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


def add_condition(app: Application, text: str = "Delete the raw images after training.") -> EthicsCondition:
    review = EthicsReview.objects.get(application=app)
    review.status = EthicsStatus.CLEARED_WITH_CONDITIONS
    review.save(update_fields=["status"])
    return EthicsCondition.objects.create(review=review, text=text)


def assignment(app: Application, person=None, *, status: str = AssignmentStatus.ASSIGNED, due=None,
               kind: str = "technical") -> ReviewAssignment:
    """An assignment written directly in `status` (for the pages that list them), due on `due`."""
    person = person or reviewer(kind=kind)
    return ReviewAssignment.objects.create(application=app, reviewer=person, kind=kind, status=status,
                                           assigned_by=manager(), due_date=due)
