"""The overall AI Act risk class of an assessment: the one vocabulary for engine, pages, reports and API.

The values are what the rule sets name and what ``RiskAssessment.classification`` stores; the labels
are what people read, in every language and on every medium (page, PDF, CSV, API description)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskClass(models.TextChoices):
    # Declared strongest first: reports list the classes in this order.
    PROHIBITED = "prohibited", _("Prohibited AI practice (Art. 5)")
    HIGH_RISK = "high_risk", _("High-risk AI system")
    GPAI_SYSTEMIC = "gpai_systemic", _("General-purpose AI model with systemic risk")
    GPAI = "gpai", _("General-purpose AI model")
    TRANSPARENCY = "transparency", _("Transparency obligations (Art. 50)")
    MINIMAL = "minimal", _("Minimal risk")
    OUT_OF_SCOPE = "out_of_scope", _("Outside the scope of the AI Act")
    # Not a risk class: the engine draws no conclusion while a question its path needs is unanswered
    # or two answers contradict each other.
    INCOMPLETE = "incomplete", _("No conclusion yet: answers missing or contradictory")


#: What a blank classification means to a reader: no assessment, or one with unanswered questions.
NOT_ASSESSED = _("Not assessed")


def risk_class_label(code: str | None):
    """The label of a stored classification; blank reads "Not assessed", an unknown code is shown as is."""
    if not code:
        return NOT_ASSESSED
    try:
        return RiskClass(code).label
    except ValueError:
        return code
