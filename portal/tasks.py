from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True,
             max_retries=8, time_limit=60)
def send_email(self, *, subject: str, body: str, to: list[str]) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)


@shared_task
def ping() -> str:
    """A no-op round trip used by health checks and integration tests."""
    return "pong"
