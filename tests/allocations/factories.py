"""Building applications for the allocation tests, through the same services the pages call."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from allocations.applications import services as applications_services
from allocations.applications.models import Application, EthicsIssue
from allocations.catalogue.models import AccessMode, Call, Site, SiteCapacity, quarter_start
from compliance.services import assessment_save

# A complete, low-risk AI Act questionnaire (research only): classification "out_of_scope".
AI_ACT_RESEARCH = {"research_only": "yes", "prohibited_practices": ["none"], "intimate_imagery": "no"}
ETHICS_ALL_NO = {code: {"answer": False, "text": ""} for code in EthicsIssue.values}

_pdf_counter = itertools.count(1)


def pdf_bytes(size: int = 0) -> bytes:
    """A tiny valid-looking PDF, padded to `size` bytes when asked."""
    body = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + str(next(_pdf_counter)).encode() + b"\n")
    trailer = b"trailer << /Root 1 0 R >>\n%%EOF\n"
    pad = max(0, size - len(body) - len(trailer))
    return body + b" " * pad + trailer


def pdf_upload(name: str = "plan.pdf", size: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(size), content_type="application/pdf")


def file_upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def quarters(count: int = 5, start: datetime.date | None = None) -> list[datetime.date]:
    day = quarter_start(start or timezone.localdate())
    out = []
    for _ in range(count):
        out.append(day)
        month = day.month + 3
        day = datetime.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return out


def publish_capacity(gpu_hours: int = 400_000, cpu_core_hours: int = 4_000_000,
                     storage_tb: Decimal = Decimal("500")) -> list[SiteCapacity]:
    rows = []
    for site in Site.objects.all():
        for period in quarters():
            row, _ = SiteCapacity.objects.update_or_create(
                site=site, period_start=period,
                defaults={"gpu_hours": gpu_hours, "cpu_core_hours": cpu_core_hours, "storage_tb": storage_tb})
            rows.append(row)
    return rows


def mode(code: str) -> AccessMode:
    return AccessMode.objects.get(code=code)


def site(code: str) -> Site:
    return Site.objects.get(code=code)


def open_call(access_mode: AccessMode | None = None, **overrides) -> Call:
    now = timezone.now()
    values = {"access_mode": access_mode or mode("large_scale"), "title": "Large Scale cut-off",
              "opens_at": now - datetime.timedelta(days=10), "cutoff_at": now + datetime.timedelta(days=20)}
    values.update(overrides)
    return Call.objects.create(**values)


def start_soon() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=14)


PROJECT = {
    "title": "Vision models for hospital logistics",
    "abstract": "We fine-tune a vision model to track hospital supplies.",
    "public_summary": "Better hospital logistics with computer vision.",
    "sector": "health", "civilian_purpose": True, "dual_use": False, "dual_use_explanation": "",
    "rd_type": "open", "route_to_market": "",
}
MODEL = {"model_activity": "fine_tune", "model_family": "ViT", "parameter_count": 300_000_000,
         "training_tokens": 2_000_000_000, "base_model_name": "ViT-L/16", "base_model_flop": 1e21,
         "open_weights": True, "model_lineage": ""}


def draft(actor, organisation, title: str = "Vision models for hospital logistics") -> Application:
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


def complete(actor, organisation, **kwargs) -> Application:
    return fill(actor, draft(actor, organisation), **kwargs)


def submitted(actor, organisation, **kwargs) -> Application:
    app = complete(actor, organisation, **kwargs)
    return applications_services.application_submit(actor=actor, application=app)

