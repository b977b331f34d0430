"""The portal's settings with the Redis visibility_timeout of a drill run (AIF_DRILL_VISIBILITY_TIMEOUT).

Used only by `faults.py worker-kill --visibility-timeout S` to measure kombu's own redelivery of an
unacknowledged task; the portal itself keeps 3600 s (see docs/reliability.md)."""

import os

from portal.settings import *  # noqa: F401,F403
from portal.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": int(os.environ.get("AIF_DRILL_VISIBILITY_TIMEOUT", "3600")),
}
