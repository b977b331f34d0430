from django.apps import AppConfig

from .checks import register_checks
from .privacy import register_eraser


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        # Imported here: emails imports the models, which cannot load before the app registry is ready.
        from .emails import erase_outbox

        register_eraser("outgoing_emails", erase_outbox)
        register_checks()
