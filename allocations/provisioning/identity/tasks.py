"""Celery tasks of the directory identities: thin wrappers around the services."""

from celery import shared_task

from .services import directory_lock_person, directory_push_keys


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True,
             max_retries=10, soft_time_limit=60, time_limit=90)
def directory_push_keys_task(user_id: int) -> int:
    return directory_push_keys(user_id=user_id)


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=5, retry_backoff_max=300, retry_jitter=True,
             max_retries=10, soft_time_limit=60, time_limit=90)
def directory_lock_person_task(user_id: int) -> int:
    return directory_lock_person(user_id=user_id)
