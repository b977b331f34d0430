"""The application dossier: content read back with pdftotext, the applicant's version, languages, metadata."""

import io

import pytest
from pypdf import PdfReader

from compliance.models import Report, ReportAudience, ReportStatus
from compliance.reports import services
from portal.audit import events_for, verify_chain
from tests import factories as builders
from tests.reports.conftest import assert_accessible_pdf, pdftotext

pytestmark = pytest.mark.django_db


def generate(run_on_commit, *, actor, application, audience, language="en") -> Report:
    with run_on_commit():
        report = services.report_request_dossier(actor=actor, application=application, audience=audience,
                                                 language=language)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    return report


def pdf_bytes(report: Report) -> bytes:
    return services.report_file(report.file_name).read_bytes()


@pytest.fixture
def dossier(db):
    return builders.full_dossier()


def test_staff_dossier_prints_the_whole_record(dossier, run_on_commit):
    app = dossier["application"]
    plan = builders.attach(app)
    report = generate(run_on_commit, actor=dossier["officer"], application=app, audience=ReportAudience.STAFF)
    text = pdftotext(pdf_bytes(report))
    assessment = app.risk_assessment

    # Organisation and request.
    assert f"Application dossier {app.reference}" in text
    assert dossier["organisation"].legal_name in text
    assert "Micro enterprise" in text  # SME class
    assert "Fast Lane" in text and "Zellik" in text and "Charleroi" in text
    # AI Act: rule set and its file hash, classification, conclusions with articles, obligations with dates.
    assert "2026-omnibus" in text
    assert assessment.ruleset_sha256 in text
    assert "High-risk AI system" in text and "high_risk" not in text
    assert "Art. 6(2), Annex III" in text
    assert "Art. 49(1)" in text and "2 December 2027" in text
    assert "Hardware estimate" in text and "FLOP" in text
    # Ethics: decision, condition and its acknowledgement by the applicant.
    assert "Cleared with conditions" in text
    assert builders.CONDITION in text
    assert "Ada Applicant" in text
    # Staff-only content: reviewer, scores, committee comments, conflict declarations.
    assert builders.REVIEWER_NAME in text
    assert "Technical feasibility and readiness: 4 / 5" in text and "weighted: 84 / 100" in text
    assert "COMMITTEE-ONLY" in text
    assert builders.CONFLICTED_NAME in text and "Former adviser" in text
    # Decision, allocation and quotas, provisioning attempts, usage.
    assert "Sound plan." in text
    assert "aif_2026_" in text  # Slurm account
    assert text.count("Success") >= 2  # one recorded attempt per site
    assert "120.0 / 400" in text and "30.0 %" in text
    # Audit events of the application and its allocation, and the chain.
    # Audit events are printed with their AuditAction label, never the stored code.
    assert "Ethics review decided" in text and "Allocation created" in text
    assert "ethics_review.decided" not in text and "allocation.created" not in text
    # Their changes in words: field names, labels, old → new; never the stored JSON.
    assert "Status: Awaiting decision → Approved" in text
    assert "Recommendation: Approve" in text and "Kind: Technical" in text
    assert '{"' not in text and "awaiting_decision" not in text
    # The team and the documents: name, kind, size, SHA-256.
    assert "Team and documents" in text and "project-plan.pdf" in text and "Project plan" in text
    assert plan.sha256[:24] in text.replace("\n", "").replace(" ", "")
    chain = verify_chain()
    assert f"Audit chain verified: VALID ({chain.count - 1} events" in text
    # The head printed is the chain as it stood while rendering: just before the report.generated event.
    generated = events_for(report).get(action="report.generated")
    assert f"Chain head hash: {generated.prev_hash}" in text
    assert chain.ok
    assert "Page 1 of" in text


def test_applicant_dossier_leaves_out_staff_only_fields(dossier, run_on_commit):
    report = generate(run_on_commit, actor=dossier["applicant"], application=dossier["application"],
                      audience=ReportAudience.APPLICANT)
    text = pdftotext(pdf_bytes(report))
    assert dossier["application"].reference in text
    assert "Applicant version" in text
    assert builders.APPLICANT_COMMENT in text  # what reviewers wrote for the applicant
    for secret in (builders.REVIEWER_NAME, "Reviewerova", builders.COMMITTEE_COMMENT, "COMMITTEE-ONLY",
                   builders.CONFLICTED_NAME, "Former adviser", "Conflict-of-interest declarations",
                   "Eve Ethicist", "Max Manager", "feasibility"):
        assert secret not in text, secret
    assert "AI Factory staff" in text  # staff actors of audit events, unnamed
    assert "Audit chain verified: VALID" in text


