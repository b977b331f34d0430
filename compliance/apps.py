from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance and audit")

    def ready(self):
        from django.core import checks

        from .ai_act.checks import check_rulesets

        checks.register(check_rulesets, "compliance")
