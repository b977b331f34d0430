"""Benchmark: a period report over 1,000 decisions, end to end, beside raw WeasyPrint on the same HTML.

    DJANGO_SETTINGS_MODULE=portal.settings .venv/bin/python bench/report_period.py [-n 1000] [--repeat 3]

Prints numbers only (not a test). By default it builds a throwaway SQLite database and private media
directory in a temporary folder, so it never touches the configured database; `--configured-db` uses
DATABASE_URL instead (the data it creates is left there).

Each measurement runs in a fresh child process so that peak memory (ru_maxrss) belongs to that work
alone, after a small warm-up render in the same process (a worker renders many reports: imports,
template compilation, translation catalogues, fontconfig and the database connection are paid once):
  end-to-end  report_generate(): the period data (queries + audit chain verification), the HTML
              template, WeasyPrint layout and PDF, the CSV, SHA-256s, files and audit events;
  raw         WeasyPrint alone, HTML(string=...).write_pdf(), on the HTML of the same report.
The ratio end-to-end / raw shows what the portal adds on top of the renderer (target: <= 1.2x, < 400 MB).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("celery").setLevel(logging.WARNING)


# --- data ---------------------------------------------------------------------------------------------


def build(n: int, seed: int = 7) -> dict:
    """n decisions in one period: approvals with quotas and sync attempts, rejections, revisions; reviewer
    assignments, ethics reviews with conditions, risk classes; ~3 audit events per decision."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Membership, Organisation, Sector, User
    from allocations.applications.models import Application, ApplicationStatus, RequestedResource
    from allocations.catalogue.models import AccessMode, Site
    from allocations.grants.models import Allocation, AllocationQuota, SyncState
    from allocations.provisioning.models import SyncAttempt
    from allocations.review.models import Decision, ReviewAssignment
    from compliance.models import EthicsCondition, EthicsReview, EthicsStatus, RiskAssessment
    from portal.audit import AuditAction, audit_record

    rng = random.Random(seed)
    sites = list(Site.objects.order_by("code"))
    modes = list(AccessMode.objects.order_by("order"))
    classes = ["minimal"] * 6 + ["transparency", "gpai", "high_risk", "out_of_scope"]
    ethics = [EthicsStatus.AUTO_CLEARED] * 5 + [EthicsStatus.CLEARED, EthicsStatus.CLEARED_WITH_CONDITIONS]
    today = timezone.localdate()
    with transaction.atomic():
        stamp = int(time.time())
        manager = User.objects.create_user(f"bench-manager-{stamp}@example.eu", full_name="Bench Manager")
        officer = User.objects.create_user(
            f"bench-officer-{stamp}@example.eu", full_name="Bench Officer", is_superuser=True, is_staff=True
        )
        reviewers = User.objects.bulk_create(
            [User(email=f"bench-rev{i}-{stamp}@panel.example", full_name=f"Reviewer {i}") for i in range(30)]
        )
        orgs = []
        for i in range(max(1, n // 4)):
            org = Organisation(
                legal_name=f"Bench Org {i} BV",
                country="BE",
                org_type="sme",
                vat_number=f"BE{stamp % 10**6:06d}{i:04d}",
                headcount=rng.randint(2, 200),
                annual_turnover=Decimal(rng.randint(10**5, 4 * 10**7)),
                balance_sheet_total=Decimal(rng.randint(10**5, 4 * 10**7)),
                sectors=["health"],
            )
            org.sme_class = org.compute_sme_class()
            orgs.append(org)
        Organisation.objects.bulk_create(orgs)
        Membership.objects.bulk_create([Membership(user=manager, organisation=orgs[0])])
        apps = []
        for i in range(n):
            outcome = rng.choices(["approved", "rejected", "revision_requested"], [7, 2, 1])[0]
            apps.append(
                Application(
                    reference=f"BEN-{stamp % 10**5:05d}-{i:05d}",
                    organisation=orgs[i % len(orgs)],
                    created_by=manager,
                    title=f"Benchmark project {i}",
                    sector=rng.choice(Sector.values),
                    access_mode=rng.choice(modes),
                    status=outcome,
                    start_date=today,
                    duration_months=3,
                    submitted_at=timezone.now() - datetime.timedelta(days=5),
                    decision_due=today + datetime.timedelta(days=rng.randint(-3, 5)),
                )
            )
        Application.objects.bulk_create(apps)
        RequestedResource.objects.bulk_create(
            [
                RequestedResource(application=a, site=s, gpu_hours=rng.randint(100, 40000), cpu_core_hours=1000)
                for a in apps
                for s in (sites if rng.random() < 0.3 else [rng.choice(sites)])
            ]
        )
        RiskAssessment.objects.bulk_create(
            [
                RiskAssessment(
                    application=a,
                    ruleset_version="2026-omnibus",
                    ruleset_sha256="0" * 64,
                    classification=rng.choice(classes),
                    complete=True,
                )
                for a in apps
            ]
        )
        reviews = EthicsReview.objects.bulk_create(
            [EthicsReview(application=a, status=rng.choice(ethics), decided_at=timezone.now()) for a in apps]
        )
        EthicsCondition.objects.bulk_create(
            [
                EthicsCondition(review=r, text="Publish a data management plan")
                for r in reviews
                if r.status == EthicsStatus.CLEARED_WITH_CONDITIONS
            ]
        )
        ReviewAssignment.objects.bulk_create(
            [
                ReviewAssignment(application=a, reviewer=rv, kind="technical", status="submitted", assigned_by=manager)
                for a in apps
                for rv in rng.sample(reviewers, rng.randint(1, 3))
            ]
        )
        Decision.objects.bulk_create([Decision(application=a, outcome=a.status, decided_by=manager) for a in apps])
        approved = [a for a in apps if a.status == ApplicationStatus.APPROVED]
        allocations = Allocation.objects.bulk_create(
            [
                Allocation(
                    application=a,
                    organisation=a.organisation,
                    reference=a.reference,
                    start_date=today,
                    end_date=today + datetime.timedelta(days=90),
                    slurm_account=a.reference.lower().replace("-", "_"),
                    sync_state=rng.choice([SyncState.IN_SYNC] * 4 + [SyncState.NEEDS_SYNC, SyncState.ERROR]),
                )
                for a in approved
            ]
        )
        AllocationQuota.objects.bulk_create(
            [
                AllocationQuota(allocation=al, site=s, gpu_hours=rng.randint(100, 40000), cpu_core_hours=1000)
                for al in allocations
                for s in sites[: rng.randint(1, len(sites))]
            ]
        )
        SyncAttempt.objects.bulk_create(
            [
                SyncAttempt(allocation=al, site=rng.choice(sites), outcome=rng.choice(["success", "noop", "error"]))
                for al in allocations
                for _ in range(rng.randint(1, 3))
            ]
        )
        for a in apps:  # a realistic chain to verify: a few events per decision
            audit_record(
                actor=manager,
                action=AuditAction.APPLICATION_STATUS_CHANGED,
                target=a,
                changes={"status": ["awaiting_decision", a.status]},
            )
            audit_record(actor=officer, action=AuditAction.ETHICS_REVIEW_DECIDED, target=a,
                         changes={"status": "cleared"})
        for al in allocations:
            audit_record(
                actor=manager, action=AuditAction.ALLOCATION_CREATED, target=al,
                changes={"slurm_account": al.slurm_account},
            )
    assert Decision.objects.filter(decided_at__date__gte=today - datetime.timedelta(days=1)).count() >= n
    return {"officer_id": officer.pk, "date": today.isoformat()}


def new_report(officer_id: int, day: str) -> int:
    """A queued report, through the real request service; the child process generates it (no broker)."""
    from accounts.models import User
    from compliance.reports import services
    from compliance.reports.services import report_request_period

    services._enqueue = lambda report_id: None

    report = report_request_period(
        actor=User.objects.get(pk=officer_id),
        date_from=datetime.date.fromisoformat(day),
        date_to=datetime.date.fromisoformat(day),
        language="en",
    )
    return report.pk


# --- children -----------------------------------------------------------------------------------------


def child_end_to_end(report_ids: str) -> dict:
    """Generate the warm-up report (an empty day), then time the real one: a worker renders many reports,
    so the one-time costs (imports, templates, catalogues, fontconfig, the database connection) are left out."""
    setup_django()
    from compliance.reports.services import report_generate

    warm_id, report_id = (int(i) for i in report_ids.split(","))
    report_generate(report_id=warm_id)
    before = rss_mb()
    started, cpu = time.perf_counter(), cpu_seconds()
    report = report_generate(report_id=report_id)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    assert report.status == "done", report.error
    return {"seconds": seconds, "cpu": cpu, "peak_mb": rss_mb(), "start_mb": before, "pdf_bytes": report.size}


def child_raw(html_path: str) -> dict:
    setup_django()  # same imports as the worker, so that memory figures compare
    from weasyprint import HTML

    from compliance.reports.render import url_fetcher

    html = Path(html_path).read_text(encoding="utf-8")
    HTML(string="<p>warm-up</p>", url_fetcher=url_fetcher()).write_pdf()  # fontconfig and friends, as above
    before = rss_mb()
    started, cpu = time.perf_counter(), cpu_seconds()
    pdf = HTML(string=html, url_fetcher=url_fetcher()).write_pdf()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mb": rss_mb(), "start_mb": before, "pdf_bytes": len(pdf)}


def run_child(args: list[str], env: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"child {args[:2]} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1000, help="decisions in the period (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median printed)")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL instead of a throwaway DB")
    parser.add_argument("--child", choices=["e2e", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--arg", help=argparse.SUPPRESS)
    opts = parser.parse_args()

    if opts.child:
        result = child_end_to_end(opts.arg) if opts.child == "e2e" else child_raw(opts.arg)
        print(json.dumps(result))
        return

    workdir = Path(tempfile.mkdtemp(prefix="aif-bench-reports-"))
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    env["PRIVATE_MEDIA_ROOT"] = str(workdir / "private")
    env["CELERY_TASK_ALWAYS_EAGER"] = "0"
    if not opts.configured_db:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(env)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from compliance.models import Report
    from compliance.reports.services import build_report_html

    started = time.perf_counter()
    if not opts.configured_db:
        call_command("migrate", verbosity=0)
    info = build(opts.n)
    print(f"database: {connection.vendor} ({'throwaway, ' + str(workdir) if not opts.configured_db else 'configured'})")
    print(f"data: {opts.n} decisions built in {time.perf_counter() - started:.1f} s")

    e2e, raw = [], []
    for i in range(opts.repeat):
        warm_id = new_report(info["officer_id"], "2000-01-01")
        report_id = new_report(info["officer_id"], info["date"])
        e2e.append(run_child(["--child", "e2e", "--arg", f"{warm_id},{report_id}"], env))
        html, _csv = build_report_html(Report.objects.get(pk=report_id))
        html_path = workdir / f"report-{report_id}.html"
        html_path.write_text(html, encoding="utf-8")
        raw.append(run_child(["--child", "raw", "--arg", str(html_path)], env))
        print(
            f"run {i + 1}: end-to-end {e2e[-1]['seconds']:.2f} s wall, {e2e[-1]['cpu']:.2f} s CPU, "
            f"{e2e[-1]['peak_mb']:.0f} MB peak; raw WeasyPrint {raw[-1]['seconds']:.2f} s wall, "
            f"{raw[-1]['cpu']:.2f} s CPU, {raw[-1]['peak_mb']:.0f} MB peak"
        )

    done = Report.objects.get(pk=report_id)
    from pypdf import PdfReader

    pages = len(PdfReader(str(Path(env["PRIVATE_MEDIA_ROOT"]) / "reports" / done.file_name)).pages)

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    e2e_mb, raw_mb = max(r["peak_mb"] for r in e2e), max(r["peak_mb"] for r in raw)
    time_ratio, cpu_ratio = med(e2e, "seconds") / med(raw, "seconds"), med(e2e, "cpu") / med(raw, "cpu")
    print(f"PDF: {pages} pages, {done.size / 1024:.0f} KiB; HTML {len(html) / 1024:.0f} KiB")
    print(
        f"end-to-end period report:  {med(e2e, 'seconds'):.2f} s wall, {med(e2e, 'cpu'):.2f} s CPU "
        f"(median of {opts.repeat}); peak RSS {e2e_mb:.0f} MB (process at start {med(e2e, 'start_mb'):.0f} MB)"
    )
    print(
        f"raw WeasyPrint, same HTML: {med(raw, 'seconds'):.2f} s wall, {med(raw, 'cpu'):.2f} s CPU "
        f"(median of {opts.repeat}); peak RSS {raw_mb:.0f} MB (process at start {med(raw, 'start_mb'):.0f} MB)"
    )
    verdict = "met" if max(time_ratio, cpu_ratio) <= 1.2 and e2e_mb < 400 else "NOT met"
    print(
        f"ratio end-to-end / raw: wall {time_ratio:.2f}x, CPU {cpu_ratio:.2f}x, peak memory {e2e_mb / raw_mb:.2f}x "
        f"(target <= 1.2x and < 400 MB: {verdict})"
    )


if __name__ == "__main__":
    main()
