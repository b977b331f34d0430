"""Terms of use: versioned documents (platform-wide or per site) and each person's acceptance.

A version is published once and never edited: a change is a new version. It is in force from its
effective date; a person who accepted an earlier version of the same terms keeps their access for the
version's grace period, then needs the new one (`selectors.cleared_user_ids`)."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from allocations.catalogue.models import Site

LANGUAGES = ("en", "fr", "nl")


class TermsVersion(models.Model):
    # Null: the platform's terms, which every team member accepts; otherwise one site's terms.
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="terms_versions",
                             verbose_name=_("site"))
    number = models.PositiveIntegerField(_("version"))
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_fr = models.CharField(_("title (French)"), max_length=200, blank=True)
    title_nl = models.CharField(_("title (Dutch)"), max_length=200, blank=True)
    text_en = models.TextField(_("text (English)"))
    text_fr = models.TextField(_("text (French)"), blank=True)
    text_nl = models.TextField(_("text (Dutch)"), blank=True)
    effective_date = models.DateField(_("effective date"))
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"), default=30,
        help_text=_("Days after the effective date during which people who accepted an earlier version keep "
                    "their access."))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("published by"))
    # The last day the beat task marked for provisioning the allocations this version affects (when it
    # came into force, then when its grace period ended): a second run that day does nothing.
    resynced_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["site_id", "-number"]
        verbose_name = _("terms of use version")
        verbose_name_plural = _("terms of use versions")
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], condition=models.Q(site__isnull=False),
                                    name="terms_unique_site_number"),
            models.UniqueConstraint(fields=["number"], condition=models.Q(site__isnull=True),
                                    name="terms_unique_platform_number"),
        ]

    def __str__(self):
        return f"{self.scope_label} v{self.number}"

    @property
    def scope_label(self) -> str:
        return str(_("Platform terms of use")) if self.site_id is None else \
            str(_("Terms of use of %(site)s") % {"site": self.site.name})

    @property
    def gate_date(self) -> datetime.date:
        """From this day, a person who accepted only an earlier version is held out."""
        return self.effective_date + datetime.timedelta(days=self.grace_days)

    def _language_of(self, field: str) -> str:
        """The language the reader gets ``field`` in: theirs when the version has it, else English."""
        language = (translation.get_language() or "en")[:2]
        if language not in LANGUAGES:
            language = "en"
        return language if getattr(self, f"{field}_{language}") else "en"

    def _localised(self, field: str) -> str:
        return getattr(self, f"{field}_{self._language_of(field)}")

    @property
    def title_language(self) -> str:
        """The language of ``title``, for a page to mark English shown on a French or Dutch page."""
        return self._language_of("title")

    @property
    def text_language(self) -> str:
        return self._language_of("text")

    @property
    def title(self) -> str:
        """The title in the reader's language, English when the version has none in it."""
        return self._localised("title")

    @property
    def text(self) -> str:
        return self._localised("text")


class TermsAcceptance(models.Model):
    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="terms_acceptances")
    accepted_at = models.DateTimeField(_("accepted at"))
    # The language of the text the person read and accepted.
    language = models.CharField(_("language"), max_length=8)

    class Meta:
        ordering = ["-accepted_at"]
        verbose_name = _("acceptance of terms of use")
        verbose_name_plural = _("acceptances of terms of use")
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="terms_accepted_once")]

    def __str__(self):
        return f"{self.version} ({self.accepted_at:%Y-%m-%d})"
