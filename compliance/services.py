"""AI Act assessments and the ethics review that gates every grant."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.models import SENSITIVE_SECTORS, NotificationKind, User
from accounts.notifications import notify, notify_role
from accounts.roles import Role, has_role
from allocations.applications.models import Application, ApplicationStatus, ModelActivity
from allocations.applications.permissions import can_edit_application, is_applicant_member
from portal.audit import AuditAction, audit_record
from portal.tasking import enqueue_on_commit
from portal.workflow import transition

from .ai_act import engine
from .ai_act.compute import GPU_PEAK_FLOPS, ComputeEstimate, ComputeInputs, estimate_compute
from .models import AUTO_CLEARANCE_RULE, EthicsCondition, EthicsReview, EthicsStatus, EvidenceStatus, RiskAssessment
from .triggers import trigger_text
from .workflow import CLEARED, DECISIONS, ETHICS_WORKFLOW, NOT_WAITING

logger = logging.getLogger(__name__)


def _requested_gpus(application) -> tuple[list, list]:
    """The application's GPU requests on sites whose GPU type has a peak figure, and on sites whose has none."""
    resources = [r for r in application.resources.select_related("site") if r.gpu_hours]
    known = [r for r in resources if r.site.gpu_model in GPU_PEAK_FLOPS]
    return known, [r for r in resources if r.site.gpu_model not in GPU_PEAK_FLOPS]


def compute_for_application(application) -> ComputeEstimate | None:
    """Both estimates for the request, plus earlier allocations of the same model lineage.

    GPU-hours on a site whose GPU type has no peak figure (compliance/ai_act/gpus.yaml) are left out of
    the hardware estimate, never guessed: the assessment then lacks an input (``gpu_peak_unknown``),
    and the operators are told in the log and by the system check compliance.E003."""
    resources, unknown = _requested_gpus(application)
    for r in unknown:
        logger.error("Site %s declares GPU type %r, which has no peak figure in the AI Act hardware records; "
                     "add it to compliance/ai_act/gpus.yaml", r.site.code, r.site.gpu_model)
    gpu_hours = sum(r.gpu_hours for r in resources)
    if not gpu_hours and not (application.parameter_count and application.training_tokens):
        return None
    # The hardware estimate sums per site, each with its own GPU's dense BF16 peak.
    utilisation = getattr(settings, "AIF_COMPUTE_UTILISATION", 0.4)
    hardware = sum(r.gpu_hours * 3600 * GPU_PEAK_FLOPS[r.site.gpu_model] * utilisation for r in resources)
    effective_peak = hardware / (gpu_hours * 3600 * utilisation) if gpu_hours else 0.0
    inputs = ComputeInputs(
        gpu_hours=float(gpu_hours), gpu_peak_flops=float(effective_peak), utilisation=utilisation,
        parameters=application.parameter_count or None, training_tokens=application.training_tokens or None,
        base_model_flop=application.base_model_flop or None, prior_lineage_flop=prior_lineage_flop(application),
    )
    ruleset = engine.load_ruleset(engine.DEFAULT_RULESET)
    return estimate_compute(inputs, thresholds=ruleset.thresholds)


def prior_lineage_flop(application) -> float:
    """Cumulative compute (Art. 51(2)): earlier granted allocations declared as the same lineage."""
    if not application.model_lineage:
        return 0.0
    earlier = (Application.objects
               .filter(organisation_id=application.organisation_id, model_lineage__iexact=application.model_lineage,
                       status=ApplicationStatus.APPROVED)
               .exclude(pk=application.pk)
               .select_related("risk_assessment"))
    total = 0.0
    for other in earlier:
        assessment = getattr(other, "risk_assessment", None)
        if assessment and assessment.result.get("compute"):
            total += float(assessment.result["compute"].get("estimate_flop") or 0)
    return total


