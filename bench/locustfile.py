"""Load test: applicants, reviewers and allocation managers on their usual journeys.

Run through bench/run_load.sh (gunicorn with 2 workers, PostgreSQL, Redis, all on 127.0.0.1). Sessions come
from bench/seed_sessions.py (AIF_BENCH_SESSIONS). Every response must be 200/201: anything else is a failure.
"""

import json
import os
import random

from locust import HttpUser, between, task

SESSIONS = json.loads(open(os.environ.get("AIF_BENCH_SESSIONS", "/tmp/aif-bench/sessions.json")).read())


class _Journey(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    kind = ""

    def on_start(self):
        self.me = random.choice(SESSIONS[self.kind])
        self.client.cookies.set("sessionid", self.me["session"])

    def get(self, url, name=None):
        with self.client.get(url, name=name or url, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")


class Applicant(_Journey):
    weight = 6
    kind = "applicant"

    @task(3)
    def dashboard(self):
        self.get("/dashboard/")

    @task(2)
    def applications(self):
        self.get("/applications/")
        if self.me["references"]:
            self.get(f"/applications/{random.choice(self.me['references'])}/", name="/applications/<ref>/")

    @task(1)
    def allocations(self):
        self.get("/allocations/")
        self.get("/api/v1/allocations/")

    @task(1)
    def api_applications(self):
        self.get("/api/v1/applications/")

    @task(1)
    def create_draft(self):
        # A write: a draft through the API (one audit event, so the chain head is contended).
        self.client.get("/api/v1/me/", name="/api/v1/me/")
        token = self.client.cookies.get("csrftoken")
        if token is None:
            self.get("/applications/new/")
            token = self.client.cookies.get("csrftoken", "")
        with self.client.post("/api/v1/applications/", json={"organisation": self.me["organisation"],
                                                             "title": "Load-test draft"},
                              headers={"X-CSRFToken": token, "Referer": self.host + "/"},
                              name="POST /api/v1/applications/", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code} {r.text[:200]}")


class Reviewer(_Journey):
    weight = 2
    kind = "reviewer"

    @task(3)
    def queue(self):
        self.get("/staff/reviews/")

    @task(2)
    def assignment(self):
        if self.me["assignments"]:
            self.get(f"/staff/reviews/{random.choice(self.me['assignments'])}/", name="/staff/reviews/<id>/")

    @task(1)
    def api_queue(self):
        self.get("/api/v1/staff/reviews/")


class Manager(_Journey):
    weight = 2
    kind = "manager"

    @task(3)
    def overview(self):
        self.get("/staff/applications/")
        self.get("/staff/applications/?status=submitted", name="/staff/applications/?status=")

    @task(2)
    def allocations(self):
        self.get("/staff/allocations/")

    @task(1)
    def api(self):
        self.get("/api/v1/staff/applications/")
        self.get("/api/v1/staff/allocations/")

    @task(1)
    def search(self):
        self.get("/applications/?q=Organisation+0012", name="/applications/?q=")