@pytest.mark.parametrize("language, headings", [
    ("fr", ["Dossier de candidature", "Table des matières", "Évaluation AI Act", "Examen éthique",
            "Vérification de la chaîne d'audit", "Chaîne d'audit vérifiée : VALIDE", "Haut risque", "Page 1 sur",
            "Octroi créé"]),
    ("nl", ["Aanvraagdossier", "Inhoud", "Beoordeling volgens de AI-verordening", "Ethische toetsing",
            "Verificatie van de auditketen", "Auditketen geverifieerd: GELDIG", "Hoog risico", "Pagina 1 van",
            "Toekenning aangemaakt"]),
])
def test_dossier_in_the_requesters_language(dossier, run_on_commit, language, headings):
    report = generate(run_on_commit, actor=dossier["officer"], application=dossier["application"],
                      audience=ReportAudience.STAFF, language=language)
    assert report.language == language
    text = pdftotext(pdf_bytes(report))
    for heading in headings:
        assert heading in text, heading
    assert_accessible_pdf(pdf_bytes(report), title=PdfReader(io.BytesIO(pdf_bytes(report))).metadata.title,
                          language=language)
    # Citations of the AI Act are written as the language version of the Regulation writes them.
    assert ("article 6, paragraphe 2, annexe III, point 4 a)" if language == "fr"
            else "artikel 6, lid 2, bijlage III, punt 4 a)") in text
    # The AI Act wording comes from the same rule-set file, in the report's language.
    assert ("Le système ou modèle d'IA" if language == "fr" else "Wordt het AI-systeem") in text


def test_pdf_metadata_and_bookmarks(dossier, run_on_commit):
    report = generate(run_on_commit, actor=dossier["officer"], application=dossier["application"],
                      audience=ReportAudience.STAFF)
    reader = PdfReader(io.BytesIO(pdf_bytes(report)))
    meta = reader.metadata
    assert meta.title == f"Application dossier {dossier['application'].reference}"
    assert_accessible_pdf(pdf_bytes(report), title=meta.title, language="en")
    assert meta.author.startswith("AI Factory portal")
    assert meta.subject == "Complete dossier of one application, for staff."
    assert meta.creation_date is not None
    top = reader.outline
    assert top[0].title == meta.title  # the h1
    children = [item.title for item in top[1]]
    assert "AI Act assessment" in children and "Audit chain verification" in children
    assert "Contents" not in children  # the table of contents is not bookmarked


def test_generation_is_audited_with_the_pdf_hash(dossier, run_on_commit):
    report = generate(run_on_commit, actor=dossier["officer"], application=dossier["application"],
                      audience=ReportAudience.STAFF)
    actions = {e.action: e for e in events_for(report)}
    assert actions["report.requested"].actor_id == dossier["officer"].pk
    assert actions["report.generated"].changes["sha256"] == report.sha256
    assert services.sha256_hex(pdf_bytes(report)) == report.sha256
    assert services.report_file(report.file_name).is_relative_to(services.report_dir())
    assert verify_chain().ok


def test_a_draft_without_assessment_still_renders(run_on_commit):
    from allocations.applications.models import Application, ApplicationStatus
    from tests.factories import MembershipFactory

    member = MembershipFactory()
    app = Application.objects.create(reference="AIF-2026-0999", organisation=member.organisation,
                                     created_by=member.user, title="Early idea", status=ApplicationStatus.DRAFT)
    report = generate(run_on_commit, actor=member.user, application=app, audience=ReportAudience.APPLICANT)
    text = pdftotext(pdf_bytes(report))
    assert "The AI Act questionnaire has not been answered." in text
    assert "No allocation has been granted." in text


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_applicants_dossier_is_tagged_too(dossier, run_on_commit, language):
    """Every PDF the portal issues is tagged: the applicant's dossier as well as the staff's, in each language."""
    report = generate(run_on_commit, actor=dossier["applicant"], application=dossier["application"],
                      audience=ReportAudience.APPLICANT, language=language)
    pdf = pdf_bytes(report)
    assert_accessible_pdf(pdf, title=PdfReader(io.BytesIO(pdf)).metadata.title, language=language)
