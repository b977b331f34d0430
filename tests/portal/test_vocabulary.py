"""One vocabulary: what people read never shows the code of an enum value that has a label.

Pages for applicants, the committee, ethics officers and operators, a period CSV and the HTML the PDF
reports are printed from are rendered with data in many states. Their visible text (tags stripped;
attribute values, URLs, <code>, <pre>, <script> and <style> ignored) must not contain the value of an
enum below that reads differently from its label: a value with an underscore (``in_review``,
``allocation_manager``) nowhere, as a whole word; a one-word value (``startup``, ``minimal``) not as a
printed value, that is a whole piece of text between separators (a cell, a badge, "open to: sme,
startup"), since the same word may well occur in a sentence ("research", "submitted")."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import OrganisationType
from accounts.roles import Role
from allocations.applications.models import ApplicationStatus
from allocations.grants.models import AllocationStatus, ChangeKind, SyncState
from allocations.provisioning.models import SyncAttempt, SyncAttemptKind, SyncOutcome
from allocations.review.models import AssignmentStatus, ReviewAssignment
from compliance.ai_act import RiskClass
from compliance.models import EthicsStatus, Report
from compliance.reports import csv_export, data, services
from portal.audit import AuditAction, audit_record
from tests import factories as f

pytestmark = pytest.mark.django_db

ENUMS = (ApplicationStatus, AllocationStatus, SyncState, RiskClass, Role, OrganisationType)
# The CSV keeps one column of codes on purpose, for programs that read it.
CSV_CODE_COLUMNS = {"AI Act classification code"}


def raw_values() -> dict[str, str]:
    """{value: enum name} for every value that is not its label's own word ("draft" is "Draft")."""
    return {value: enum.__name__ for enum in ENUMS for value, label in enum.choices
            if value.casefold() != str(label).casefold()}


RAW = raw_values()
CODES = re.compile(r"(?<![\w-])(" + "|".join(sorted((re.escape(v) for v in RAW if "_" in v), key=len, reverse=True))
                   + r")(?![\w-])")
WORDS = {v for v in RAW if "_" not in v}
SEPARATORS = re.compile(r"\s*[,;:·|()\[\]]\s*")


