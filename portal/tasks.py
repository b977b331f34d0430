from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


# Both limits are set: a task-level time_limit below the global soft limit (540 s) is refused by
# Celery at enqueue time ("soft_time_limit must be less than or equal to time_limit").
@shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True,
             max_retries=8, time_limit=60, soft_time_limit=50)
def send_email(self, *, subject: str, body: str, to: list[str]) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)


@shared_task
def ping() -> str:
    """A no-op round trip used by health checks and integration tests."""
    return "pong"
