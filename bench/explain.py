"""EXPLAIN (ANALYZE, BUFFERS) of the list queries behind the benchmarked pages, built with the product's own
selectors, for docs/performance.md (run before and after an index to show the plan change).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aif_bench .venv/bin/python bench/explain.py
"""

import os
import sys
from pathlib import Path

from allocations.applications import selectors as applications_selectors
from allocations.grants import selectors as grants_selectors
from allocations.review import selectors as review_selectors

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aif_bench")


def main() -> None:
    import django

    django.setup()
    from accounts.models import User
    from compliance import selectors as ethics
    from compliance.api.views import ethics_reviews
    from portal.models import AuditEvent

    manager = User.objects.get(email="bench-manager-0@bench.aifactory.eu")
    reviewer = User.objects.get(email="bench-reviewer-0@bench.aifactory.eu")
    queries = {
        "oversight application list (/applications/, manager), page 1": applications_selectors.application_list(
            manager
        )[:25],
        "manager application overview (/staff/applications/), page 1": review_selectors.application_overview()[:25],
        "manager allocation overview (/staff/allocations/), page 1": grants_selectors.allocation_overview()[:25],
        "reviewer queue (/staff/reviews/), page 1": review_selectors.assignments_of(reviewer)[:25],
        "ethics queue, pending (/staff/ethics/), page 1": ethics.ethics_pending()[:25],
        "ethics queue, recent decisions (/staff/ethics/)": ethics.ethics_recent_decisions(),
        "ethics review list API, page 1": ethics_reviews().order_by("created_at", "pk")[:25],
        "audit event list API, page 1": AuditEvent.objects.order_by("-seq")[:25],
    }
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    for label, qs in queries.items():
        if only in label:
            print(f"### {label}\n")
            print("```\n" + qs.explain(analyze=True, buffers=True) + "\n```\n")


if __name__ == "__main__":
    main()
