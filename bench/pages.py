"""Query counts and server time of the pages and API lists people use most, beside a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aif_bench .venv/bin/python bench/pages.py [--n 30]

In one process, with django.test.Client (the product's full MIDDLEWARE, URL routing, view, ORM and
templates; no WSGI server, no network; DEBUG off), against the database bench/generate.py filled:

* server time: perf_counter around client.get(url) + reading the content; --warmup untimed rounds, then
  --n timed rounds, round-robin over every case so drift on the shared machine hits all cases alike;
  p50 and p95 (nearest rank).
* queries: 3 more requests per case inside CaptureQueriesContext (which forces the debug cursor); the
  timed requests run without it. "SQL ms" is the time spent in cursor.execute (round trip to PostgreSQL
  and reading the rows, not building the model objects), timed with perf_counter. A statement that
  repeats with different parameters more than twice in one request is reported as "per row".
* baselines, same process, same middleware (bench/urls.py, only in this bench's URLconf): "bare" (an
  HttpResponse("ok") with the applicant's session cookie: session row read, no user), "bare+auth" (the
  same behind login_required: session + user, the floor of every signed-in page). Ratios are p50 / p50
  of "bare+auth".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aif_bench")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")
# Production's static storage (manifest) needs collectstatic: into a directory of the bench's own.
os.environ.setdefault("STATIC_ROOT", "/tmp/aif-bench/static")

# (label, user key, url): the user keys are resolved to the accounts bench/generate.py made.
CASES = [
    ("bare (anonymous)", None, "/bench/bare/"),
    ("bare", "applicant", "/bench/bare/"),
    ("bare+auth", "applicant", "/bench/bare-auth/"),
    ("applicant dashboard", "applicant", "/dashboard/"),
    ("applicant application list", "applicant", "/applications/"),
    ("applicant application list API", "applicant", "/api/v1/applications/"),
    ("applicant allocation list", "applicant", "/allocations/"),
    ("applicant allocation list API", "applicant", "/api/v1/allocations/"),
    ("reviewer queue", "reviewer", "/staff/reviews/"),
    ("reviewer queue API", "reviewer", "/api/v1/staff/reviews/"),
    ("manager application overview", "manager", "/staff/applications/"),
    ("manager application overview API", "manager", "/api/v1/staff/applications/"),
    ("manager allocation overview", "manager", "/staff/allocations/"),
    ("manager allocation overview API", "manager", "/api/v1/staff/allocations/"),
    ("oversight application list (all)", "manager", "/applications/"),
    ("ethics queue", "ethics", "/staff/ethics/"),
    ("ethics review list API", "ethics", "/api/v1/staff/ethics/reviews/"),
    ("audit event list API", "ethics", "/api/v1/staff/audit-events/"),
    # Search at scale (50,000 applications, 10,000 organisations): one organisation, one title, a reference
    # prefix, and a word a quarter of the titles hold.
    ("search: manager applications by organisation", "manager", "/staff/applications/?q=Organisation+04242"),
    ("search: manager applications by title", "manager", "/staff/applications/?q=project+31337"),
    ("search: manager applications by reference", "manager", "/staff/applications/?q=AIF-2025-0012"),
    ("search: manager applications by common word", "manager", "/staff/applications/?q=climate"),
    ("search: manager applications API by organisation", "manager",
     "/api/v1/staff/applications/?q=Organisation+04242"),
    ("search: manager allocations by organisation", "manager", "/staff/allocations/?q=Organisation+04242"),
    ("search: manager allocations API by organisation", "manager", "/api/v1/staff/allocations/?q=Organisation+04242"),
    ("search: oversight applications by organisation", "manager", "/applications/?q=Organisation+04242"),
    ("search: manager applications, filtered and sorted", "manager",
     "/staff/applications/?status=in_review&site=zellik&sort=title&q=vision"),
    # The other staff lists, searched and filtered (portal.listquery).
    ("search: reviewer queue by organisation", "reviewer", "/staff/reviews/?q=Organisation"),
    ("search: reviewer queue API, filtered and sorted", "reviewer",
     "/api/v1/staff/reviews/?status=submitted&sort=-due_date&q=Organisation"),
    ("search: ethics reviews by organisation", "ethics", "/staff/ethics/?status=&q=Organisation+04242"),
    ("search: ethics reviews API by title", "ethics", "/api/v1/staff/ethics/reviews/?q=project+31337"),
    ("search: change requests by organisation", "manager", "/staff/change-requests/?status=&q=Organisation+04242"),
    ("search: audit trail by reference", "ethics", "/staff/audit/?q=AIF-2025-0012"),
    ("search: audit trail API by action", "ethics", "/api/v1/staff/audit-events/?q=application.status_changed"),
    ("search: audit trail by person", "ethics", "/staff/audit/?q=bench-manager-0"),
]
USERS = {"applicant": "bench-applicant-0@bench.aifactory.eu", "reviewer": "bench-reviewer-0@bench.aifactory.eu",
         "manager": "bench-manager-0@bench.aifactory.eu", "ethics": "bench-ethics-0@bench.aifactory.eu"}
BASELINE = "bare+auth"


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def per_row(sqls: list[str]) -> list[tuple[str, int]]:
    """Statements that repeat with different parameters: the signature of a query per row."""
    shapes = Counter(re.sub(r"\b\d+\b|'[^']*'", "?", s) for s in sqls)
    return [(shape[:160], n) for shape, n in shapes.items() if n > 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="substring of the case labels to run (baselines always run)")
    parser.add_argument("--json", default="", help="write the results there")
    parser.add_argument("--sql", action="store_true", help="print every captured statement")
    parser.add_argument("--cpu", action="store_true",
                        help="also print the p50 of this process's CPU time per request (time.process_time: the "
                             "Python side without the waits for PostgreSQL or for a core; steadier than the "
                             "wall clock on a shared machine)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from tests.factories import sessions

    sessions.install()  # force_login records the second factor of a person who has one, as a sign-in does

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    settings.ROOT_URLCONF = "bench.urls"
    clients = {None: Client()}
    for key, email in USERS.items():
        client = Client()
        client.force_login(User.objects.get(email=email))
        clients[key] = client
    cases = [c for c in CASES if c[0].startswith("bare") or args.only in c[0]]

    def fetch(case):
        _, who, url = case
        response = clients[who].get(url)
        body = response.content
        return response.status_code, len(body)

    results = {c[0]: {"url": c[2], "user": c[1], "times": [], "cpu": []} for c in cases}
    for case in cases:  # status and size, once
        status, size = fetch(case)
        results[case[0]].update(status=status, bytes=size)
    for rnd in range(args.warmup + args.n):
        for case in cases:
            t, cpu = time.perf_counter(), time.process_time()
            fetch(case)
            took, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - cpu) * 1000
            if rnd >= args.warmup:
                results[case[0]]["times"].append(took)
                results[case[0]]["cpu"].append(cpu)
    for case in cases:
        counts, sql_ms, repeats = [], [], []
        for _ in range(3):
            spent: list[float] = []

            def timed(execute, sql, params, many, context, spent=spent):
                t = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    spent.append(time.perf_counter() - t)

            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timed):
                fetch(case)
            counts.append(len(ctx.captured_queries))
            sql_ms.append(sum(spent) * 1000)
            repeats = per_row([q["sql"] for q in ctx.captured_queries])
            if args.sql:
                print(f"--- {case[0]}")
                for q in ctx.captured_queries:
                    print(f"  {float(q['time']) * 1000:7.2f} ms  {q['sql'][:300]}")
        r = results[case[0]]
        r.update(queries=counts, sql_ms=statistics.median(sql_ms), per_row=repeats,
                 p50=statistics.median(r["times"]), p95=nearest_rank(r["times"], 95),
                 cpu_p50=statistics.median(r["cpu"]))

    base = results[BASELINE]["p50"]
    print(f"\n{args.n} timed rounds (+{args.warmup} warm-up), round-robin; p50/p95 in ms; ratio = p50 / p50 of "
          f"{BASELINE!r} ({base:.2f} ms) in this run")
    cpu_head, cpu_rule = (" CPU p50 ms |", "---:|") if args.cpu else ("", "")
    print("| page | user | URL | status | queries | SQL ms | p50 ms | p95 ms |" + cpu_head + " x bare+auth "
          "| p50 - SQL, x bare+auth | per-row queries |")
    print("|---|---|---|---:|---:|---:|---:|---:|" + cpu_rule + "---:|---:|---|")
    for label, r in results.items():
        q = r["queries"]
        qs = str(q[0]) if len(set(q)) == 1 else "/".join(map(str, q))
        cpu_cell = f" {r['cpu_p50']:.2f} |" if args.cpu else ""
        rows = "; ".join(f"{n}x {shape[:60]}" for shape, n in r["per_row"]) or "none"
        print(f"| {label} | {r['user'] or '-'} | `{r['url']}` | {r['status']} | {qs} | {r['sql_ms']:.1f} | "
              f"{r['p50']:.2f} | {r['p95']:.2f} |{cpu_cell} {r['p50'] / base:.1f} | "
              f"{(r['p50'] - r['sql_ms']) / base:.1f} | {rows} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
