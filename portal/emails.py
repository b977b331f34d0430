"""E-mail through an outbox: rendered and stored when the change happens (in its transaction), handed
to a Celery worker after the commit, and sent again by a sweeper if the broker lost the message.

Delivery is at least once: a worker that dies after the SMTP server accepted a message but before
recording it sends it again after the claim expires (minutes); every other path sends it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks, urlize
from django.utils.safestring import mark_safe

from .models import OutgoingEmail
from .tasking import enqueue, enqueue_on_commit

# portal.tasks.send_email, queued by name: the task module imports this one.
SEND_EMAIL_TASK = "portal.tasks.send_email"

# The template engine of plain-text mails (portal/settings.py TEMPLATES: autoescape off).
TEXT_ENGINE = "text"

# How long a worker holds a message it is sending (longer than the send task's hard time limit).
CLAIM_SECONDS = 120
# A message the SMTP server refused this often (an address it rejects, say) is no longer swept; it stays
# in the outbox with its last error for an operator (admin: Portal > Outgoing e-mails).
MAX_ATTEMPTS = 20


def portal_url(path: str) -> str:
    """A path of the portal as the link a mail carries: on the base URL the portal is served on."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def portal_name() -> str:
    """The portal's name as mails print it (the subject's prefix, allauth's greeting)."""
    return settings.AIF_PORTAL_NAME


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str
    html: str


def subject_line(subject: str) -> str:
    """One line, prefixed with the portal's name: "[AI Factory] ..."."""
    return f"[{portal_name()}] {' '.join(str(subject).split())}"


def html_alternative(body: str, *, subject: str, language: str | None = None) -> str:
    """The HTML alternative of a plain-text body: the same words, escaped, paragraphs kept and links made
    clickable (so no template has two versions to keep in step)."""
    html = linebreaks(urlize(body.strip(), autoescape=True), autoescape=False)
    return render_to_string("portal/email/message.html", {
        "subject": subject, "content": mark_safe(html),  # noqa: S308 (escaped by urlize above)
        "language": language or translation.get_language() or settings.LANGUAGE_CODE,
        "portal_name": portal_name(), "portal_base_url": settings.PORTAL_BASE_URL})


def render_email(template: str, context: dict) -> RenderedEmail:
    """The subject, plain text and HTML of a mail in the active language (call it inside
    translation.override of the recipient's language). The text templates go through the "text"
    template engine, which escapes nothing: a plain-text mail never shows "&#x27;" or "&amp;"."""
    context = {"portal_base_url": settings.PORTAL_BASE_URL, "portal_name": portal_name(), **context}
    subject = subject_line(render_to_string(f"{template}_subject.txt", context, using=TEXT_ENGINE))
    body = render_to_string(f"{template}_body.txt", context, using=TEXT_ENGINE).strip() + "\n"
    return RenderedEmail(subject=subject, body=body, html=html_alternative(body, subject=subject))


def language_of_address(addresses: list[str]) -> dict[str, str]:
    """The language of each address: the person's own (User.language) for an address of the portal, the
    portal's default for anyone else (a person invited by mail who has no account yet)."""
    user_model = get_user_model()
    known = {email.lower(): language for email, language in
             user_model.objects.filter(email__in=[a.lower() for a in addresses]).values_list("email", "language")}
    return {address: known.get(address.lower()) or settings.LANGUAGE_CODE for address in addresses}


def send_templated_email_on_commit(*, to: list[str], template: str, context: dict) -> list[OutgoingEmail]:
    """Render now (so the message reflects the change), store it with the change, send it after the commit.

    Each recipient reads it in their own language, never in the language of whoever's action sent it:
    one message per language. Values of the context a person reads must stay lazy (an enum's `.label`,
    not `get_FOO_display()`), so that they are translated in the recipient's language too."""
    by_language: dict[str, list[str]] = {}
    for address, language in language_of_address([a for a in to if a]).items():
        by_language.setdefault(language, []).append(address)
    stored = []
    for language, addresses in sorted(by_language.items()):
        with translation.override(language):
            rendered = render_email(template, context)
        email = outbox_add(subject=rendered.subject, body=rendered.body, html_body=rendered.html, to=addresses)
        if email is not None:
            stored.append(email)
    return stored


