"""The session store: Django's database sessions, with a key that must look like one Django makes.

A session cookie is whatever the client sends. Django's own check is only the length, so a key holding a NUL
byte reached PostgreSQL, which refuses it in a text column: every request with such a cookie answered 500. A
key that is not 32 lowercase letters and digits (what ``get_random_string`` gives the store) is no session:
the request goes on signed out, as with an expired one."""

from __future__ import annotations

import re

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

SESSION_KEY_RE = re.compile(r"[a-z0-9]{32}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key) -> bool:
        return isinstance(key, str) and SESSION_KEY_RE.fullmatch(key) is not None
