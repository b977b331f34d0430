"""The value of free compute: reference prices per site, the enterprises an organisation is linked to, its
self-declared de minimis aid, and the ledger of the aid the portal granted (docs/aid.md).

Money is a Decimal with two places and its currency (EUR); never a float."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from allocations.aid.choices import LegalBasis
from allocations.catalogue.models import Site


class Currency(models.TextChoices):
    EUR = "EUR", _("euro")


class SiteReferencePrice(models.Model):
    """What an hour of a site's compute is worth for the aid ledger, from `valid_from` to `valid_to`
    (inclusive; open-ended when empty), with where the figure comes from (e.g. the price of commercial
    access). A grant is valued at the price valid on its date."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="reference_prices",
                             verbose_name=_("site"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Inclusive; empty: no end."))
    gpu_hour_price = models.DecimalField(_("price per GPU-hour"), max_digits=10, decimal_places=4,
                                         validators=[MinValueValidator(Decimal("0"))])
    cpu_core_hour_price = models.DecimalField(_("price per CPU core-hour"), max_digits=10, decimal_places=4,
                                              validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.EUR)
    source = models.CharField(_("source of the price"), max_length=300,
                              help_text=_("Where the figure comes from, e.g. the price list of commercial access "
                                          "approved by the board on a given date."))

    class Meta:
        ordering = ["site", "-valid_from"]
        verbose_name = _("reference price")
        verbose_name_plural = _("reference prices")
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_to__isnull=True)
                                   | models.Q(valid_to__gte=models.F("valid_from")),
                                   name="reference_price_period_valid"),
            models.UniqueConstraint(fields=["site", "valid_from"], name="reference_price_unique_start"),
        ]

    def __str__(self):
        return f"{self.site} {self.valid_from:%Y-%m-%d}"

    def clean(self):
        super().clean()
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity comes before its start.")})
        if not self.site_id or not self.valid_from:
            return
        others = SiteReferencePrice.objects.filter(site_id=self.site_id).exclude(pk=self.pk)
        overlap = others.filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=self.valid_from))
        if self.valid_to:
            overlap = overlap.filter(valid_from__lte=self.valid_to)
        clash = overlap.order_by("valid_from").first()
        if clash is not None:
            raise ValidationError({"valid_from": _(
                "This period overlaps the price valid from %(start)s on the same site: end that one first.") % {
                "start": date_format(clash.valid_from, "DATE_FORMAT")}})


class LinkRelation(models.TextChoices):
    OWNER = "owner", _("Controls the organisation (owner, parent)")
    SUBSIDIARY = "subsidiary", _("Controlled by the organisation (subsidiary)")
    CONTRACT = "contract", _("Linked by a contract or another form of control")


country_code_validator = RegexValidator(r"^[A-Z]{2}$", _("Two capital letters (ISO 3166), e.g. BE."))


class LinkedEnterprise(models.Model):
    """An enterprise the organisation declares as part of its single undertaking: another organisation of
    the portal, or an enterprise outside it (name, country, VAT number if known)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="linked_enterprises")
    relation = models.CharField(_("relation"), max_length=12, choices=LinkRelation.choices)
    linked_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                            related_name="+", verbose_name=_("organisation in the portal"))
    name = models.CharField(_("enterprise name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, validators=[country_code_validator])
    vat_number = models.CharField(_("VAT or enterprise number"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "name", "pk"]
        verbose_name = _("linked enterprise")
        verbose_name_plural = _("linked enterprises")
        constraints = [
            models.CheckConstraint(condition=models.Q(relation__in=LinkRelation.values), name="linked_relation_valid"),
            models.CheckConstraint(condition=~models.Q(linked_organisation=models.F("organisation")),
                                   name="linked_enterprise_not_itself"),
        ]

    def __str__(self):
        return self.name

    def snapshot(self) -> dict:
        """What a self-declaration and a ledger line keep of the link."""
        return {"name": self.name, "country": self.country, "vat": self.vat_number, "relation": self.relation,
                "organisation_id": self.linked_organisation_id}


class AidSelfDeclaration(models.Model):
    """An organisation's declaration of the de minimis aid its single undertaking received from any source
    in the previous three years, with the links it declared at that moment. The latest one counts."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="aid_declarations")
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField()
    links = models.JSONField(default=list, help_text="The linked enterprises as declared (LinkedEnterprise.snapshot).")

    class Meta:
        ordering = ["organisation", "-declared_at", "-pk"]
        get_latest_by = "declared_at"
        verbose_name = _("de minimis self-declaration")
        verbose_name_plural = _("de minimis self-declarations")

    def __str__(self):
        return f"{self.organisation} {self.declared_at:%Y-%m-%d}"


