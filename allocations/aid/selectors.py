"""Reads of the aid ledger: the single undertaking, the aid it received in a rolling three years, the value of
a grant at the reference prices, the register, and who may read what.

The rule (one place, used by the decision page, the API and change requests through services.aid_assess):
a grant on day G counts the de minimis aid of the single undertaking granted on a day D with
G - 3 years < D <= G (the ledger's lines of every portal organisation of the undertaking, corrections
included, and the aid self-declared by each of them), adds the grant's value, and compares the total with
the ceiling (AIF_DE_MINIMIS_CEILING_EUR): a total equal to the ceiling is allowed, one cent more is not."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Organisation
from accounts.permissions import is_member
from accounts.roles import Role, roles_of
from allocations.aid.choices import CeilingPolicy, LegalBasis
from allocations.aid.models import AidLedgerLine, AidSelfDeclaration, LinkedEnterprise, SiteReferencePrice
from allocations.catalogue.models import Site

CENT = Decimal("0.01")
WINDOW_YEARS = 3


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def ceiling() -> Decimal:
    return money(Decimal(settings.AIF_DE_MINIMIS_CEILING_EUR))


def years_before(day: datetime.date, years: int = WINDOW_YEARS) -> datetime.date:
    """The same calendar day `years` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def window_start(on: datetime.date) -> datetime.date:
    """Aid granted strictly after this day counts in the three years ending on `on`."""
    return years_before(on)


# --------------------------------------------------------------------------------- single undertaking

@dataclass(frozen=True)
class Undertaking:
    """An organisation with the portal organisations and outside enterprises linked to it, directly or
    through another link, in either direction (who declared the link does not matter)."""

    organisation: Organisation
    organisation_ids: frozenset[int]
    members: tuple[dict, ...]  # the others, as LinkedEnterprise.snapshot() (portal organisations by their row)

    def snapshot(self) -> list[dict]:
        return list(self.members)


def undertaking_of(organisation: Organisation) -> Undertaking:
    ids = {organisation.pk}
    frontier = {organisation.pk}
    links: dict[int, LinkedEnterprise] = {}
    while frontier:
        found = list(LinkedEnterprise.objects.filter(Q(organisation_id__in=frontier)
                                                     | Q(linked_organisation_id__in=frontier)))
        frontier = set()
        for link in found:
            links[link.pk] = link
            for org_id in (link.organisation_id, link.linked_organisation_id):
                if org_id is not None and org_id not in ids:
                    ids.add(org_id)
                    frontier.add(org_id)
    ordered = sorted(links.values(), key=lambda item: item.pk)
    members: list[dict] = [link.snapshot() for link in ordered if link.linked_organisation_id is None]
    # Each other portal organisation once, with the relation of the first link that names it.
    relation = {}
    for link in ordered:
        for org_id in (link.organisation_id, link.linked_organisation_id):
            if org_id is not None:
                relation.setdefault(org_id, link.relation)
    for org in Organisation.objects.filter(pk__in=ids - {organisation.pk}).order_by("pk"):
        members.append({"name": org.legal_name, "country": org.country, "vat": org.vat_number,
                        "relation": relation.get(org.pk, ""), "organisation_id": org.pk})
    return Undertaking(organisation=organisation, organisation_ids=frozenset(ids), members=tuple(members))


# --------------------------------------------------------------------------------- aid received

def latest_declaration(organisation_id: int) -> AidSelfDeclaration | None:
    return (AidSelfDeclaration.objects.filter(organisation_id=organisation_id)
            .prefetch_related("aids").order_by("-declared_at", "-pk").first())


def declaration_max_age_days() -> int:
    return settings.AIF_AID_DECLARATION_MAX_AGE_DAYS


def declaration_is_current(organisation: Organisation, *, now: datetime.datetime | None = None) -> bool:
    """A self-declaration made within AIF_AID_DECLARATION_MAX_AGE_DAYS, with the links declared then still the
    organisation's links (adding or removing one asks for a new declaration)."""
    now = now or timezone.now()
    declaration = latest_declaration(organisation.pk)
    if declaration is None:
        return False
    if declaration.declared_at < now - datetime.timedelta(days=settings.AIF_AID_DECLARATION_MAX_AGE_DAYS):
        return False
    return declaration.links == links_snapshot(organisation)


