"""After approval: the applicant sees the next step on the dashboard, acknowledges the condition and uploads
the evidence it asks for; the ethics officer accepts it; the allocation page shows how to connect to the
site with the Slurm account filled in. Every page passes axe; screenshots at 1280 and 390 px."""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from allocations.catalogue.models import Site
from allocations.provisioning.models import UsageSnapshot
from compliance.models import EthicsCondition, EthicsStatus, EvidenceStatus
from portal.models import AuditChainHead
from tests import factories as fr
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("AIF_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="shots-first-job-"))
DPIA = "Share the summary of the data protection impact assessment."


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    axe_check(page, context=f"{name} at 390 px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_from_grant_to_first_job(page, live_server, tmp_path):
    fr.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    Site.objects.filter(code="zellik").update(login_host="login.zellik.aifactory.example", default_partition="gpu",
                                              gpu_gres_type="h100",
                                              documentation_url="https://docs.aifactory.example/zellik/")
    allocation, _manager, applicant = fr.approved_allocation()
    # As a submission leaves it (the factory writes the approved application directly).
    type(allocation.application).objects.filter(pk=allocation.application_id).update(submitted_at=timezone.now())
    review = allocation.application.ethics_review
    review.status = EthicsStatus.CLEARED_WITH_CONDITIONS
    review.save(update_fields=["status"])
    condition = EthicsCondition.objects.create(review=review, text=DPIA, evidence_status=EvidenceStatus.MISSING)

    # 1. The dashboard says what to do next, and leads to it.
    sign_in_as(page, live_server, applicant)
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_text("Next step:")).to_be_visible()
    link = page.get_by_role("link", name="Acknowledge the ethics condition.")
    expect(link).to_be_visible()
    axe_check(page, context="dashboard with the next step")
    shoot(page, "dashboard")
    link.click()

    # 2. Acknowledge, then upload the evidence.
    expect(page.get_by_role("heading", name="Ethics conditions")).to_be_visible()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Condition acknowledged.")).to_be_visible()
    evidence = tmp_path / "dpia-summary.pdf"
    evidence.write_bytes(fr.pdf_bytes())
    page.get_by_label("Upload the evidence (PDF)").set_input_files(str(evidence))
    page.locator(f"#condition-{condition.pk} button[type=submit]").last.click()
    expect(page.get_by_text("Evidence uploaded: an ethics officer will examine it.")).to_be_visible()
    expect(page.get_by_text("Evidence waiting for the ethics officer")).to_be_visible()
    axe_check(page, context="allocation page with the evidence uploaded")

    # 3. The ethics officer accepts it.
    officer = fr.EthicsOfficerFactory(totp=True)
    sign_in_as(page, live_server, officer)
    page.goto(live_server.url + f"/staff/ethics/{allocation.application.reference}/")
    expect(page.get_by_role("link", name="Read the evidence: dpia-summary.pdf")).to_be_visible()
    with page.expect_download() as got:
        page.get_by_role("link", name="Read the evidence: dpia-summary.pdf").click()
    assert Path(got.value.path()).read_bytes() == evidence.read_bytes()
    page.get_by_label("meets the condition").check()
    axe_check(page, context="ethics page with evidence to examine")
    shoot(page, "ethics-evidence")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Evidence accepted.")).to_be_visible()
    condition.refresh_from_db()
    assert condition.is_met

    # 4. The allocation page: how to connect, with the account filled in, and usage over time.
    zellik = Site.objects.get(code="zellik")
    for days, hours in ((20, 5), (10, 30), (1, 42)):
        snap = UsageSnapshot.objects.create(allocation=allocation, site=zellik, gpu_minutes=hours * 60)
        UsageSnapshot.objects.filter(pk=snap.pk).update(
            taken_at=timezone.make_aware(datetime.datetime.combine(allocation.start_date, datetime.time(12)))
            + datetime.timedelta(days=30 - days))
    sign_in_as(page, live_server, applicant)
    page.goto(live_server.url + f"/allocations/{allocation.reference}/")
    expect(page.get_by_role("heading", name="How to connect and run a first job")).to_be_visible()
    expect(page.get_by_text(f"sbatch -A {allocation.slurm_account}")).to_be_visible()
    script = page.locator("pre.job-script").first
    expect(script).to_contain_text(f"#SBATCH --account={allocation.slurm_account}")
    expect(script).to_contain_text("#SBATCH --gres=gpu:h100:1")
    expect(page.get_by_text("login.zellik.aifactory.example")).to_be_visible()
    expect(page.get_by_text("Evidence accepted", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="GPU-hours used on Zellik over time")).to_be_visible()
    axe_check(page, context="allocation page with the connection instructions")
    shoot(page, "allocation")