def mail_to_person(*, person, template: str, context: dict) -> OutgoingEmail | None:
    """One mail to one person of the portal, in their language (User.language)."""
    with translation.override(getattr(person, "language", "") or settings.LANGUAGE_CODE):
        rendered = render_email(template, context)
    return outbox_add(subject=rendered.subject, body=rendered.body, html_body=rendered.html, to=[person.email])


def outbox_add(*, subject: str, body: str, to: list[str], html_body: str = "") -> OutgoingEmail | None:
    """Store one message in the caller's transaction and queue its sending for after the commit.

    Addresses of erased people (`.invalid`) are dropped; with no recipient left nothing is stored."""
    recipients = [address for address in to if address and not address.endswith(".invalid")]
    if not recipients:
        return None
    email = OutgoingEmail.objects.create(subject=subject[:998], body=body, html_body=html_body,
                                         recipients="\n".join(recipients))
    # With the broker unreachable at commit time the message stays in the outbox (logged) and the
    # sweeper, send_pending, queues it later: the user's committed action is not turned into an error.
    enqueue_on_commit(SEND_EMAIL_TASK, email.pk)
    return email


def deliver(email_id: int) -> bool:
    """Send one stored message unless it was sent or another worker holds it. Returns whether it was
    sent now. An SMTP error releases the claim and propagates (the task retries with back-off)."""
    now = timezone.now()
    claimed = (OutgoingEmail.objects.filter(pk=email_id, sent_at=None)
               .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
               .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=F("attempts") + 1))
    if not claimed:
        return False
    email = OutgoingEmail.objects.get(pk=email_id)
    message = EmailMultiAlternatives(email.subject, email.body, settings.DEFAULT_FROM_EMAIL, email.to)
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        OutgoingEmail.objects.filter(pk=email_id).update(claimed_until=None,
                                                         last_error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    # The body may carry a one-time link (invitation, password reset, address confirmation) whose token
    # the portal otherwise keeps only as a hash: once sent, only the subject and the addresses remain.
    OutgoingEmail.objects.filter(pk=email_id).update(sent_at=timezone.now(), claimed_until=None, last_error="",
                                                     body="", html_body="")
    return True


def send_pending(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Queue again the messages still unsent a while after their creation (the broker lost them, or was
    down at commit time), not held by a worker and not given up. Returns how many were queued."""
    now = timezone.now()
    ids = list(OutgoingEmail.objects.filter(sent_at=None, created_at__lt=now - timedelta(seconds=older_than_seconds),
                                            attempts__lt=MAX_ATTEMPTS)
               .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
               .order_by("created_at").values_list("pk", flat=True)[:limit])
    return sum(enqueue(SEND_EMAIL_TASK, pk) for pk in ids)


def purge_sent(*, older_than_days: int | None = None) -> int:
    """Delete sent messages after the retention period (they hold personal data)."""
    days = settings.EMAIL_OUTBOX_RETENTION_DAYS if older_than_days is None else older_than_days
    return OutgoingEmail.objects.filter(sent_at__lt=timezone.now() - timedelta(days=days)).delete()[0]


def export_outbox(user) -> list[dict]:
    """Export (accounts.privacy): the messages addressed to the person, by subject and time (a body still
    waiting may hold a one-time link, which is not handed out again)."""
    return [{"subject": e.subject, "created_at": e.created_at.isoformat(),
             "sent_at": e.sent_at.isoformat() if e.sent_at else None}
            for e in OutgoingEmail.objects.filter(recipients__icontains=user.email).order_by("created_at")]


def erase_outbox(user, original_email: str) -> int:
    """Erasure (accounts.privacy): the messages addressed to the person or naming them (an invitation
    they sent, a notice about their application) are deleted, sent or not."""
    mentions = Q(recipients__icontains=original_email) | Q(body__icontains=original_email) \
        | Q(html_body__icontains=original_email)
    name = (user.full_name or "").strip()
    if len(name) >= 4:
        mentions |= Q(body__icontains=name) | Q(subject__icontains=name) | Q(html_body__icontains=escape(name))
    return OutgoingEmail.objects.filter(mentions).delete()[0]