def links_snapshot(organisation: Organisation) -> list[dict]:
    return [link.snapshot() for link in LinkedEnterprise.objects.filter(organisation=organisation).order_by("pk")]


@dataclass(frozen=True)
class Received:
    ledger: Decimal  # de minimis aid the portal recorded for the undertaking in the window
    declared: Decimal  # de minimis aid self-declared by its organisations in the window

    @property
    def total(self) -> Decimal:
        return self.ledger + self.declared


def de_minimis_received(undertaking: Undertaking, on: datetime.date) -> Received:
    start = window_start(on)
    ledger = (AidLedgerLine.objects.filter(organisation_id__in=undertaking.organisation_ids,
                                           legal_basis=LegalBasis.DE_MINIMIS, granted_on__gt=start,
                                           granted_on__lte=on)
              .aggregate(total=Sum("value"))["total"]) or Decimal("0")
    # Each organisation's latest declaration; the same aid declared by two of them counts once.
    declared: dict[tuple, Decimal] = {}
    for org_id in sorted(undertaking.organisation_ids):
        declaration = latest_declaration(org_id)
        if declaration is None:
            continue
        for aid in declaration.aids.all():
            if start < aid.granted_on <= on:
                key = (aid.granted_on, money(aid.amount), aid.granting_authority.strip().lower())
                declared[key] = money(aid.amount)
    return Received(ledger=money(ledger), declared=money(sum(declared.values(), Decimal("0"))))


# --------------------------------------------------------------------------------- value of a grant

def price_on(site_id: int, on: datetime.date) -> SiteReferencePrice | None:
    return (SiteReferencePrice.objects.filter(site_id=site_id, valid_from__lte=on)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on)).order_by("-valid_from").first())


