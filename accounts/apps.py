from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from portal.privacy import register_eraser


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and organisations")

    def ready(self):
        # Imported here: allauth's signals module imports its models, which cannot load before the app
        # registry is ready.
        from allauth.mfa.signals import authenticator_added

        from .mfa import record_enrolment  # imported here: mfa imports allauth's models
        from .privacy import erase_api_tokens, erase_invitations  # imported here: privacy imports the models

        register_eraser("invitations", erase_invitations)
        register_eraser("api_tokens", erase_api_tokens)
        authenticator_added.connect(record_enrolment, dispatch_uid="accounts.mfa.record_enrolment")