def facts_for_application(application) -> frozenset[str]:
    """What the application's other steps say, for the questionnaire's consistency checks: the AI work
    declared on the model step, and GPU-hours requested on a site whose GPU type has no peak figure."""
    facts = set()
    if application.model_activity in (ModelActivity.TRAIN, ModelActivity.FINE_TUNE):
        facts.add("training_declared")
    elif application.model_activity in (ModelActivity.INFERENCE, ModelActivity.OTHER):
        facts.add("no_training_declared")
    if _requested_gpus(application)[1]:
        facts.add("gpu_peak_unknown")
    return frozenset(facts)


def assessment_classify(*, application, answers: dict[str, Any], ruleset_version: str | None = None,
                        language: str = "en") -> engine.AssessmentResult:
    """The result for these answers with the application's current compute figures and declared AI work.

    Raises ``engine.AnswerError`` for answers that do not fit the rule set."""
    ruleset = engine.load_ruleset(ruleset_version or engine.DEFAULT_RULESET)
    return engine.classify(ruleset, answers, compute_for_application(application), language=language,
                           facts=facts_for_application(application))


def assessment_evaluate(*, application, answers: dict[str, Any], ruleset_version: str | None = None,
                        language: str = "en") -> tuple[dict[str, Any], list[str]]:
    """Pure preview: the result for these answers and what is still missing (questions, then inputs)."""
    result = assessment_classify(application=application, answers=answers, ruleset_version=ruleset_version,
                                 language=language)
    return result.to_dict(), list(result.missing_answers)


def assessment_save(*, actor, application, answers: dict[str, Any]) -> RiskAssessment:
    """Store the applicant's answers with the rule-set version, its file hash and the result.

    Incomplete or contradictory answers are stored too (a draft is saved as it goes), but without a
    classification and marked incomplete, so that submission refuses them."""
    if not can_edit_application(actor, application):
        raise PermissionDenied(_("Only members of the applying organisation can answer while it is a draft."))
    ruleset = engine.load_ruleset(engine.DEFAULT_RULESET)
    try:
        cleaned = engine.clean_answers(ruleset, answers)
    except engine.AnswerError as exc:
        raise ValidationError(exc.errors) from exc
    # Judged against the application as stored (its compute figures and declared AI work), not a caller's copy.
    stored = Application.objects.get(pk=application.pk)
    result = assessment_classify(application=stored, answers=cleaned, ruleset_version=ruleset.version)
    data = result.to_dict()
    with transaction.atomic():
        assessment, _created = RiskAssessment.objects.select_for_update().get_or_create(
            application=application,
            defaults={"ruleset_version": ruleset.version, "ruleset_sha256": ruleset.sha256})
        assessment.ruleset_version = ruleset.version
        assessment.ruleset_sha256 = ruleset.sha256
        assessment.answers = cleaned
        assessment.result = data
        assessment.classification = str(result.classification) if result.complete else ""
        assessment.needs_ethics_review = bool(result.flags.get("needs_ethics_review"))
        assessment.prohibited = bool(result.flags.get("prohibited"))
        assessment.complete = result.complete
        assessment.save()
        audit_record(actor=actor, action=AuditAction.RISK_ASSESSMENT_SAVED, target=application, changes={
            "ruleset": ruleset.version, "ruleset_sha256": ruleset.sha256,
            "classification": assessment.classification, "complete": assessment.complete})
    return assessment


def assessment_problems(application) -> list[str]:
    """What keeps the AI Act assessment from concluding, judged as at submission: the stored answers
    against the current rule set, compute figures and declared AI work."""
    assessment = RiskAssessment.objects.filter(application=application).first()
    if assessment is None:
        return [_("Complete the EU AI Act questionnaire.")]
    language = engine.supported_language(get_language())
    try:
        result = assessment_classify(application=application, answers=dict(assessment.answers), language=language)
    except engine.AnswerError:
        return [_("Answer the EU AI Act questionnaire again: some saved answers no longer fit its questions.")]
    ruleset = engine.load_ruleset(result.ruleset)
    questions = [m for m in result.missing if m.code in {q.id for q in ruleset.questions}]
    inputs = [m for m in result.missing if m not in questions]
    problems: list[str] = []
    if questions:
        problems.append(ngettext("%(n)s question of the EU AI Act questionnaire needs an answer.",
                                 "%(n)s questions of the EU AI Act questionnaire need an answer.",
                                 len(questions)) % {"n": len(questions)})
    problems.extend(_("The EU AI Act assessment needs: %(input)s.") % {"input": m.text} for m in inputs)
    problems.extend(_("Contradictory answers in the EU AI Act assessment: %(contradiction)s") % {
        "contradiction": c.text} for c in result.contradictions)
    return problems


