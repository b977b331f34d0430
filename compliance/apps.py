from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

from .ai_act.checks import check_gpu_peaks, check_rulesets


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance and audit")

    def ready(self):
        checks.register(check_rulesets, "compliance")
        checks.register(check_gpu_peaks, "compliance")
