from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from portal.privacy import register_eraser, register_exporter


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and organisations")

    def ready(self):
        # Imported here: allauth's signals module imports its models, which cannot load before the app
        # registry is ready.
        from allauth.mfa.signals import authenticator_added

        from . import privacy  # imported here: privacy imports the models
        from .mfa import record_enrolment  # imported here: mfa imports allauth's models

        privacy.register()
        authenticator_added.connect(record_enrolment, dispatch_uid="accounts.mfa.record_enrolment")

        # Imported here: notifications imports the models, which cannot load before the app registry is ready.
        from .notifications import erase_notifications, export_notifications

        register_eraser("notifications", erase_notifications,
                        covers=["accounts.Notification", "accounts.NotificationPreference",
                                "accounts.NotificationDigest"])
        # Notifications hand staff work: they name other organisations' applications.
        register_exporter("notifications", export_notifications,
                          covers=["accounts.Notification", "accounts.NotificationPreference",
                                  "accounts.NotificationDigest"], staff=True)
