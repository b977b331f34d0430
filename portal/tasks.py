from smtplib import SMTPException

from celery import shared_task

from .audit import log_chain_head
from .emails import deliver, purge_sent, send_pending

# Every task is named explicitly (the name its module path gave it before): the beat schedule
# (portal/schedule.py) and portal.tasking.enqueue refer to tasks by name, so moving a function must not
# rename its task.

# Both limits are set: a task-level time_limit below the global soft limit (540 s) is refused by
# Celery at enqueue time ("soft_time_limit must be less than or equal to time_limit").
@shared_task(name="portal.tasks.send_email", bind=True, acks_late=True, autoretry_for=(OSError, SMTPException),
             retry_backoff=True, retry_jitter=True, max_retries=8, time_limit=60, soft_time_limit=50)
def send_email(self, email_id: int) -> bool:
    """Send one message of the outbox (portal.emails); a message already sent is not sent again."""
    return deliver(email_id)


@shared_task(name="portal.tasks.send_pending_emails", acks_late=True, soft_time_limit=100, time_limit=120)
def send_pending_emails() -> int:
    """Beat: queue again the outbox messages the broker lost, and purge sent ones past retention."""
    queued = send_pending()
    purge_sent()
    return queued


@shared_task(name="portal.tasks.log_audit_chain_head", soft_time_limit=50, time_limit=60)
def log_audit_chain_head() -> int:
    """Beat: write the audit chain's head to the log, to be shipped off the machine (portal.audit)."""
    return log_chain_head().seq


@shared_task(name="portal.tasks.ping")
def ping() -> str:
    """A no-op round trip used by health checks and integration tests."""
    return "pong"