def ethics_triggers(application) -> list[dict[str, str]]:
    """Why an application needs an ethics officer, each reason citing the rule it comes from.

    Each trigger keeps its code; its ``text`` is the wording at the time (an AI Act rule's title as the
    stored result has it, in English). Pages and reports word it again in their reader's language
    (``trigger_lines``)."""
    triggers: list[dict[str, str]] = []
    assessment = RiskAssessment.objects.filter(application=application).first()
    if assessment is not None:
        flags = assessment.result.get("flags", {})
        for conclusion in assessment.result.get("conclusions", []):
            if conclusion.get("code") and flags.get("needs_ethics_review"):
                triggers.append({"code": f"ai_act:{conclusion['code']}", "rule": conclusion.get("article", ""),
                                 "text": conclusion.get("title", "")})
    if application.sector in SENSITIVE_SECTORS:
        triggers.append({"code": f"sector:{application.sector}", "rule": "Reg. (EU) 2021/1173 Art. 16"})
    if application.dual_use:
        triggers.append({"code": "dual_use", "rule": "Horizon Europe ethics issues table: dual use"})
    if application.civilian_purpose is False:
        triggers.append({"code": "not_civilian", "rule": "Reg. (EU) 2021/1173 Art. 16"})
    for code, entry in sorted((application.ethics_issues or {}).items()):
        if entry.get("answer"):
            triggers.append({"code": f"ethics_issue:{code}", "rule": "Horizon Europe ethics issues table"})
    for trigger in triggers:
        trigger.setdefault("text", trigger_text(trigger["code"]) or "")
    return triggers




def ethics_review_open(*, application) -> EthicsReview:
    """At submission: queue for an ethics officer, or record an automatic clearance citing the rule.

    A resubmission opens an undecided review again (a human decision stands); going from pending to
    cleared automatically, or back, is a move of the ethics workflow."""
    triggers = ethics_triggers(application)
    target = EthicsStatus.PENDING if triggers else EthicsStatus.AUTO_CLEARED
    action = AuditAction.ETHICS_REVIEW_OPENED if triggers else AuditAction.ETHICS_REVIEW_AUTO_CLEARED
    codes = [t["code"] for t in triggers]

    def reset(review: EthicsReview) -> list[str]:
        review.triggers = triggers
        review.reasons = "" if triggers else AUTO_CLEARANCE_RULE
        review.decided_at = None if triggers else timezone.now()
        review.decided_by = None
        return ["triggers", "reasons", "decided_at", "decided_by"]

    with transaction.atomic():
        review, created = EthicsReview.objects.select_for_update().get_or_create(
            application=application, defaults={"status": target})
        if not created and review.status not in (EthicsStatus.PENDING, EthicsStatus.AUTO_CLEARED):
            return review  # a human decision stands until the application is resubmitted
        if review.status != target:
            return transition(ETHICS_WORKFLOW, actor=None, obj=review, to=target, before_save=reset, action=action,
                              audit_target=lambda row: application, changes={"triggers": codes},
                              then=(lambda row, old: _notify_ethics_officers(application)) if triggers else None)
        # The first opening, or a resubmission that stays where it was: the triggers are brought up to date.
        review.save(update_fields=reset(review))
        audit_record(actor=None, action=action, target=application, changes={"status": target, "triggers": codes})
        if created and triggers:
            _notify_ethics_officers(application)
    return review


