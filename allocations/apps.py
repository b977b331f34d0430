from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationsConfig(AppConfig):
    name = "allocations"
    verbose_name = _("Applications and allocations")

    def ready(self):
        # Imported here: privacy imports the models, which cannot load before the app registry is ready.
        from . import privacy

        privacy.register()
