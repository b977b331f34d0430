"""`manage.py reassess_ai_act`: what a rule set would change, which stored assessments need answers to new
questions (never reclassified from partial answers), and nothing written."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from allocations.applications.models import Application, ApplicationStatus
from compliance.models import RiskAssessment
from tests import factories as f
from tests.factories import reports as report_builders

from .test_ai_act_portal import FIRST_EDITION_RECRUITMENT

pytestmark = pytest.mark.django_db


def reassess(*args: str) -> dict:
    out = StringIO()
    call_command("reassess_ai_act", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def stored():
    """One assessment per case, keyed by what it is."""
    first_edition = f.application(status=ApplicationStatus.SUBMITTED, classification="high_risk")
    RiskAssessment.objects.filter(application=first_edition).update(answers=FIRST_EDITION_RECRUITMENT)
    second_edition = f.application(status=ApplicationStatus.SUBMITTED, classification="high_risk")
    Application.objects.filter(pk=second_edition.pk).update(model_activity="inference")  # as its answers say
    second_edition.refresh_from_db()
    report_builders.store_assessment(second_edition)  # recruitment by its provider, under 2026-omnibus
    draft = f.application(status=ApplicationStatus.DRAFT)
    RiskAssessment.objects.filter(application=draft).update(answers={"research_only": "no"}, complete=False,
                                                            classification="")
    broken = f.application(status=ApplicationStatus.SUBMITTED)
    RiskAssessment.objects.filter(application=broken).update(answers={"research_only": "perhaps"})
    return {"first_edition": first_edition, "second_edition": second_edition, "draft": draft, "broken": broken}


def rows_by_reference(report: dict) -> dict[str, dict]:
    return {row["reference"]: row for row in report["rows"]}


def test_first_edition_answers_need_the_new_questions_and_keep_their_class(stored):
    before = list(RiskAssessment.objects.order_by("pk").values_list("classification", "complete", "result"))
    report = reassess("--ruleset", "2026-omnibus")
    row = rows_by_reference(report)[stored["first_edition"].reference]
    assert row["status"] == "needs_new_answers"
    assert row["classification"] == ["high_risk", "high_risk"]  # not reclassified
    # The first new question of its path (the rest of the path is asked once that is answered).
    assert row["missing"] == ["military_only"]
    assert report["need_new_answers"] == 1
    assert list(RiskAssessment.objects.order_by("pk").values_list("classification", "complete", "result")) == before


def test_second_edition_answers_report_the_changed_dates(stored):
    report = reassess("--ruleset", "2024")
    row = rows_by_reference(report)[stored["second_edition"].reference]
    assert row["status"] == "changes" and row["classification"] == ["high_risk", "high_risk"]
    assert row["not_asked"] == ["intimate_imagery"]  # an Omnibus prohibition the 2024 text does not have
    assert row["conclusions_added"] == [] and row["conclusions_removed"] == []
    # Annex III obligations: 2 December 2027 under the Omnibus, 2 August 2026 in the 2024 text.
    assert "hr_annex_iii_registration" in row["obligation_dates_changed"]
    assert report["would_change"] == 1
    same = rows_by_reference(reassess("--ruleset", "2026-omnibus"))[stored["second_edition"].reference]
    assert same["status"] == "same" and same["stored_file_matches"] is True


def test_incomplete_drafts_and_answers_that_do_not_fit(stored):
    rows = rows_by_reference(reassess("--ruleset", "2024"))
    assert rows[stored["draft"].reference]["status"] == "incomplete"
    assert rows[stored["broken"].reference]["status"] == "error"
    assert "research_only" in rows[stored["broken"].reference]["error"]


def test_only_changes_and_the_text_report(stored):
    report = reassess("--ruleset", "2024", "--only-changes")
    assert {row["status"] for row in report["rows"]} == {"changes", "needs_new_answers", "error"}
    out = StringIO()
    call_command("reassess_ai_act", "--ruleset", "2024", stdout=out)
    text = out.getvalue()
    assert f"{stored['first_edition'].reference}: NEEDS NEW ANSWERS (high_risk kept) missing: military_only" in text
    assert f"{stored['second_edition'].reference}: CHANGES high_risk -> high_risk" in text
    assert "1 of 4 assessments would change; 1 need answers to new questions." in text


def test_unknown_ruleset():
    with pytest.raises(CommandError, match="unknown rule set"):
        call_command("reassess_ai_act", "--ruleset", "2019", stdout=StringIO())