def ethics_decide(*, actor, application, status: str, reasons: str = "",
                  conditions: list[str] | None = None, evidence_conditions: list[str] | None = None) -> EthicsReview:
    """Clear, clear with conditions or refuse a pending ethics review; the same decision twice is a no-op.

    `evidence_conditions` are conditions that ask the applicant for a document ("share the DPIA summary"):
    met once acknowledged and the evidence accepted by an ethics officer."""
    if not has_role(actor, Role.ETHICS_OFFICER):
        raise PermissionDenied(_("Only ethics officers decide on ethics reviews."))
    plain = [c.strip() for c in (conditions or []) if c and c.strip()]
    with_evidence = [c.strip() for c in (evidence_conditions or []) if c and c.strip()]
    conditions = plain + with_evidence
    if status not in DECISIONS:
        raise ValidationError(_("Choose cleared, cleared with conditions or refused."))
    if status == EthicsStatus.CLEARED_WITH_CONDITIONS and not conditions:
        raise ValidationError({"conditions": _("State at least one condition.")})
    if status == EthicsStatus.REFUSED and not reasons.strip():
        raise ValidationError({"reasons": _("Give the reasons for the refusal.")})
    if status != EthicsStatus.CLEARED_WITH_CONDITIONS and conditions:
        raise ValidationError({"conditions": _("Conditions go with 'cleared with conditions' only.")})
    review = EthicsReview.objects.filter(application=application).first()
    if review is None:
        raise ValidationError(NOT_WAITING)

    def check(row: EthicsReview) -> None:
        assessment = RiskAssessment.objects.filter(application=application).first()
        if status != EthicsStatus.REFUSED and assessment is not None and assessment.prohibited:
            raise ValidationError(_("The assessment found a prohibited practice (AI Act Art. 5): it can only be "
                                    "refused."))

    def record(row: EthicsReview) -> list[str]:
        row.reasons = reasons.strip()
        row.decided_by = actor
        row.decided_at = timezone.now()
        for text in plain:
            EthicsCondition.objects.create(review=row, text=text)
        for text in with_evidence:
            EthicsCondition.objects.create(review=row, text=text, evidence_status=EvidenceStatus.MISSING)
        return ["reasons", "decided_by", "decided_at"]

    def follow_up(row: EthicsReview, old: str) -> None:
        if status in CLEARED:
            notify_if_ready_for_decision(actor=actor, application=row.application)

    return transition(ETHICS_WORKFLOW, actor=actor, obj=review, to=status, check=check, before_save=record,
                      audit_target=lambda row: application, changes={"conditions": len(conditions)},
                      select_related=("application__organisation",), then=follow_up)


def condition_acknowledge(*, actor, condition: EthicsCondition) -> EthicsCondition:
    application = condition.review.application
    if not is_applicant_member(actor, application):
        raise PermissionDenied(_("Only members of the applying organisation acknowledge conditions."))
    with transaction.atomic():
        cond = EthicsCondition.objects.select_for_update().get(pk=condition.pk)
        if cond.acknowledged_at:
            return cond
        cond.acknowledged_at = timezone.now()
        cond.acknowledged_by = actor
        cond.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(actor=actor, action=AuditAction.ETHICS_CONDITION_ACKNOWLEDGED, target=application,
                     changes={"condition_id": cond.pk})
        if cond.is_met:
            enqueue_on_commit(START_DUE_TASK)
    return cond


def conditions_outstanding(application) -> int:
    """Conditions not met yet: not acknowledged, or asking for evidence an ethics officer has not accepted.
    The allocation starts only at zero (grants.services.allocation_start_if_due)."""
    return EthicsCondition.objects.filter(review__application=application).filter(
        Q(acknowledged_at=None) | Q(evidence_status__in=EVIDENCE_PENDING)).count()


# The evidence of a condition that keeps it from being met.
EVIDENCE_PENDING = (EvidenceStatus.MISSING, EvidenceStatus.SUBMITTED, EvidenceStatus.REJECTED)
# allocations.grants.tasks.allocations_start_due, queued by name (grants imports this module): a condition
# met may be the last thing an allocation whose start date came was waiting for.
START_DUE_TASK = "allocations.grants.tasks.allocations_start_due"


