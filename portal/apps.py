from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from accounts.privacy import register_eraser

        from .emails import erase_outbox

        register_eraser("outgoing_emails", erase_outbox)