class VisibleText(HTMLParser):
    """Text a reader sees: element content only, without code blocks, scripts and styles."""

    SKIPPED = {"code", "pre", "script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.depth:
            self.depth -= 1

    def handle_data(self, text):
        if not self.depth and text.strip():
            self.chunks.append(text.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.chunks


def raw_codes_in(chunks: list[str]) -> list[str]:
    """Each offending chunk with the code found in it."""
    found = []
    for chunk in chunks:
        codes = CODES.findall(chunk) + [piece for piece in SEPARATORS.split(chunk) if piece in WORDS]
        found += [f"{code} ({RAW[code]}) in {chunk!r}" for code in codes]
    return found


def assert_no_raw_codes(html: str, where: str) -> None:
    found = raw_codes_in(visible_text(html))
    assert not found, f"{where} shows raw codes: " + "; ".join(found)


def test_the_checker_finds_raw_codes_and_ignores_code_blocks_and_attributes():
    html = ('<p class="status-in_review" data-x="high_risk">In review</p><code>in_sync</code>'
            '<span class="badge">allocation_manager</span><td>sme, startup</td>')
    assert raw_codes_in(visible_text(html)) == [
        "allocation_manager (Role) in 'allocation_manager'", "startup (OrganisationType) in 'sme, startup'"]
    # Labels are fine, and so is a code's word in a sentence.
    assert not raw_codes_in(visible_text("<p>Start-up · High-risk AI system · In sync</p><p>Research is done.</p>"))


@pytest.fixture
def world():
    """One organisation with applications in every status, each with another risk class, and allocations
    in several states and sync states; a site with sync attempts of every outcome."""
    member = f.applicant()
    org = member.memberships.first().organisation
    org.org_type = OrganisationType.STARTUP
    org.save(update_fields=["org_type"])
    classes = iter(RiskClass.values * 2)
    apps = {status: f.application(status=status, member=member, classification=next(classes),
                                   ethics=EthicsStatus.PENDING)
            for status in ApplicationStatus.values}
    allocations = [
        f.allocation(member=member, status=AllocationStatus.ACTIVE, sync_state=SyncState.IN_SYNC),
        f.allocation(member=member, status=AllocationStatus.APPROVED, sync_state=SyncState.NEEDS_SYNC),
        f.allocation(member=member, status=AllocationStatus.SUSPENDED, sync_state=SyncState.ERROR),
        f.allocation(member=member, status=AllocationStatus.REVOKED, sync_state=SyncState.HANDED_OVER),
    ]
    zellik = f.site("zellik")
    for outcome in SyncOutcome.values:
        SyncAttempt.objects.create(site=zellik, allocation=allocations[0], outcome=outcome, error="timeout")
    SyncAttempt.objects.create(site=zellik, kind=SyncAttemptKind.FULL_RECONCILE, outcome=SyncOutcome.SUCCESS)
    return {"member": member, "apps": apps, "allocations": allocations}


def get(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_applicant_pages_show_labels(client, world):
    member = world["member"]
    pages = [reverse("dashboard"), reverse("grants:allocation_list")]
    pages += [reverse("applications:application_detail", args=[app.reference]) for app in world["apps"].values()]
    pages += [a.get_absolute_url() for a in world["allocations"]]
    for url in pages:
        assert_no_raw_codes(get(client, member, url), url)


def test_staff_pages_show_labels(client, world):
    apps = world["apps"]
    manager, officer = f.manager(), f.EthicsOfficerFactory(totp=True)
    f.change_request(world["allocations"][0], kind=ChangeKind.TOP_UP)
    reviewer = f.reviewer()
    for status in AssignmentStatus.values:
        ReviewAssignment.objects.create(application=f.application(status=ApplicationStatus.IN_REVIEW),
                                        reviewer=reviewer, kind="technical", status=status, assigned_by=manager)
    with transaction.atomic():
        audit_record(actor=manager, action=AuditAction.APPLICATION_STATUS_CHANGED,
                     target=apps[ApplicationStatus.SUBMITTED])
    pages = {
        manager: [reverse("review:application_list"), reverse("grants:staff_allocation_list"),
                  reverse("grants:change_request_list") + "?status=",
                  reverse("review:application_eligibility", args=[apps[ApplicationStatus.SUBMITTED].reference]),
                  reverse("review:application_decision",
                          args=[apps[ApplicationStatus.AWAITING_DECISION].reference]),
                  reverse("grants:staff_allocation_detail", args=[world["allocations"][0].reference])],
        officer: [reverse("compliance:ethics_queue"), reverse("compliance:ethics_queue") + "?status=",
                  reverse("compliance:audit_event_list"),
                  reverse("compliance:ethics_review", args=[apps[ApplicationStatus.IN_REVIEW].reference])],
        f.OperatorFactory(totp=True): [reverse("provisioning:overview")],
        reviewer: [reverse("review:assignment_list")],
        every_role(): [reverse("staff_home")],
    }
    for user, urls in pages.items():
        for url in urls:
            assert_no_raw_codes(get(client, user, url), url)


def every_role():
    return f.StaffUserFactory(roles=list(Role), totp=True)


def test_staff_home_prints_role_labels(client):
    html = get(client, every_role(), reverse("staff_home"))
    assert all(str(role.label) in html for role in Role)


def test_period_csv_shows_labels_except_in_its_code_column():
    f.decisions(2)
    f.rejected_decision(manager=f.AllocationManagerFactory())
    today = timezone.localdate()
    content = csv_export.period_csv(data.period_data(data.PeriodFilters(date_from=today, date_to=today)))
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows
    cells = [cell for row in rows for name, cell in zip(header, row, strict=True) if name not in CSV_CODE_COLUMNS]
    found = raw_codes_in(cells)
    assert not found, "; ".join(found)


@pytest.mark.parametrize("audience", ["staff", "applicant"])
def test_dossier_report_shows_labels(audience):
    dossier = f.full_dossier()
    actor = dossier["manager"] if audience == "staff" else dossier["applicant"]
    report = services.report_request_dossier(actor=actor, application=dossier["application"], audience=audience,
                                             language="en")
    html, _csv = services.build_report_html(report)
    assert_no_raw_codes(html, f"{audience} dossier")


def test_period_report_shows_labels():
    f.decisions(2)
    today = timezone.localdate()
    report = services.report_request_period(actor=f.EthicsOfficerFactory(), date_from=today, date_to=today,
                                            language="en")
    assert isinstance(report, Report)
    html, _csv = services.build_report_html(report)
    assert_no_raw_codes(html, "period report")
