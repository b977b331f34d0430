"""Signed-in sessions for the load test, written to a JSON file bench/locustfile.py reads.

    DATABASE_URL=... .venv/bin/python bench/seed_sessions.py /tmp/aif-bench/sessions.json

Staff accounts need a second factor to sign in. Rather than spend a TOTP code per virtual user (a code is
accepted once), the sessions are seeded: django.test.Client.force_login writes an ordinary database
session for each account (the accounts from bench/generate.py, which all hold a TOTP authenticator), and
records in it the password and second-factor steps allauth records at a real sign-in (staff roles hold
only in a session that passed the second factor: tests/factories/sessions.py). Each entry also lists
objects the journey opens (the applicant's application references and organisation, the reviewer's
assignment ids).
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aif_bench")


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from tests.factories import sessions

    sessions.install()  # force_login records the second factor of a person who has one, as a sign-in does

    from accounts.models import Membership, User
    from allocations.applications.models import Application
    from allocations.review.models import ReviewAssignment

    def session_for(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    out = {"applicant": [], "reviewer": [], "manager": []}
    for i in range(1, 101):
        user = User.objects.get(email=f"bench-applicant-{i}@bench.aifactory.eu")
        org_id = Membership.objects.filter(user=user).values_list("organisation_id", flat=True).first()
        refs = list(Application.objects.filter(organisation_id=org_id).values_list("reference", flat=True)[:10])
        out["applicant"].append({"session": session_for(user), "organisation": org_id, "references": refs})
    for i in range(50):
        user = User.objects.get(email=f"bench-reviewer-{i}@bench.aifactory.eu")
        ids = list(ReviewAssignment.objects.filter(reviewer=user).values_list("pk", flat=True)[:20])
        out["reviewer"].append({"session": session_for(user), "assignments": ids})
    for i in range(8):
        user = User.objects.get(email=f"bench-manager-{i}@bench.aifactory.eu")
        out["manager"].append({"session": session_for(user)})
    Path(sys.argv[1]).write_text(json.dumps(out))
    print(f"seeded {sum(len(v) for v in out.values())} sessions into {sys.argv[1]}")


if __name__ == "__main__":
    main()
