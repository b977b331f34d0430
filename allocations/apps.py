from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

from .checks import check_site_backend_options


class AllocationsConfig(AppConfig):
    name = "allocations"
    verbose_name = _("Applications and allocations")

    def ready(self):
        # Imported here: accounts.roles reads allauth's models (the second factor), which cannot load before
        # the app registry is ready.
        from accounts.home import register_work  # imported here: see above
        from accounts.roles import Role  # imported here: roles imports allauth's models

        # Imported here: privacy imports the models, which cannot load before the app registry is ready.
        from . import privacy

        privacy.register()

        checks.register(check_site_backend_options, "slurm", checks.Tags.database)

        # What each role's section of the staff home shows (accounts.home), in this order.
        register_work(Role.REVIEWER, "allocations.review.selectors.reviewer_work")
        register_work(Role.ALLOCATION_MANAGER, "allocations.review.selectors.manager_work")
        register_work(Role.ALLOCATION_MANAGER, "allocations.grants.selectors.manager_work")
        register_work(Role.ALLOCATION_MANAGER, "allocations.outcomes.selectors.manager_work")
        register_work(Role.OPERATOR, "allocations.provisioning.selectors.operator_work")
