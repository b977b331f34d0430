"""A team member finds the terms of use to accept on their dashboard, reads them in their language and
accepts each version; the allocation is provisioned again with them in the association. An operator
publishes a version through the form (an error at its field first) and sees who has not accepted."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Membership
from allocations.applications.models import TeamMember
from allocations.provisioning.services import site_team
from allocations.terms.models import TermsAcceptance, TermsVersion
from portal.models import AuditChainHead
from tests import factories as f
from tests.browser.conftest import axe_check, sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set AIF_SCREENSHOTS=/some/dir to keep the pages at 1280 and 390 px wide.
SHOTS = os.environ.get("AIF_SCREENSHOTS", "")


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_team_member_accepts_the_platform_and_site_terms(page, live_server, settings):
    settings.AIF_SLURM_BACKEND = ""
    AuditChainHead.objects.get_or_create(id=1)
    allocation, _manager, _applicant = f.approved_allocation(users=("ines",), sites=("zellik",))
    member = TeamMember.objects.get(application_id=allocation.application_id)
    ines = f.member_account(member)
    Membership.objects.create(user=ines, organisation=allocation.organisation, role="member")
    f.terms_version(title="Platform acceptable use", text="Use the GPUs for the granted project only.",
                    title_fr="Utilisation acceptable", text_fr="Utilisez les GPU pour le projet octroyé seulement.")
    f.terms_version(site=f.site("zellik"), title="Zellik site rules", text="Keep your data in your project folder.",
                    effective=timezone.localdate() + datetime.timedelta(days=14))
    zellik = f.site("zellik")
    assert site_team(zellik).get(allocation.application_id, []) == []

    sign_in_as(page, live_server, ines)
    page.goto(live_server.url + "/dashboard/")
    pending = page.get_by_role("region", name="Terms of use to accept")
    expect(pending).to_contain_text("Platform acceptable use v1")
    expect(pending).to_contain_text("you are out of the clusters' accounts until you accept")
    expect(pending).to_contain_text("Zellik site rules v1")
    axe_check(page, context="dashboard with terms to accept")
    shoot(page, "terms-dashboard")
    page.goto(live_server.url + allocation.get_absolute_url())
    expect(page.get_by_role("region", name="Terms of use")).to_contain_text("Out of the accounts on")
    axe_check(page, context="allocation with terms to accept")
    shoot(page, "terms-allocation")
    page.goto(live_server.url + "/dashboard/")
    pending.get_by_role("link", name="Read and accept the terms").click()

    expect(page).to_have_url(re.compile(r"/terms/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms of use")
    platform = page.get_by_role("region", name="Platform acceptable use v1")
    expect(platform).to_contain_text("Use the GPUs for the granted project only.")
    axe_check(page, context="terms to accept")
    shoot(page, "terms-pending")
    platform.get_by_role("button", name="I accept Platform acceptable use v1").click()
    accepted = "You accepted Platform terms of use (version 1)."
    expect(page.get_by_role("status").filter(has_text=accepted)).to_be_visible()
    assert site_team(zellik)[allocation.application_id] == ["ines"], "the site's own terms are not in force yet"

    site_rules = page.get_by_role("region", name="Zellik site rules v1")
    expect(site_rules).to_contain_text("Accept before")
    site_rules.get_by_role("button", name="I accept Zellik site rules v1").click()
    expect(page.get_by_text("Nothing to accept")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Zellik site rules v1")
    axe_check(page, context="terms accepted")
    shoot(page, "terms-accepted")
    assert TermsAcceptance.objects.filter(user=ines).count() == 2

    page.goto(live_server.url + allocation.get_absolute_url())
    expect(page.get_by_role("heading", name="Terms of use")).to_have_count(0)


def test_an_operator_publishes_a_version_and_sees_who_has_not_accepted(page, live_server, settings):
    settings.AIF_SLURM_BACKEND = ""
    AuditChainHead.objects.get_or_create(id=1)
    allocation, _manager, _applicant = f.approved_allocation(users=("omar",), sites=("zellik",))
    f.member_account(TeamMember.objects.get(application_id=allocation.application_id))
    sign_in_as(page, live_server, f.OperatorFactory())
    page.goto(live_server.url + "/staff/terms/")
    page.get_by_role("link", name="Publish a new version").click()
    page.get_by_label("Title in English").fill("Acceptable use")
    page.get_by_label("Effective date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#id_text_en_error")).to_contain_text("Give the text in English")
    axe_check(page, context="publish form with an error")
    shoot(page, "terms-publish-error")
    page.get_by_label("Text in English").fill("Use the clusters for the granted project only.")
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/staff/terms/$"))
    zellik = page.get_by_role("region", name="Zellik: who has not accepted")
    expect(zellik.get_by_role("row", name=re.compile("Member 0"))).to_contain_text("Held out")
    axe_check(page, context="operator terms overview")
    shoot(page, "terms-operator")
    assert TermsVersion.objects.get().text_en == "Use the clusters for the granted project only."
