"""Terms of use: versions written directly (the shared builders publish none by default), acceptances, and
team members linked to an account so that they can accept."""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.utils import timezone

from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site
from allocations.terms.models import TermsAcceptance, TermsVersion

from .accounts import UserFactory


def terms_version(*, site: Site | None = None, effective: datetime.date | None = None, grace_days: int = 30,
                  title: str = "Acceptable use", text: str = "Use the clusters for the granted project only.",
                  **texts) -> TermsVersion:
    """The next version of the platform's terms (or ``site``'s), in force from ``effective`` (today)."""
    number = (TermsVersion.objects.filter(site=site).aggregate(top=Max("number"))["top"] or 0) + 1
    return TermsVersion.objects.create(
        site=site, number=number, title_en=f"{title} v{number}", text_en=text,
        effective_date=effective or timezone.localdate(), grace_days=grace_days, published_at=timezone.now(),
        **texts)


def accept_terms(user, version: TermsVersion, *, days_ago: int = 0) -> TermsAcceptance:
    return TermsAcceptance.objects.create(version=version, user=user, language="en",
                                          accepted_at=timezone.now() - datetime.timedelta(days=days_ago))


def member_account(member: TeamMember, **fields):
    """An account for a team member, linked to their team row (as a confirmation while signed in does)."""
    user = UserFactory(email=member.email, **fields)
    TeamMember.objects.filter(pk=member.pk).update(user=user)
    member.user = user
    return user
