"""Applications: drafts filled and submitted through the same services the pages and the API call, and
`application(status=...)`, written directly in any state (with its assessment and ethics review) for
the tests about what happens after submission."""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
import uuid
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from allocations.applications import services as applications_services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import (
    Application,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    EthicsIssue,
    RequestedResource,
    TeamMember,
)
from allocations.applications.services import next_application_reference
from compliance.ai_act import RiskClass, engine
from compliance.models import EthicsReview, EthicsStatus, RiskAssessment
from compliance.services import assessment_save

from .accounts import applicant, org_of, sequence
from .catalogue import mode, site, start_soon

# A complete, low-risk AI Act questionnaire (research only): classification "out_of_scope".
AI_ACT_RESEARCH = {"research_only": "yes", "prohibited_practices": ["none"], "intimate_imagery": "no"}
ETHICS_ALL_NO = {code: {"answer": False, "text": ""} for code in EthicsIssue.values}
# Personal data declared: the application goes to the ethics officers (a DPIA to check) at submission.
ETHICS_PERSONAL_DATA = {**ETHICS_ALL_NO,
                        EthicsIssue.PERSONAL_DATA: {"answer": True, "text": "Voices are pseudonymised; DPIA attached."}}

_pdf_counter = itertools.count(1)


def _pdf(build=None, *, number: int = 0, padding: str = "", encrypt: bool = False) -> bytes:
    """One blank page written by pypdf; `build(writer)` adds to it before writing."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"Test document {number or next(_pdf_counter)}", "/Subject": padding})
    if build is not None:
        build(writer)
    if encrypt:
        writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_bytes(size: int = 0) -> bytes:
    """A small valid PDF (a blank page), padded to exactly `size` bytes when asked (in its metadata)."""
    number = next(_pdf_counter)  # every file differs (its hash too)
    data, padding = _pdf(number=number), 0
    for _ in range(5):  # a longer file can lengthen the cross-reference offsets by a digit: measure again
        if len(data) == size or (padding == 0 and len(data) > size):
            return data
        padding = max(0, padding + size - len(data))
        data = _pdf(number=number, padding="x" * padding)
    raise AssertionError(f"no PDF of exactly {size} bytes")


def _add_annotation(writer: PdfWriter, annotation: dict) -> None:
    writer.add_annotation(page_number=0, annotation=DictionaryObject(
        {NameObject("/Type"): NameObject("/Annot"), NameObject("/Rect"): ArrayObject(
            [NumberObject(10), NumberObject(10), NumberObject(50), NumberObject(50)]),
         **{NameObject(k): v for k, v in annotation.items()}}))


def _javascript_action(script: str = "app.alert('hello');") -> DictionaryObject:
    return DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(script)})


# Files a reviewer must never be handed: each is a well-formed PDF that runs something or carries a file.
HOSTILE_PDFS = {
    "document-level JavaScript": lambda w: w._root_object.__setitem__(NameObject("/Names"), DictionaryObject(
        {NameObject("/JavaScript"): DictionaryObject({NameObject("/Names"): ArrayObject(
            [TextStringObject("greeting"), _javascript_action()])})})),
    "OpenAction with JavaScript": lambda w: w._root_object.__setitem__(NameObject("/OpenAction"),
                                                                         _javascript_action()),
    "page additional action (/AA)": lambda w: w.pages[0].__setitem__(
        NameObject("/AA"), DictionaryObject({NameObject("/O"): _javascript_action()})),
    "link running JavaScript": lambda w: _add_annotation(w, {"/Subtype": NameObject("/Link"),
                                                             "/A": _javascript_action()}),
    "launch action": lambda w: w._root_object.__setitem__(NameObject("/OpenAction"), DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})),
    "embedded file": lambda w: w.add_attachment("data.xlsm", b"PK\x03\x04 macros"),
    "file attachment annotation": lambda w: _add_annotation(w, {
        "/Subtype": NameObject("/FileAttachment"), "/FS": TextStringObject("payload.exe")}),
}


def hostile_pdf(kind: str) -> bytes:
    return _pdf(HOSTILE_PDFS[kind])


def encrypted_pdf() -> bytes:
    return _pdf(encrypt=True)


def truncated_pdf() -> bytes:
    """A valid PDF cut short, as an interrupted download leaves it."""
    data = pdf_bytes()
    return data[:len(data) * 2 // 3]


def pdf_upload(name: str = "plan.pdf", size: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(size), content_type="application/pdf")


def file_upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def attach(app: Application, *, content: bytes | None = None, name: str = "project-plan.pdf",
           kind: str = AttachmentKind.PROJECT_PLAN) -> Attachment:
    """A PDF stored and attached directly, in any status (attachment_add accepts drafts only)."""
    content = content if content is not None else pdf_bytes()
    attachment = Attachment.objects.create(
        application=app, kind=kind, original_name=name, stored_name=f"{uuid.uuid4().hex}.pdf", size=len(content),
        sha256=hashlib.sha256(content).hexdigest())
    path = applications_services.attachment_path(attachment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return attachment


#: In scope: placed on the Union market by its provider (the walk below answers no / none elsewhere).
IN_SCOPE_CHOICES = {"union_link": "placed_in_union", "operator_role": "provider"}


def minimal_ai_act_answers(ruleset_version: str = engine.DEFAULT_RULESET) -> dict:
    """A complete answer set found by walking the visible questions, answering no / none where offered
    (an AI system in scope, placed on the Union market by its provider, with no duty beyond AI literacy)."""
    ruleset = engine.load_ruleset(ruleset_version)
    answers: dict = {}
    for _ in range(len(ruleset.questions) + 1):
        missing = engine.missing_answers(ruleset, answers)
        if not missing:
            return answers
        question = ruleset.question(missing[0])
        values = question.option_values
        preferred = IN_SCOPE_CHOICES.get(question.id) or next((v for v in ("no", "none") if v in values), values[0])
        answers[question.id] = [preferred] if question.type == engine.QuestionType.MULTI_CHOICE else preferred
    raise AssertionError("the questionnaire did not converge")


PROJECT = {
    "title": "Vision models for hospital logistics",
    "abstract": "We fine-tune a vision model to track hospital supplies.",
    "public_summary": "Better hospital logistics with computer vision.",
    "sector": "health", "civilian_purpose": True, "dual_use": False, "dual_use_explanation": "",
    "rd_type": "open",
}
MODEL = {"model_activity": "fine_tune", "model_family": "ViT", "parameter_count": 300_000_000,
         "training_tokens": 2_000_000_000, "base_model_name": "ViT-L/16", "base_model_flop": 1e21,
         "model_lineage": ""}


def draft(actor, organisation=None, title: str = "Vision models for hospital logistics") -> Application:
    """A new draft of `organisation` (by default the actor's first one)."""
    organisation = organisation or org_of(actor)
    return applications_services.application_create(actor=actor, organisation=organisation, title=title)


def fill(actor, app: Application, *, access_mode: str = "fast_lane", gpu_hours: int = 10_000, call=None,
         duration: int | None = None, start: datetime.date | None = None, team: bool = True,
         ai_act: dict | None = AI_ACT_RESEARCH, ethics: dict | None = ETHICS_ALL_NO,
         attachment: bool = False) -> Application:
    """Every step of a complete draft, through the services; each keyword spoils one part."""
    the_mode = mode(access_mode)
    applications_services.application_update_step(actor=actor, application=app, step="project", data=PROJECT)
    applications_services.application_save_resources(
        actor=actor, application=app,
        data={"access_mode": the_mode, "call": call, "start_date": start or start_soon(),
              "duration_months": duration or the_mode.allowed_durations[0]},
        rows=[{"site": site("zellik"), "gpu_hours": gpu_hours, "cpu_core_hours": 1000, "storage_tb": Decimal("1")}])
    applications_services.application_update_step(actor=actor, application=app, step="model", data=MODEL)
    if ai_act is not None:
        assessment_save(actor=actor, application=app, answers=ai_act)
    if team:
        applications_services.team_member_add(actor=actor, application=app, full_name="Ines Engineer",
                                              email="ines@example.eu", cluster_username="ines")
    if ethics is not None:
        applications_services.application_set_ethics_issues(actor=actor, application=app, issues=ethics)
    if attachment:
        applications_services.attachment_add(actor=actor, application=app, kind="project_plan", upload=pdf_upload())
    return Application.objects.get(pk=app.pk)


def complete(actor, organisation=None, **kwargs) -> Application:
    return fill(actor, draft(actor, organisation), **kwargs)


def submitted(actor, organisation=None, **kwargs) -> Application:
    app = complete(actor, organisation, **kwargs)
    return applications_services.application_submit(actor=actor, application=app,
                                                    declaration_version=DECLARATION_VERSION)


def mark_submitted(app: Application) -> Application:
    """Stamp a draft as submitted (status and time) without the submission checks."""
    Application.objects.filter(pk=app.pk).update(status=ApplicationStatus.SUBMITTED, submitted_at=timezone.now())
    app.refresh_from_db()
    return app


def application(*, status: str = ApplicationStatus.SUBMITTED, organisation=None, member=None,
                access_mode: str = "fast_lane", sector: str = "health", requests: dict | None = None,
                start: datetime.date | None = None, duration: int | None = None,
                ethics: str = EthicsStatus.AUTO_CLEARED, prohibited: bool = False,
                classification: str = RiskClass.MINIMAL, decision_due: datetime.date | None = None,
                title: str | None = None) -> Application:
    """An application written directly in `status`, with its assessment and ethics review."""
    if member is None:
        member = applicant(organisation)
    organisation = organisation or org_of(member)
    the_mode = mode(access_mode)
    n = next(sequence)
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
