"""E-mail: rendered when the change happens, sent by a Celery task after the commit."""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string


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

    def _enqueue():
        from .tasks import send_email

        send_email.delay(subject=subject, body=body, to=recipients)

    transaction.on_commit(_enqueue)
