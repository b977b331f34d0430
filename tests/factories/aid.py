"""State aid: a de minimis access mode, reference prices, linked enterprises, self-declared aid and ledger lines
written directly (for the aid received before the grant a test is about)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import Organisation
from allocations.aid.choices import CeilingPolicy, LegalBasis
from allocations.aid.models import (
    AidLedgerLine,
    AidSelfDeclaration,
    DeclaredAid,
    LedgerKind,
    LinkedEnterprise,
    SiteReferencePrice,
)
from allocations.aid.selectors import links_snapshot, undertaking_of
from allocations.catalogue.models import AccessMode

from .accounts import UserFactory
from .catalogue import mode, site
from .grants import bare_allocation


def de_minimis_mode(code: str = "fast_lane", *, policy: str = CeilingPolicy.REFUSE) -> AccessMode:
    the_mode = mode(code)
    the_mode.aid_legal_basis = LegalBasis.DE_MINIMIS
    the_mode.aid_ceiling_policy = policy
    the_mode.save(update_fields=["aid_legal_basis", "aid_ceiling_policy"])
    return the_mode


def reference_price(site_code: str = "zellik", *, gpu: str = "2.50", cpu: str = "0.02",
                    valid_from: datetime.date | None = None, valid_to: datetime.date | None = None,
                    source: str = "Price list of commercial access, board decision of 2026-01-15"
                    ) -> SiteReferencePrice:
    return SiteReferencePrice.objects.create(
        site=site(site_code), valid_from=valid_from or datetime.date(2020, 1, 1), valid_to=valid_to,
        gpu_hour_price=Decimal(gpu), cpu_core_hour_price=Decimal(cpu), source=source)


def link(organisation: Organisation, other: Organisation | None = None, *, relation: str = "subsidiary",
         name: str = "Holding Outside SA", country: str = "LU", vat: str = "LU12345678") -> LinkedEnterprise:
    if other is not None:
        name, country, vat = other.legal_name, other.country, other.vat_number
    return LinkedEnterprise.objects.create(organisation=organisation, linked_organisation=other, relation=relation,
                                           name=name, country=country, vat_number=vat)


def self_declare(organisation: Organisation, *aids: tuple[str, datetime.date], by=None,
                 authority: str = "Region of Flanders (VLAIO)") -> AidSelfDeclaration:
    """A current declaration of `organisation` with (amount, date of grant) aids."""
    declaration = AidSelfDeclaration.objects.create(
        organisation=organisation, declared_by=by or UserFactory(), declared_at=timezone.now(),
        links=links_snapshot(organisation))
    for amount, day in aids:
        DeclaredAid.objects.create(declaration=declaration, amount=Decimal(amount), granted_on=day,
                                   granting_authority=authority)
    return declaration


def ledger_line(organisation: Organisation, value: str, granted_on: datetime.date, *,
                basis: str = LegalBasis.DE_MINIMIS, site_code: str = "zellik", allocation=None) -> AidLedgerLine:
    """Aid the portal granted earlier, written directly (behind `allocation`, by default a bare allocation of the
    organisation)."""
    alloc = allocation or bare_allocation(organisation, UserFactory(), usage=False)
    return AidLedgerLine.objects.create(
        organisation=organisation, allocation=alloc, kind=LedgerKind.GRANT, legal_basis=basis,
        granted_on=granted_on, site=site(site_code), value=Decimal(value), beneficiary_name=organisation.legal_name,
        beneficiary_vat=organisation.vat_number, undertaking=undertaking_of(organisation).snapshot())
