"""Writes of the terms of use: an operator publishes a version, a person accepts one, and the beat task
marks for provisioning the allocations a version's effective date or grace end changes.

Every change the clusters must follow goes through `grants.sync.mark_needs_sync` in the transaction of
the change: the provisioning task runs on commit and reads the desired state, which includes a team
member only when `selectors.cleared_user_ids` clears them."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from allocations.applications.models import TeamMember
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation
from allocations.grants.sync import mark_needs_sync
from allocations.grants.workflow import TERMINAL
from allocations.terms.models import LANGUAGES, TermsAcceptance, TermsVersion
from allocations.terms.selectors import sites_of
from portal.audit import AuditAction, audit_record
from portal.tasking import enqueue_on_commit

# Queued by name (portal.tasking): the tasks module imports this one.
RESYNC_TASK = "allocations.terms.tasks.terms_resync_due"
MAX_GRACE_DAYS = 365


def terms_publish(*, actor, site: Site | None, title_en: str, text_en: str, effective_date: datetime.date,
                  grace_days: int, title_fr: str = "", text_fr: str = "", title_nl: str = "",
                  text_nl: str = "") -> TermsVersion:
    """Publish the next version of the platform's terms (``site=None``) or of one site's terms. A published
    version is never changed: the next change is a new version."""
    if not has_role(actor, Role.OPERATOR):
        raise PermissionDenied(_("Only operators publish terms of use."))
    texts = {"title_en": title_en, "text_en": text_en, "title_fr": title_fr, "text_fr": text_fr,
             "title_nl": title_nl, "text_nl": text_nl}
    texts = {key: (value or "").strip() for key, value in texts.items()}
    errors = {}
    if not texts["title_en"]:
        errors["title_en"] = _("Give the title in English (shown when no other language is given).")
    if not texts["text_en"]:
        errors["text_en"] = _("Give the text in English (shown when no other language is given).")
    for language in ("fr", "nl"):
        if bool(texts[f"title_{language}"]) != bool(texts[f"text_{language}"]):
            field = f"text_{language}" if texts[f"title_{language}"] else f"title_{language}"
            errors[field] = _("Give both the title and the text in this language, or neither.")
    today = timezone.localdate()
    if effective_date is None:
        errors["effective_date"] = _("Give the effective date.")
    elif effective_date < today:
        errors["effective_date"] = _("The effective date cannot be in the past.")
    if grace_days is None or not 0 <= grace_days <= MAX_GRACE_DAYS:
        errors["grace_days"] = _("Give a grace period from 0 to %(max)s days.") % {"max": MAX_GRACE_DAYS}
    if site is not None and not site.is_active:
        errors["site"] = _("%(site)s is not active.") % {"site": site.name}
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            scope = TermsVersion.objects.filter(site=site)
            number = (scope.aggregate(top=Max("number"))["top"] or 0) + 1
            version = TermsVersion.objects.create(site=site, number=number, effective_date=effective_date,
                                                  grace_days=grace_days, published_at=timezone.now(),
                                                  published_by=actor, **texts)
            audit_record(actor=actor, action=AuditAction.TERMS_PUBLISHED, target=version,
                         changes={"site": site.code if site else None, "number": number,
                                  "effective_date": effective_date.isoformat(), "grace_days": grace_days,
                                  "languages": [lang for lang in LANGUAGES if texts[f"text_{lang}"]]})
            if effective_date <= today:
                # In force at once: the allocations it holds back are provisioned again now, not at the next beat.
                enqueue_on_commit(RESYNC_TASK)
    except IntegrityError as exc:  # another version of the same terms was published at the same moment
        raise ValidationError(_("Another version of these terms was just published: reload and check.")) from exc
    return version


def _allocations_of_member(user, site_id: int | None):
    """Allocations (not ended) whose team the person confirmed, on ``site_id`` (any site when None)."""
    teams = TeamMember.objects.confirmed().filter(user=user)
    allocations = Allocation.objects.filter(application__team__in=teams).exclude(status__in=TERMINAL)
    if site_id is not None:
        allocations = allocations.filter(quotas__site_id=site_id)
    return allocations.distinct()


def terms_accept(*, actor, version: TermsVersion, language: str = "en") -> TermsAcceptance:
    """The person accepts one version (the latest of its terms). Accepting twice changes nothing.

    Team rows the person confirmed under their address before signing in are linked to their account (the
    verified address is the proof the confirmation itself took), so the acceptance reaches them; the
    allocations of those teams are marked for provisioning, which puts the person in the associations the
    terms held them out of."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Sign in to accept terms of use."))
    language = language if language in LANGUAGES else "en"
    with transaction.atomic():
        version = TermsVersion.objects.select_related("site").get(pk=version.pk)
        existing = TermsAcceptance.objects.filter(version=version, user=actor).first()
        if existing is not None:
            return existing
        newer = TermsVersion.objects.filter(site_id=version.site_id, number__gt=version.number).exists()
        if newer:
            raise ValidationError(_("A newer version of these terms was published: read and accept that one."))
        sites = {site.pk for site in sites_of(actor)}
        if not sites or (version.site_id is not None and version.site_id not in sites):
            raise ValidationError(_("These terms do not apply to you: you are on no team of an allocation they "
                                    "cover."))
        TeamMember.objects.filter(user=None, email__iexact=actor.email, erased_at=None).exclude(
            confirmed_at=None).update(user=actor)
        acceptance = TermsAcceptance.objects.create(version=version, user=actor, accepted_at=timezone.now(),
                                                    language=language)
        audit_record(actor=actor, action=AuditAction.TERMS_ACCEPTED, target=version,
                     changes={"site": version.site.code if version.site_id else None, "number": version.number,
                              "language": language})
        for allocation in Allocation.objects.select_for_update().filter(
                pk__in=_allocations_of_member(actor, version.site_id).values("pk")).order_by("pk"):
            mark_needs_sync(allocation)
    return acceptance


def terms_resync_due(*, today: datetime.date | None = None) -> int:
    """Beat task: for each version that came into force, or whose grace period ended, since the last run,
    mark for provisioning the allocations (not ended) with a confirmed member who has not accepted it, so
    the reconcile takes them out. Idempotent: a version is handled once per event (``resynced_on``).
    Returns how many allocations were marked."""
    today = today or timezone.localdate()
    marked = 0
    for version in TermsVersion.objects.filter(effective_date__lte=today).select_related("site").order_by("pk"):
        handled = version.resynced_on
        due = handled is None or handled < version.gate_date <= today
        if not due:
            continue
        with transaction.atomic():
            # Claimed by a conditional update: two runs at once mark once.
            if not TermsVersion.objects.filter(pk=version.pk, resynced_on=handled).update(resynced_on=today):
                continue
            accepted = TermsAcceptance.objects.filter(version__site_id=version.site_id,
                                                      version__number__gte=version.number).values("user_id")
            members = TeamMember.objects.confirmed().exclude(user_id__in=accepted)
            allocations = Allocation.objects.filter(application__team__in=members).exclude(status__in=TERMINAL)
            if version.site_id is not None:
                allocations = allocations.filter(quotas__site_id=version.site_id)
            for allocation in Allocation.objects.select_for_update().filter(
                    pk__in=allocations.values("pk")).order_by("pk"):
                mark_needs_sync(allocation)
                marked += 1
    return marked
