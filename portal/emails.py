"""E-mail: rendered when the change happens, sent by a Celery task after the commit."""

from __future__ import annotations

import logging

from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render_email(template: str, context: dict) -> tuple[str, str]:
    from django.conf import settings

    context = {"portal_base_url": settings.PORTAL_BASE_URL, **context}
    subject = render_to_string(f"{template}_subject.txt", context).strip().replace("\n", " ")
    body = render_to_string(f"{template}_body.txt", context)
    return subject, body


def send_templated_email_on_commit(*, to: list[str], template: str, context: dict) -> None:
    """Render now (so the message reflects the committed change), queue the send on commit."""
    recipients = [address for address in to if address and not address.endswith(".invalid")]
    if not recipients:
        return
    subject, body = render_email(template, context)

    transaction.on_commit(lambda: queue_email(subject=subject, body=body, to=recipients))


def queue_email(*, subject: str, body: str, to: list[str]) -> bool:
    """Hand one message to the worker; called after the commit of the change it reports.

    With the broker unreachable the change is already committed: raising here turned the user's
    successful action into a server error (and skipped the other on-commit callbacks). The message
    is logged as lost instead; the portal keeps no outbox, so Redis must persist and stay up
    (docs/reliability.md, drill 1)."""
    from .tasks import send_email

    try:
        send_email.delay(subject=subject, body=body, to=to)
    except Exception:
        logger.error("e-mail lost, the broker is unreachable: %r to %d recipient(s)", subject, len(to),
                     exc_info=True)
        return False
    return True
