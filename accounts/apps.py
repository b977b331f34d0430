from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from portal.privacy import register_eraser, register_exporter


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and organisations")

    def ready(self):
        # Imported here: notifications imports the models, which cannot load before the app registry is ready.
        from .notifications import erase_notifications, export_notifications

        # Imported here: privacy imports the models, which cannot load before the app registry is ready.
        from .privacy import erase_api_tokens, erase_invitations

        register_eraser("invitations", erase_invitations)
        register_eraser("api_tokens", erase_api_tokens)
        register_eraser("notifications", erase_notifications)
        register_exporter("notifications", export_notifications)
