"""Celery finds an app's tasks in `<app>.tasks`: each domain defines its own in its `tasks.py`, and
they are imported here so that the worker and beat register them."""

from allocations.grants import tasks as grants_tasks  # noqa: F401
from allocations.outcomes import tasks as outcomes_tasks  # noqa: F401
from allocations.provisioning import tasks as provisioning_tasks  # noqa: F401
from allocations.provisioning.identity import tasks as identity_tasks  # noqa: F401
from allocations.review import tasks as review_tasks  # noqa: F401
from allocations.terms import tasks as terms_tasks  # noqa: F401
