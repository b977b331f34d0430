"""The portal uses the engine's rule: no submission, and no classification, from incomplete or
contradictory answers; the application's own steps take part in the consistency checks; a stored
assessment made with earlier questions is never reclassified behind the applicant's back."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from allocations.applications import services
from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import Application, ApplicationStatus
from allocations.catalogue.models import Site
from compliance.ai_act import checks
from compliance.ai_act.compute import GPU_PEAK_FLOPS, GPU_PEAK_SOURCES, ComputeInputs, estimate_compute
from compliance.ai_act.wording import compute_warning_text
from compliance.models import RiskAssessment
from compliance.services import compute_for_application
from tests import factories as f

pytestmark = pytest.mark.django_db

# The factory's project fine-tunes a vision model (no text, image or video generation), provided in
# the Union under the applicant's name.
CONSISTENT = {
    "research_only": "no", "pre_market_rnd": "no", "military_only": "no", "union_link": ["placed_in_union"],
    "operator_role": ["provider"], "prohibited_practices": ["none"], "intimate_imagery": "no",
    "annex_i_product": "no", "annex_iii_areas": ["none"], "interacts_with_persons": "no",
    "synthetic_content": ["none"], "emotion_biometric_exposure": "no", "public_disclosure": ["none"],
    "open_source_system": "no", "trains_model": "yes", "model_modalities": ["other"], "modifies_gpai_model": "no",
    "open_weights": "yes", "open_weights_monetised": "no",
}
DENIES_TRAINING = {k: v for k, v in CONSISTENT.items()
                   if k not in ("model_modalities", "modifies_gpai_model", "open_weights", "open_weights_monetised")
                   } | {"trains_model": "no"}
TRAINING_CONTRADICTION = "Contradictory answers in the EU AI Act assessment: Whether the project trains a model"
# Recruitment answered with the first edition of the questionnaire: the area, not the point.
FIRST_EDITION_RECRUITMENT = {
    "research_only": "no", "pre_market_rnd": "no", "prohibited_practices": ["none"], "intimate_imagery": "no",
    "annex_i_product": "no", "annex_iii_areas": ["employment"], "derogation_conditions": ["none"],
    "interacts_with_persons": "no", "synthetic_content": ["none"], "emotion_biometric_exposure": "no",
    "public_disclosure": ["none"], "trains_model": "no",
}


def problems(app) -> list[str]:
    return [p.message for p in services.validate_for_submission(Application.objects.get(pk=app.pk))]


def test_consistent_answers_conclude_and_can_be_submitted(member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=CONSISTENT)
    assessment = RiskAssessment.objects.get(application=app)
    assert assessment.complete and assessment.classification == "minimal"
    submitted = services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert submitted.status == ApplicationStatus.SUBMITTED


def test_denying_the_declared_training_stores_no_classification_and_is_refused(member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=DENIES_TRAINING)  # the model step says: fine-tune
    assessment = RiskAssessment.objects.get(application=app)
    assert not assessment.complete and assessment.classification == ""
    assert assessment.result["classification"] == "incomplete" and assessment.result["conclusions"] == []
    assert [c["code"] for c in assessment.result["contradictions"]] == ["training_answer_contradicts_declaration"]
    assert any(p.startswith(TRAINING_CONTRADICTION) for p in problems(app)), problems(app)
    with pytest.raises(ValidationError):
        services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)
    assert Application.objects.get(pk=app.pk).status == ApplicationStatus.DRAFT


def test_a_later_change_of_the_model_step_is_caught_at_submission(member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=CONSISTENT)
    services.application_update_step(actor=member, application=app, step="model",
                                     data={"model_activity": "inference"})
    assert RiskAssessment.objects.get(application=app).complete  # as saved, before the change
    assert any(p.startswith(TRAINING_CONTRADICTION) for p in problems(app)), problems(app)
    with pytest.raises(ValidationError):
        services.application_submit(actor=member, application=app, declaration_version=DECLARATION_VERSION)


def test_training_without_any_compute_figure_is_missing_an_input(member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=CONSISTENT, gpu_hours=0)
    Application.objects.filter(pk=app.pk).update(parameter_count=None, training_tokens=None)
    assert "The EU AI Act assessment needs: The training compute of the project: GPU-hours on a known GPU type, " \
           "or the model's parameters and training tokens." in problems(app)


def test_the_step_page_says_what_is_missing_and_what_contradicts(member_client, member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=DENIES_TRAINING)
    page = member_client.get(reverse("applications:step_ai_act", args=[app.reference])).content.decode()
    assert "No conclusion yet: answers missing or contradictory" in page
    assert "Contradictory answers" in page and "Whether the project trains a model" in page
    response = member_client.post(reverse("applications:step_ai_act", args=[app.reference]),
                                  {"research_only": "no"}, follow=True)
    page = response.content.decode()
    assert "Answer this question." in page  # each question the path still needs, at its field
    assert "Will the AI system be placed on the market, put into service or used exclusively for military" in page
    assert "Conclusions" not in page


def test_a_submitted_first_edition_assessment_is_shown_as_stored(client, member, organisation):
    app = f.application(status=ApplicationStatus.SUBMITTED, member=member, classification="high_risk")
    RiskAssessment.objects.filter(application=app).update(answers=FIRST_EDITION_RECRUITMENT)
    client.force_login(member)
    page = client.get(reverse("applications:application_detail", args=[app.reference])).content.decode()
    assert "High-risk AI system" in page
    assert "earlier edition of the questionnaire" in page
    assert "No conclusion yet" not in page
    assessment = RiskAssessment.objects.get(application=app)
    assert assessment.classification == "high_risk" and assessment.complete


def test_a_site_gpu_without_a_peak_figure_is_never_guessed(member, organisation, capacity, caplog):
    app = f.complete(member, organisation, ai_act=CONSISTENT)
    Site.objects.filter(code="zellik").update(gpu_model="B200")  # a type the hardware records do not know
    estimate = compute_for_application(Application.objects.get(pk=app.pk))
    assert estimate.hardware_flop == 0  # its GPU-hours are left out, not counted at the H100's peak
    assert estimate.estimate_flop == estimate.architecture_flop
    assert any(p.startswith("The EU AI Act assessment needs: The peak performance of the GPU type of a requested "
                            "site") for p in problems(app)), problems(app)
    assert "B200" in caplog.text and "gpus.yaml" in caplog.text  # the operators are told


def test_the_system_check_names_a_gpu_type_without_a_peak_figure(monkeypatch):
    monkeypatch.setattr(checks, "GPU_PEAK_FLOPS", {"A100": 312e12, "H100": 989e12, "MI300X": 1307e12})
    errors = checks.check_gpu_peaks()
    assert [(e.id, e.msg) for e in errors] == [
        ("compliance.E003", "GPU type 'H200' has no peak figure for the AI Act training-compute estimate.")]
    monkeypatch.undo()
    assert checks.check_gpu_peaks() == []


def test_every_gpu_peak_comes_with_its_source():
    assert set(GPU_PEAK_SOURCES) == set(GPU_PEAK_FLOPS)
    for model, source in GPU_PEAK_SOURCES.items():
        assert "data sheet" in source and "sparsity" in source, model  # dense figures, not the sparse ones


@pytest.mark.parametrize(("language", "start"), [
    ("fr", "La puissance de calcul d'entraînement cumulée estimée, 1.02e+25 FLOP, dépasse 1e+25 FLOP"),
    ("nl", "De geschatte cumulatieve trainingsrekenkracht van 1.02e+25 FLOP ligt boven 1e+25 FLOP"),
])
def test_compute_warnings_are_worded_in_the_readers_language(language, start):
    estimate = estimate_compute(ComputeInputs(gpu_hours=0, gpu_peak_flops=0, parameters=10**11,
                                              training_tokens=17 * 10**12))
    warnings = {w["code"]: w for w in estimate.to_dict()["warnings"]}
    with translation.override(language):
        assert compute_warning_text(warnings["systemic_threshold"]).startswith(start)
        near = compute_warning_text(warnings["near_systemic_threshold"])
    assert "10 %" in near and ("jetons" in near if language == "fr" else "trainingstokens" in near)


def test_a_warning_stored_without_figures_keeps_its_message():
    assert compute_warning_text({"code": "gpai_threshold", "message": "Stored wording."}) == "Stored wording."


def test_the_step_page_in_dutch_names_the_incomplete_result(client, member, organisation, capacity):
    app = f.complete(member, organisation, ai_act=DENIES_TRAINING)
    client.force_login(member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    page = client.get(reverse("applications:step_ai_act", args=[app.reference])).content.decode()
    assert "Nog geen conclusie: antwoorden ontbreken of spreken elkaar tegen" in page
    assert "Tegenstrijdige antwoorden" in page and "Traint het project een model?" in page
