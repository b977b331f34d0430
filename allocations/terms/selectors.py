"""Reads of the terms of use: which version is in force, who is cleared for a site, what a person has
still to accept, and who has not accepted on a site (the operator's list).

`cleared_user_ids` is the one rule the desired Slurm state applies (provisioning.services.site_team): a
person is in a site's association only when cleared for the platform's terms and the site's."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max, Q
from django.utils import timezone

from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation
from allocations.grants.workflow import TERMINAL
from allocations.terms.models import TermsAcceptance, TermsVersion


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def versions_in_force(site_ids: Iterable[int], today: datetime.date | None = None) -> dict[int | None, TermsVersion]:
    """The version in force today of the platform (key None) and of each site in ``site_ids`` that has one:
    the highest version whose effective date came. One query."""
    today = _today(today)
    site_ids = list(site_ids)
    found: dict[int | None, TermsVersion] = {}
    for version in (TermsVersion.objects.filter(Q(site=None) | Q(site_id__in=site_ids), effective_date__lte=today)
                    .select_related("site").order_by("site_id", "-number")):
        found.setdefault(version.site_id, version)
    return found


def _accepted_numbers(user_ids: Iterable[int], scopes: Iterable[int | None]) -> dict[tuple[int, int | None], int]:
    """(user id, scope) -> the highest version number the person accepted there. One query."""
    scopes = list(scopes)
    scope_q = Q(version__site_id__in=[s for s in scopes if s is not None])
    if None in scopes:
        scope_q |= Q(version__site=None)
    rows = (TermsAcceptance.objects.filter(scope_q, user_id__in=[uid for uid in user_ids if uid is not None])
            .values("user_id", "version__site_id").annotate(top=Max("version__number")))
    return {(row["user_id"], row["version__site_id"]): row["top"] for row in rows}


def is_cleared(version: TermsVersion | None, accepted: int | None, today: datetime.date) -> bool:
    """Cleared for one set of terms: nothing in force, the version in force (or a later one) accepted, or an
    earlier one accepted while the version in force is in its grace period."""
    if version is None:
        return True
    if accepted is None:
        return False
    return accepted >= version.number or today < version.gate_date


def cleared_user_ids(site: Site, user_ids: Iterable[int], today: datetime.date | None = None) -> set[int] | None:
    """Of ``user_ids``, those cleared for the platform's terms and ``site``'s terms today; None when no terms
    are in force there (nobody is held back, not even a team member without an account). Two queries (one
    when no terms are in force)."""
    today = _today(today)
    user_ids = set(user_ids)
    in_force = versions_in_force([site.pk], today)
    platform, own = in_force.get(None), in_force.get(site.pk)
    if platform is None and own is None:
        return None
    accepted = _accepted_numbers(user_ids, [None, site.pk])
    return {uid for uid in user_ids
            if is_cleared(platform, accepted.get((uid, None)), today)
            and is_cleared(own, accepted.get((uid, site.pk)), today)}


# ------------------------------------------------------------------------------------ the person

def _teams_of(user):
    """The person's team rows (linked, or confirmed under their address before they signed in)."""
    return TeamMember.objects.confirmed().filter(Q(user=user) | Q(user=None, email__iexact=user.email))


def sites_of(user) -> list[Site]:
    """The sites of the allocations (not ended) whose team the person confirmed."""
    allocations = Allocation.objects.filter(application__team__in=_teams_of(user)).exclude(status__in=TERMINAL)
    return list(Site.objects.filter(quotas__allocation__in=allocations).distinct().order_by("name"))


@dataclass(frozen=True)
class PendingTerms:
    """A version the person has still to accept, and until when their access holds without it."""

    version: TermsVersion
    in_force: bool
    held_out: bool            # today the person is out of the associations this version gates
    deadline: datetime.date   # accept before this day to keep (or get) access


