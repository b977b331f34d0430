from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

from .ai_act.checks import check_gpu_peaks, check_rulesets


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance and audit")

    def ready(self):
        # Imported here: accounts.roles reads allauth's models (the second factor), which cannot load before
        # the app registry is ready.
        from accounts.home import register_work  # imported here: see above
        from accounts.roles import Role  # imported here: roles imports allauth's models

        checks.register(check_rulesets, "compliance")
        checks.register(check_gpu_peaks, "compliance")
        # Imported here: privacy imports the models, which cannot load before the app registry is ready.
        from . import privacy

        privacy.register()

        register_work(Role.ETHICS_OFFICER, "compliance.selectors.ethics_work")