@dataclass(frozen=True)
class SiteValue:
    site: Site
    gpu_hours: int
    cpu_core_hours: int
    price: SiteReferencePrice | None

    @property
    def value(self) -> Decimal | None:
        if self.price is None:
            return None
        return money(self.gpu_hours * self.price.gpu_hour_price + self.cpu_core_hours * self.price.cpu_core_hour_price)

    def gpu_hours_for(self, amount: Decimal) -> int | None:
        """How many GPU-hours of this site `amount` buys (rounded down), for the headroom in hours."""
        if self.price is None or not self.price.gpu_hour_price:
            return None
        return int(max(amount, Decimal("0")) // self.price.gpu_hour_price)


@dataclass(frozen=True)
class AidAssessment:
    """What a grant is worth and, for de minimis aid, where it leaves the single undertaking."""

    legal_basis: str
    legal_basis_article: str
    policy: str
    on: datetime.date
    sites: list[SiteValue]
    undertaking: Undertaking | None = None
    received: Received | None = None
    ceiling: Decimal = field(default_factory=ceiling)

    @property
    def records(self) -> bool:
        return self.legal_basis != LegalBasis.NONE

    @property
    def is_de_minimis(self) -> bool:
        return self.legal_basis == LegalBasis.DE_MINIMIS

    @property
    def warns(self) -> bool:
        """Above the ceiling, the manager may confirm (the mode warns instead of refusing)."""
        return self.policy == CeilingPolicy.WARN

    @property
    def sites_without_price(self) -> list[Site]:
        return [s.site for s in self.sites if s.price is None and (s.gpu_hours or s.cpu_core_hours)]

    @property
    def value(self) -> Decimal | None:
        if self.sites_without_price:
            return None
        return money(sum((s.value or Decimal("0") for s in self.sites), Decimal("0")))

    @property
    def headroom(self) -> Decimal | None:
        """What the undertaking may still receive before this grant (never below zero)."""
        if self.received is None:
            return None
        return max(self.ceiling - self.received.total, Decimal("0.00"))

    @property
    def total_after(self) -> Decimal | None:
        if self.received is None or self.value is None:
            return None
        return self.received.total + self.value

    @property
    def exceeds(self) -> bool:
        total = self.total_after
        return total is not None and total > self.ceiling


def aid_assess(*, organisation: Organisation, access_mode, quotas: dict[int, dict], on: datetime.date) -> AidAssessment:
    """The value of `quotas` ({site id: {"gpu_hours", "cpu_core_hours", ...}}) granted on `on` under the
    mode's legal basis and, for de minimis aid, the undertaking's aid in the three years ending on `on`."""
    basis = access_mode.aid_legal_basis if access_mode is not None else LegalBasis.NONE
    sites = {s.pk: s for s in Site.objects.filter(pk__in=[int(k) for k in quotas])}
    rows = []
    for site_id, q in sorted(quotas.items(), key=lambda item: sites[int(item[0])].name if int(item[0]) in sites
                             else ""):
        site_id = int(site_id)
        if site_id not in sites:
            continue
        gpu, cpu = int(q.get("gpu_hours") or 0), int(q.get("cpu_core_hours") or 0)
        rows.append(SiteValue(site=sites[site_id], gpu_hours=gpu, cpu_core_hours=cpu,
                              price=price_on(site_id, on) if basis != LegalBasis.NONE else None))
    undertaking = received = None
    if basis == LegalBasis.DE_MINIMIS:
        undertaking = undertaking_of(organisation)
        received = de_minimis_received(undertaking, on)
    return AidAssessment(legal_basis=basis, legal_basis_article=getattr(access_mode, "aid_legal_basis_article", ""),
                         policy=getattr(access_mode, "aid_ceiling_policy", ""), on=on, sites=rows,
                         undertaking=undertaking, received=received)


def decision_preview(application, quotas: dict[int, dict] | None = None) -> AidAssessment | None:
    """For the decision page: the assessment of `quotas` (by default what was requested), today."""
    mode = application.access_mode
    if mode is None or not mode.grants_aid:
        return None
    if quotas is None:
        quotas = {r.site_id: {"gpu_hours": r.gpu_hours, "cpu_core_hours": r.cpu_core_hours}
                  for r in application.resources.all()}
    return aid_assess(organisation=application.organisation, access_mode=mode, quotas=quotas,
                      on=timezone.localdate())


def net_value(line: AidLedgerLine) -> Decimal:
    """A line's value with the corrections recorded against it."""
    corrections = line.corrections.aggregate(total=Sum("value"))["total"] or Decimal("0")
    return money(line.value + corrections)


# --------------------------------------------------------------------------------- who reads what

REGISTER_ROLES = {Role.ALLOCATION_MANAGER, Role.ETHICS_OFFICER, Role.OPERATOR}


def can_read_ledger(user) -> bool:
    """The ledger and the register: allocation managers, ethics officers and operators (second factor)."""
    return bool(roles_of(user) & REGISTER_ROLES)


def can_correct(user) -> bool:
    return Role.OPERATOR in roles_of(user)


def organisation_for_member(user, pk: int) -> Organisation:
    organisation = get_object_or_404(Organisation, pk=pk, erased=False)
    if not is_member(user, organisation):
        raise Http404
    return organisation


def ledger_lines() -> QuerySet[AidLedgerLine]:
    return AidLedgerLine.objects.select_related("site", "allocation", "corrects").order_by("-granted_on", "-pk")


def ledger_line(pk: int) -> AidLedgerLine:
    return get_object_or_404(ledger_lines(), pk=pk)


def register_lines(*, start: datetime.date, end: datetime.date, basis: str = "") -> list[AidLedgerLine]:
    """The lines granted from `start` to `end` inclusive, oldest first (corrections on their own lines)."""
    qs = (AidLedgerLine.objects.filter(granted_on__gte=start, granted_on__lte=end)
          .select_related("site", "allocation").order_by("granted_on", "pk"))
    if basis:
        qs = qs.filter(legal_basis=basis)
    return list(qs)