def condition_evidence_decide(*, actor, condition: EthicsCondition, accept: bool, comment: str = "") -> EthicsCondition:
    """An ethics officer accepts the evidence uploaded for a condition, or rejects it saying what is missing
    (the applicant then uploads it again). Audited; the organisation's members are told."""
    if not has_role(actor, Role.ETHICS_OFFICER):
        raise PermissionDenied(_("Only ethics officers examine the evidence for conditions."))
    comment = comment.strip()
    if not accept and not comment:
        raise ValidationError({"comment": _("Say what is missing, so that the applicant can upload it again.")})
    with transaction.atomic():
        cond = EthicsCondition.objects.select_for_update().select_related(
            "review__application__organisation").get(pk=condition.pk)
        if cond.evidence_status != EvidenceStatus.SUBMITTED:
            raise ValidationError(_("There is no evidence waiting for a decision on this condition."))
        cond.evidence_status = EvidenceStatus.ACCEPTED if accept else EvidenceStatus.REJECTED
        cond.evidence_comment = comment
        cond.evidence_decided_by = actor
        cond.evidence_decided_at = timezone.now()
        cond.save(update_fields=["evidence_status", "evidence_comment", "evidence_decided_by", "evidence_decided_at"])
        application = cond.review.application
        audit_record(actor=actor, action=AuditAction.ETHICS_EVIDENCE_DECIDED, target=application,
                     changes={"condition_id": cond.pk, "evidence_status": cond.evidence_status,
                              "attachment_id": cond.evidence_id})
        notify(recipients=User.objects.filter(memberships__organisation_id=application.organisation_id),
               kind=NotificationKind.EVIDENCE_DECIDED, exclude=actor,
               params={"reference": application.reference, "organisation": application.organisation.legal_name,
                       "condition": cond.text[:200], "evidence_status": cond.evidence_status, "comment": comment[:500]},
               link=reverse("grants:allocation_detail", args=[application.reference]))
        if accept:
            enqueue_on_commit(START_DUE_TASK)
    return cond


def approval_blockers(application) -> list[str]:
    """Ethics reasons an application cannot be approved; enforced by the approval service."""
    blockers = []
    assessment = RiskAssessment.objects.filter(application=application).first()
    if assessment is None or not assessment.complete:
        blockers.append(_("The AI Act assessment is incomplete."))
    elif assessment.prohibited:
        blockers.append(_("The AI Act assessment found a prohibited practice (Art. 5): compute cannot be granted."))
    review = EthicsReview.objects.filter(application=application).first()
    if review is None or review.status == EthicsStatus.PENDING:
        blockers.append(_("The ethics review has not cleared this application yet."))
    elif review.status == EthicsStatus.REFUSED:
        blockers.append(_("The ethics review refused this application."))
    return blockers


def ethics_cleared(application) -> bool:
    return EthicsReview.objects.filter(application=application, status__in=CLEARED).exists()


def _notification_params(application) -> dict[str, str]:
    return {"reference": application.reference, "organisation": application.organisation.legal_name,
            "due": application.decision_due.isoformat() if application.decision_due else ""}


def notify_if_ready_for_decision(*, actor, application) -> None:
    """Tell the allocation managers once an application has every review and its ethics clearance,
    whichever came last (the last review in review.services, the ethics decision here). Inside the
    caller's transaction; the actor is not told what they just did."""
    if application.status == ApplicationStatus.AWAITING_DECISION and ethics_cleared(application):
        notify_role(role=Role.ALLOCATION_MANAGER, kind=NotificationKind.READY_FOR_DECISION,
                    params=_notification_params(application), exclude=actor,
                    link=reverse("review:application_decision", args=[application.reference]))


def _notify_ethics_officers(application) -> None:
    notify_role(role=Role.ETHICS_OFFICER, kind=NotificationKind.ETHICS_QUEUED,
                params=_notification_params(application),
                link=reverse("compliance:ethics_review", args=[application.reference]))
