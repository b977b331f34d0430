from django.apps import AppConfig

from .checks import register_checks
from .privacy import register_eraser, register_exporter
from .vocabulary import install_field_displays


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        # Imported here: emails imports the models, which cannot load before the app registry is ready.
        from .emails import erase_outbox, export_outbox

        # A staff member's mail names the applications they work on: staff data (portal.privacy).
        register_exporter("emails_received", export_outbox, covers=["portal.OutgoingEmail"], staff=True)
        register_eraser("outgoing_emails", erase_outbox, covers=["portal.OutgoingEmail"])
        register_checks()
        install_field_displays()
