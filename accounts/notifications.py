"""Notifications: work that arrived for a person, listed in the portal until read and mailed either at
once or in one daily digest, as the person chose (NotificationPreference).

The domain services call `notify` / `notify_role` inside the transaction of the change they report, so
a notification exists exactly when the change was committed; the mails go through the outbox
(portal.emails) and leave after the commit. Mails are written in the recipient's chosen language."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.audit import AuditAction, audit_record
from portal.emails import mail_to_person, portal_url

from .models import (
    Notification,
    NotificationDelivery,
    NotificationDigest,
    NotificationKind,
    NotificationPreference,
    User,
    default_language,
    portal_languages,
)
from .selectors import users_with_role


def _mail_one(person: User, notification: Notification) -> None:
    # The sentence is built when read: inside the person's language, so is the notification's text.
    with translation.override(person.language or default_language()):
        mail_to_person(person=person, template="accounts/email/notification", context={
            "name": person.display_name, "kind": notification.get_kind_display(),
            "reference": notification.params.get("reference", ""), "text": notification.text,
            "link": portal_url(notification.link), "account_url": portal_url(reverse("accounts:account"))})


def notify(*, recipients: Iterable[User], kind: str, params: dict[str, Any], link: str,
           exclude: User | None = None) -> list[Notification]:
    """One notification per recipient (active, not erased, not `exclude`: nobody is told what they did
    themselves); mailed now to those who want every notification as it comes, kept for the digest of
    the others. Call it inside the transaction of the change."""
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    people: dict[int, User] = {}
    for person in recipients:
        if person.is_active and person.erased_at is None and (exclude is None or person.pk != exclude.pk):
            people.setdefault(person.pk, person)
    if not people:
        return []
    preferences = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=people)}
    now = timezone.now()
    rows = []
    for pk, person in people.items():
        preference = preferences.get(pk)
        immediate = preference is None or preference.delivery == NotificationDelivery.IMMEDIATE
        rows.append(Notification(recipient=person, kind=kind, params=params, link=link,
                                 mailed_at=now if immediate else None))
    Notification.objects.bulk_create(rows)
    for row in rows:
        if row.mailed_at is not None:
            _mail_one(row.recipient, row)
    return rows


def notify_role(*, role: str, kind: str, params: dict[str, Any], link: str,
                exclude: User | None = None) -> list[Notification]:
    """Notify everyone who holds a staff role (its group): the ethics officers, the allocation managers."""
    return notify(recipients=users_with_role(role), kind=kind, params=params, link=link, exclude=exclude)


# --- the daily digest ------------------------------------------------------------------------------


def digest_send(*, recipient_id: int, day: datetime.date) -> bool:
    """Mail one person their notifications not mailed yet, in one message; at most one per day.

    Notifications already read in the portal are not listed again (they count as handled). Returns
    whether a digest was stored; running twice the same day stores and mails nothing the second time."""
    try:
        with transaction.atomic():
            person = User.objects.select_for_update().filter(pk=recipient_id).first()
            if person is None or NotificationDigest.objects.filter(recipient=person, day=day).exists():
                return False
            pending = list(Notification.objects.select_for_update()
                           .filter(recipient=person, mailed_at=None).order_by("created_at", "pk"))
            unread = [n for n in pending if n.read_at is None]
            now = timezone.now()
            digest = None
            if unread and person.is_active and person.erased_at is None:
                digest = NotificationDigest.objects.create(recipient=person, day=day, notifications=len(unread))
                with translation.override(person.language or default_language()):
                    mail_to_person(person=person, template="accounts/email/notification_digest", context={
                        "name": person.display_name, "day": day,
                        "items": [{"kind": n.get_kind_display(), "text": n.text, "link": portal_url(n.link)}
                                  for n in unread],
                        "list_url": portal_url(reverse("accounts:notifications")),
                        "account_url": portal_url(reverse("accounts:account"))})
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(mailed_at=now, digest=digest)
            return digest is not None
    except IntegrityError:
        # Another run stored this person's digest for the day between our check and our insert.
        return False


def digests_send(*, day: datetime.date | None = None) -> int:
    """Beat: the daily digest of everyone with notifications not mailed yet. Returns how many were sent."""
    day = day or timezone.localdate()
    recipients = (Notification.objects.filter(mailed_at=None).order_by("recipient_id")
                  .values_list("recipient_id", flat=True).distinct())
    return sum(digest_send(recipient_id=pk, day=day) for pk in list(recipients))


# --- the person's own actions ----------------------------------------------------------------------


def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at=None).update(read_at=timezone.now())


def notification_preference_set(*, actor: User, delivery: str, language: str) -> NotificationPreference:
    """Immediate mails or a daily digest, and the person's language (User.language: every mail the portal
    sends them, whoever's action sent it); audited like every setting."""
    errors = {}
    if delivery not in NotificationDelivery.values:
        errors["delivery"] = _("Choose how you want to be told.")
    if language not in dict(portal_languages()):
        errors["language"] = _("Choose one of the portal's languages.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=actor.pk)
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=actor)
        old = {"delivery": preference.delivery, "language": person.language}
        if _created or old != {"delivery": delivery, "language": language}:
            preference.delivery = delivery
            preference.save(update_fields=["delivery", "updated_at"])
            person.language = actor.language = language
            person.save(update_fields=["language"])
            audit_record(actor=actor, action=AuditAction.NOTIFICATION_PREFERENCE_CHANGED, target=actor,
                         changes={"delivery": delivery, "language": language})
    return preference


# --- personal data (registered with portal.privacy in AccountsConfig.ready) ---------------------------


def export_notifications(user: User) -> dict[str, Any]:
    preference = NotificationPreference.objects.filter(user=user).first()
    return {
        "preference": {"delivery": preference.delivery} if preference else None,
        "digests_sent": [{"day": d.day.isoformat(), "notifications": d.notifications}
                         for d in NotificationDigest.objects.filter(recipient=user).order_by("day")],
        "notifications": [
            {"kind": n.kind, "text": n.text, "link": n.link, "created_at": n.created_at.isoformat(),
             "read_at": n.read_at.isoformat() if n.read_at else None}
            for n in Notification.objects.filter(recipient=user).order_by("created_at", "pk")],
    }


def erase_notifications(user: User, original_email: str) -> int:
    """The person's own notifications go; in other people's, their name and statement are removed."""
    changed = Notification.objects.filter(recipient=user).delete()[0]
    changed += NotificationPreference.objects.filter(user=user).delete()[0]
    changed += NotificationDigest.objects.filter(recipient=user).delete()[0]
    for notification in Notification.objects.filter(params__reviewer_id=user.pk):
        notification.params = {**notification.params, "reviewer": _("A former reviewer"), "statement": "—"}
        notification.save(update_fields=["params"])
        changed += 1
    return changed
