"""Report pages: who may generate, see and download what; the status JSON; the ethics workspace."""

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.models import Report, ReportAudience, ReportKind, ReportStatus
from compliance.reports import services
from tests import factories as builders
from tests.factories import (
    AdminFactory,
    AllocationManagerFactory,
    EthicsOfficerFactory,
    ReviewerFactory,
    UserFactory,
)
from tests.reports.conftest import pdftotext

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate().isoformat()
PERIOD_FORM = {"date_from": TODAY, "date_to": TODAY, "site": "", "access_mode": "", "sector": "", "language": "en"}


def login(client, user):
    client.force_login(user)
    return client


def test_ethics_officer_generates_a_period_report_end_to_end(client, run_on_commit):
    builders.decisions(2)
    login(client, EthicsOfficerFactory(totp=True))
    assert client.get(reverse("compliance:report_list")).status_code == 200
    with run_on_commit():
        response = client.post(reverse("compliance:report_list"), PERIOD_FORM | {"language": "nl", "site": "zellik"})
    report = Report.objects.get()
    assert response.status_code == 302 and response.url == reverse("compliance:report_detail", args=[report.pk])
    assert report.params["site"] == "zellik" and report.language == "nl"
    page = client.get(response.url).content.decode()
    assert 'id="report-progress-bar" max="100" value="100"' in page
    assert "js/report-progress" in page
    status = client.get(reverse("compliance:report_status", args=[report.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100 and status["finished"] is True
    assert status["download_url"] == reverse("compliance:report_download", args=[report.pk])
    assert status["sha256"] == report.sha256
    pdf = client.get(status["download_url"])
    assert pdf["Content-Type"] == "application/pdf"
    assert "attachment" in pdf["Content-Disposition"]
    body = b"".join(pdf.streaming_content)
    assert services.sha256_hex(body) == Report.objects.get().sha256
    assert "Periodiek rapport" in pdftotext(body)
    csv = client.get(status["csv_url"])
    assert csv["Content-Type"].startswith("text/csv")


def test_status_while_queued_has_no_download(client):
    officer = EthicsOfficerFactory(totp=True)
    report = services.report_request_period(actor=officer, date_from=timezone.localdate(),
                                            date_to=timezone.localdate(), language="en")  # not committed: queued
    login(client, officer)
    status = client.get(reverse("compliance:report_status", args=[report.pk])).json()
    assert status == status | {"status": "queued", "progress": 0, "finished": False, "download_url": ""}
    assert client.get(reverse("compliance:report_download", args=[report.pk])).status_code == 404


@pytest.mark.parametrize("make_user", [
    UserFactory, lambda: ReviewerFactory(totp=True), lambda: AllocationManagerFactory(totp=True)])
def test_only_ethics_officers_and_admins_generate_period_reports(client, make_user):
    login(client, make_user())
    assert client.post(reverse("compliance:report_list"), PERIOD_FORM).status_code == 403
    assert not Report.objects.exists()


def test_administrators_generate_period_reports(client, run_on_commit):
    login(client, AdminFactory(totp=True))
    with run_on_commit():
        response = client.post(reverse("compliance:report_list"), PERIOD_FORM)
    assert response.status_code == 302
    assert Report.objects.get().status == ReportStatus.DONE


def test_applicant_cannot_see_the_staff_report_pages(client, run_on_commit):
    officer = EthicsOfficerFactory(totp=True)
    with run_on_commit():
        report = services.report_request_period(actor=officer, date_from=timezone.localdate(),
                                                date_to=timezone.localdate(), language="en")
    login(client, UserFactory())
    assert client.get(reverse("compliance:report_list")).status_code == 403
    for name in ("report_detail", "report_status", "report_download", "report_csv"):
        assert client.get(reverse(f"compliance:{name}", args=[report.pk])).status_code == 404, name
    # ...nor through the applicant URLs.
    for name in ("my_report_detail", "my_report_status", "my_report_download"):
        assert client.get(reverse(f"compliance:{name}", args=[report.pk])).status_code == 404, name


def test_staff_pages_need_a_second_factor(client):
    login(client, EthicsOfficerFactory(totp=False))
    response = client.get(reverse("compliance:report_list"))
    assert response.status_code == 302 and response.url == reverse("mfa_index")


def test_period_form_errors(client):
    login(client, EthicsOfficerFactory(totp=True))
    response = client.post(reverse("compliance:report_list"), PERIOD_FORM | {"date_from": "2026-05-02",
                                                                             "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert "The end date must not be before the start date." in response.content.decode()
    assert not Report.objects.exists()


@pytest.fixture
def built(db):
    return builders.full_dossier(provision=False)


def test_applicant_requests_and_downloads_their_dossier(client, built, run_on_commit):
    app = built["application"]
    login(client, built["applicant"])
    url = reverse("compliance:applicant_dossier", args=[app.reference])
    assert client.get(url).status_code == 200
    with run_on_commit():
        response = client.post(url)
    report = Report.objects.get()
    assert (report.kind, report.audience, report.requested_by) == (ReportKind.DOSSIER, ReportAudience.APPLICANT,
                                                                 built["applicant"])
    assert response.url == reverse("compliance:my_report_detail", args=[report.pk])
    status = client.get(reverse("compliance:my_report_status", args=[report.pk])).json()
    assert status["csv_url"] == ""
    pdf = b"".join(client.get(status["download_url"]).streaming_content)
    text = pdftotext(pdf)
    assert app.reference in text
    assert builders.REVIEWER_NAME not in text and builders.COMMITTEE_COMMENT not in text
    # Any member of the organisation sees it; the staff URLs stay closed to them.
    assert client.get(reverse("compliance:report_detail", args=[report.pk])).status_code == 404


def test_another_organisations_user_gets_404(client, built, run_on_commit):
    app = built["application"]
    with run_on_commit():
        report = services.report_request_dossier(actor=built["applicant"], application=app,
                                                 audience=ReportAudience.APPLICANT, language="en")
    login(client, builders.other_organisation_user())
    assert client.get(reverse("compliance:applicant_dossier", args=[app.reference])).status_code == 404
    assert client.post(reverse("compliance:applicant_dossier", args=[app.reference])).status_code == 404
    for name in ("my_report_detail", "my_report_status", "my_report_download"):
        assert client.get(reverse(f"compliance:{name}", args=[report.pk])).status_code == 404, name
    assert Report.objects.count() == 1


def test_staff_dossier_for_managers_and_ethics_officers(client, built, run_on_commit):
    app = built["application"]
    url = reverse("compliance:staff_dossier", args=[app.reference])
    login(client, UserFactory())
    assert client.post(url).status_code == 403
    login(client, ReviewerFactory(totp=True))
    assert client.post(url).status_code == 403
    manager = AllocationManagerFactory(totp=True)
    login(client, manager)
    with run_on_commit():
        response = client.post(url)
    report = Report.objects.get()
    assert report.audience == ReportAudience.STAFF
    assert response.url == reverse("compliance:report_detail", args=[report.pk])
    text = pdftotext(b"".join(client.get(reverse("compliance:report_download", args=[report.pk])).streaming_content))
    assert builders.REVIEWER_NAME in text and builders.COMMITTEE_COMMENT in text
    # Managers see dossiers, not period reports.
    assert client.get(reverse("compliance:report_list")).status_code == 200
    assert 'name="date_from"' not in client.get(reverse("compliance:report_list")).content.decode()


def test_ethics_workspace(client, built, run_on_commit):
    builders.rejected_decision(manager=built["manager"])
    officer = EthicsOfficerFactory(totp=True)
    with run_on_commit():
        services.report_request_dossier(actor=officer, application=built["application"],
                                        audience=ReportAudience.STAFF, language="en")
    login(client, officer)
    body = client.get(reverse("compliance:ethics_workspace")).content.decode()
    assert "Submitted applications by AI Act risk class" in body
    assert "High-risk AI system" in body and "Health" in body and "Defence" in body
    assert 'class="bar"' in body and '<rect width="100" height="10">' in body  # the longest bar: no style=
    assert built["application"].reference in body  # recent ethics decision
    assert "Application dossier" in body  # reports generated
    queue = client.get(reverse("compliance:ethics_queue")).content.decode()
    assert reverse("compliance:ethics_workspace") in queue
    staff_home = client.get(reverse("staff_home")).content.decode()
    assert reverse("compliance:ethics_workspace") in staff_home and reverse("compliance:report_list") in staff_home
    login(client, AllocationManagerFactory(totp=True))
    assert client.get(reverse("compliance:ethics_workspace")).status_code == 403
