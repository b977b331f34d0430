"""The binding of a person to their POSIX account on a directory site (docs/identity.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BoundBy(models.TextChoices):
    """How the portal knows the directory entry is this person's."""

    OIDC_SUBJECT = "oidc_subject", _("Single sign-on identity (OpenID Connect subject)")
    VERIFIED_EMAIL = "verified_email", _("Verified e-mail address")


class DirectoryAccount(models.Model):
    """A person's account in the directory of one site: found there by their sign-in identity, or created
    by the portal where the site allows it. The provisioning run makes it a member of the project groups
    and a user of the Slurm associations; it locks it when none of the person's allocations on the site
    runs any more, or when the person is erased."""

    site = models.ForeignKey("allocations.Site", on_delete=models.PROTECT, related_name="directory_accounts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="directory_accounts")
    uid = models.CharField(_("login"), max_length=32)
    uid_number = models.PositiveIntegerField(_("uidNumber"))
    dn = models.CharField(_("directory entry"), max_length=300)
    bound_by = models.CharField(_("bound by"), max_length=20, choices=BoundBy.choices)
    created_by_portal = models.BooleanField(_("created by the portal"), default=False)
    bound_at = models.DateTimeField(_("bound"), auto_now_add=True)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)

    class Meta:
        ordering = ["site", "uid"]
        verbose_name = _("directory account")
        verbose_name_plural = _("directory accounts")
        constraints = [
            models.UniqueConstraint(fields=["site", "user"], name="directory_account_one_per_site"),
            models.UniqueConstraint(fields=["site", "uid"], name="directory_account_unique_uid"),
        ]

    def __str__(self):
        return f"{self.uid}@{self.site_id}"
