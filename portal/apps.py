from django.apps import AppConfig

from .checks import register_checks


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from accounts.privacy import register_eraser

        from .emails import erase_outbox

        register_eraser("outgoing_emails", erase_outbox)
        register_checks()
