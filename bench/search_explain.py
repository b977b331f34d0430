"""Execution time (EXPLAIN ANALYZE, median of 7) of the staff lists' search at the generated scale: the
page query (25 rows) and the paginator's count, with the `icontains` OR across the organisation join the
lists used before `portal.listquery.search`, and with it (trigram indexes, organisation ids looked up
first). For docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aif_bench .venv/bin/python bench/search_explain.py
"""

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aif_bench")

TERMS = ["Organisation 04242", "project 31337", "AIF-2025-0012", "climate"]


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Q

    from allocations.applications.models import Application, ApplicationStatus
    from allocations.grants.models import Allocation
    from allocations.grants.selectors import allocation_overview
    from allocations.review.selectors import application_overview

    def execution_ms(sql, params) -> float:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return plan[0]["Execution Time"]

    def measure(label, build, terms):
        for term in terms:
            pages, counts = [], []
            for _ in range(7):
                qs = build(term)
                pages.append(execution_ms(*qs[:25].query.sql_with_params()))
                sql, params = qs.order_by().values("pk").query.sql_with_params()
                counts.append(execution_ms(f"SELECT COUNT(*) FROM ({sql}) s", params))
            print(f"| {label} | `{term}` | {statistics.median(pages):.2f} | {statistics.median(counts):.2f} |")

    def applications_before(term):
        return (Application.objects.ever_submitted().exclude(status=ApplicationStatus.DRAFT)
                .select_related("organisation", "access_mode")
                .filter(Q(reference__icontains=term) | Q(title__icontains=term)
                        | Q(organisation__legal_name__icontains=term)).order_by("-submitted_at", "-pk"))

    def allocations_before(term):
        return (Allocation.objects.select_related("organisation", "application")
                .filter(Q(reference__icontains=term) | Q(organisation__legal_name__icontains=term))
                .order_by("-created_at", "-pk"))

    print("| query | term | page, ms | count, ms |")
    print("|---|---|---:|---:|")
    measure("applications, icontains across the join", applications_before, TERMS)
    measure("applications, portal.listquery.search", lambda t: application_overview(q=t).prefetch_related(None),
            TERMS)
    measure("allocations, icontains across the join", allocations_before, TERMS[::2])
    measure("allocations, portal.listquery.search", lambda t: allocation_overview(q=t).prefetch_related(None),
            TERMS[::2])


if __name__ == "__main__":
    main()