def pending_for(user, today: datetime.date | None = None) -> list[PendingTerms]:
    """The latest version of the platform's terms and of each site's terms of the person's allocations, when
    the person has not accepted it (nor a later one). Four queries."""
    today = _today(today)
    sites = sites_of(user)
    if not sites:
        return []
    site_ids = [site.pk for site in sites]
    latest: dict[int | None, TermsVersion] = {}
    for version in (TermsVersion.objects.filter(Q(site=None) | Q(site_id__in=site_ids))
                    .select_related("site").order_by("site_id", "-number")):
        latest.setdefault(version.site_id, version)
    in_force = {}
    for version in (TermsVersion.objects.filter(Q(site=None) | Q(site_id__in=site_ids), effective_date__lte=today)
                    .order_by("site_id", "-number")):
        in_force.setdefault(version.site_id, version)
    accepted = _accepted_numbers([user.pk], [None, *site_ids])
    pending = []
    for scope in [None, *site_ids]:
        version = latest.get(scope)
        top = accepted.get((user.pk, scope))
        if version is None or (top is not None and top >= version.number):
            continue
        current = in_force.get(scope)
        # Someone who accepted an earlier version has the grace period; anyone else needs it by its effective date.
        deadline = version.gate_date if top is not None else version.effective_date
        pending.append(PendingTerms(version=version, in_force=version.effective_date <= today,
                                    held_out=not is_cleared(current, top, today), deadline=deadline))
    return pending


def version_for_acceptance(pk: int) -> TermsVersion | None:
    return TermsVersion.objects.select_related("site").filter(pk=pk).first()


def accepted_by(user) -> list[TermsAcceptance]:
    return list(TermsAcceptance.objects.filter(user=user).select_related("version__site").order_by("-accepted_at"))


# ------------------------------------------------------------------------------------ the allocation

@dataclass(frozen=True)
class MemberTerms:
    member: TeamMember
    missing: list[TermsVersion]   # versions in force the member has not accepted (nor a later one)
    held_out_sites: list[Site]    # sites where the member is out of the association today


def allocation_terms(allocation: Allocation, today: datetime.date | None = None) -> list[MemberTerms]:
    """The confirmed team members of an allocation who have not accepted a version in force, each with those
    versions and the sites whose association they are out of today. Four queries."""
    today = _today(today)
    sites = list(Site.objects.filter(quotas__allocation=allocation).order_by("name"))
    members = list(TeamMember.objects.confirmed().filter(application_id=allocation.application_id)
                   .order_by("full_name"))
    in_force = versions_in_force([site.pk for site in sites], today)
    if not in_force:
        return []
    accepted = _accepted_numbers([m.user_id for m in members if m.user_id], [None, *[s.pk for s in sites]])
    rows = []
    for member in members:
        def cleared(scope, member=member):
            return is_cleared(in_force.get(scope), accepted.get((member.user_id, scope)), today)
        missing = [version for scope, version in in_force.items()
                   if accepted.get((member.user_id, scope), 0) < version.number]
        if not missing:
            continue
        held = [site for site in sites if not (cleared(None) and cleared(site.pk))]
        rows.append(MemberTerms(member=member, missing=missing, held_out_sites=held))
    return rows


# ------------------------------------------------------------------------------------ the operator

@dataclass(frozen=True)
class NotAccepted:
    member: TeamMember
    allocation_reference: str
    missing: list[TermsVersion]
    held_out: bool


def site_not_accepted(site: Site, today: datetime.date | None = None) -> list[NotAccepted]:
    """Confirmed team members of the site's allocations (not ended) who have not accepted the platform's or
    the site's version in force, and whether that holds them out of the association today. Three queries."""
    today = _today(today)
    in_force = versions_in_force([site.pk], today)
    if not in_force:
        return []
    members = list(TeamMember.objects.confirmed().filter(application__allocation__quotas__site=site)
                   .exclude(application__allocation__status__in=TERMINAL)
                   .select_related("application__allocation").order_by("application__allocation__reference",
                                                                        "full_name"))
    accepted = _accepted_numbers([m.user_id for m in members if m.user_id], [None, site.pk])
    rows = []
    for member in members:
        missing = [version for scope, version in sorted(in_force.items(), key=lambda kv: kv[0] is not None)
                   if accepted.get((member.user_id, scope), 0) < version.number]
        if not missing:
            continue
        held = not all(is_cleared(version, accepted.get((member.user_id, scope)), today)
                       for scope, version in in_force.items())
        rows.append(NotAccepted(member=member, allocation_reference=member.application.allocation.reference,
                                missing=missing, held_out=held))
    return rows


def versions_for_operators() -> list[TermsVersion]:
    return list(TermsVersion.objects.select_related("site", "published_by").order_by("site__name", "-number"))