class DeclaredAid(models.Model):
    """One de minimis aid the single undertaking received elsewhere, as self-declared."""

    declaration = models.ForeignKey(AidSelfDeclaration, on_delete=models.CASCADE, related_name="aids")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.EUR)
    granted_on = models.DateField(_("date of grant"))
    granting_authority = models.CharField(_("granting authority"), max_length=200)
    received_by = models.CharField(_("received by"), max_length=200, blank=True,
                                   help_text=_("Which enterprise of the group received it, if not the organisation."))

    class Meta:
        ordering = ["declaration", "granted_on", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="declared_aid_positive")]


class LedgerKind(models.TextChoices):
    GRANT = "grant", _("Grant at approval")
    TOP_UP = "top_up", _("Quota top-up")
    CORRECTION = "correction", _("Correction by an operator")


class AidLedgerLine(models.Model):
    """The value of what one decision granted on one site, recorded in the decision's transaction, or an
    operator's correction of such a line. Lines are never changed or deleted: revoked or unused hours leave
    the aid granted as it was, unless a correction line is recorded."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="aid_lines",
                                     verbose_name=_("beneficiary"))
    allocation = models.ForeignKey("allocations.Allocation", on_delete=models.PROTECT, related_name="aid_lines")
    change_request = models.ForeignKey("allocations.ChangeRequest", on_delete=models.PROTECT, null=True,
                                       blank=True, related_name="aid_lines")
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="corrections")
    kind = models.CharField(_("kind"), max_length=12, choices=LedgerKind.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    legal_basis_article = models.CharField(_("block-exemption article"), max_length=200, blank=True)
    granted_on = models.DateField(_("date of grant"), db_index=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("granting site"))
    gpu_hours = models.PositiveIntegerField(default=0)
    cpu_core_hours = models.PositiveIntegerField(default=0)
    price = models.ForeignKey(SiteReferencePrice, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    gpu_hour_price = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    cpu_core_hour_price = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.EUR)
    # The beneficiary and its single undertaking as they stood on the date of grant (the register's lines).
    beneficiary_name = models.CharField(_("beneficiary"), max_length=200)
    beneficiary_vat = models.CharField(_("VAT or enterprise number"), max_length=30)
    undertaking = models.JSONField(default=list)
    over_ceiling = models.BooleanField(default=False, help_text="Recorded above the ceiling after a warning.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-granted_on", "-pk"]
        verbose_name = _("aid ledger line")
        verbose_name_plural = _("aid ledger lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=LedgerKind.values), name="aid_line_kind_valid"),
            models.CheckConstraint(condition=models.Q(legal_basis__in=LegalBasis.values),
                                   name="aid_line_legal_basis_valid"),
            # Only a correction may take value away; a correction always points at the line it corrects.
            models.CheckConstraint(condition=models.Q(kind=LedgerKind.CORRECTION, corrects__isnull=False)
                                   | (~models.Q(kind=LedgerKind.CORRECTION) & models.Q(corrects__isnull=True)
                                      & models.Q(value__gte=0)),
                                   name="aid_line_correction_shape"),
        ]
        indexes = [models.Index(fields=["organisation", "legal_basis", "granted_on"], name="aid_line_window_idx")]

    def __str__(self):
        return f"{self.beneficiary_name} {self.granted_on:%Y-%m-%d} {self.value} {self.currency}"

    def undertaking_label(self) -> str:
        """The single undertaking as the register prints it: each enterprise with its VAT number."""
        parts = [f"{self.beneficiary_name} ({self.beneficiary_vat})"]
        for link in self.undertaking or []:
            parts.append(f"{link['name']} ({link['vat']})" if link.get("vat") else link["name"])
        return "; ".join(parts)
