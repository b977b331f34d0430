from celery import shared_task

from .notifications import digests_send


# Named explicitly, like every task: the beat schedule (portal/schedule.py) refers to it by name.
@shared_task(name="accounts.tasks.send_notification_digests", acks_late=True, soft_time_limit=500, time_limit=560)
def send_notification_digests() -> int:
    """Beat: each person who chose a daily digest gets one mail with the notifications not mailed yet.
    Idempotent: a second run the same day sends nothing (one digest per person and day)."""
    return digests_send()
