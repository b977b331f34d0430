"""Fill a PostgreSQL database with a portal at scale, for bench/pages.py and the load test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aif_bench .venv/bin/python bench/generate.py

Drops and re-creates the database named in DATABASE_URL (refuses any name not starting with "aif_bench"),
migrates it, and bulk-loads: 10,000 organisations (one owner each), 50,000 applications in every status
with requested resources, AI Act risk assessments and ethics reviews, review assignments (with reviews)
and decisions, 20,000 allocations with per-site quotas, and 500,000 audit events forming a valid hash
chain (hashes computed with portal.audit.compute_hash, rows written with COPY). Deterministic
(random.Random(seed)). Prints the time of each part. Staff accounts share the TOTP secret of the demo
(bench/accounts.py); every password is BENCH_PASSWORD.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aif_bench")

BENCH_PASSWORD = "bench-portal-2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
BATCH = 5000

# Status mixes (cumulative shares are applied in order).
APP_STATUSES = [
    ("approved", 0.40),
    ("draft", 0.14),
    ("submitted", 0.08),
    ("in_review", 0.12),
    ("awaiting_decision", 0.05),
    ("rejected", 0.12),
    ("revision_requested", 0.04),
    ("withdrawn", 0.05),
]
ALLOC_STATUSES = [
    ("active", 0.60),
    ("expired", 0.22),
    ("suspended", 0.04),
    ("provisioning", 0.03),
    ("approved", 0.03),
    ("revoked", 0.08),
]
CLASSES = [
    ("minimal", 0.45),
    ("transparency", 0.2),
    ("gpai", 0.12),
    ("high_risk", 0.12),
    ("out_of_scope", 0.08),
    ("gpai_systemic", 0.025),
    ("prohibited", 0.005),
]
SECTORS = ["health", "security", "space", "defence", "public_services", "manufacturing", "research", "other"]
ORG_TYPES = ["sme", "startup", "research", "public_body", "large_enterprise"]
REVIEWED = {"in_review", "awaiting_decision", "approved", "rejected", "revision_requested"}
DECIDED = {"approved", "rejected", "revision_requested"}


class Timer:
    def __init__(self):
        self.rows: list[tuple[str, float, int]] = []
        self.start = time.perf_counter()

    def part(self, name: str):
        timer = self

        class _Part:
            count = 0

            def __enter__(self):
                self.t = time.perf_counter()
                return self

            def __exit__(self, *exc):
                took = time.perf_counter() - self.t
                timer.rows.append((name, took, self.count))
                print(f"  {name:<48} {took:7.1f} s  {self.count:>9,} rows", flush=True)

        return _Part()

    def total(self) -> float:
        return time.perf_counter() - self.start


def pick(rng: random.Random, mix):
    x = rng.random()
    for value, share in mix:
        x -= share
        if x < 0:
            return value
    return mix[-1][0]


def recreate_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if not name.startswith("aif_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must start with aif_bench")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def no_auto_now(*models):
    """bulk_create would stamp auto_now(_add) fields with now(); the generator sets them itself."""
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                f.auto_now = f.auto_now_add = False


def main() -> None:  # noqa: C901, PLR0912, PLR0915 - one linear script, part after part
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--allocations", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--reviewers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    rng = random.Random(args.seed)
    timer = Timer()
    print(f"== generating into {url}")

    with timer.part("drop + create database"):
        recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    with timer.part("migrate + setup_roles"):
        call_command("migrate", verbosity=0)
        call_command("setup_roles", verbosity=0)

    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP

    from accounts.models import Membership, Organisation, User
    from accounts.roles import ROLE_GROUPS, Role
    from accounts.sme import sme_class
    from allocations.applications.models import Application, ReferenceSequence, RequestedResource
    from allocations.catalogue.models import AccessMode, Site
    from allocations.grants.models import Allocation, AllocationQuota
    from allocations.review.models import Decision, Review, ReviewAssignment, ReviewerPool
    from compliance.ai_act import engine
    from compliance.models import EthicsReview, RiskAssessment
    from compliance.services import assessment_evaluate
    from portal.audit import GENESIS_HASH, compute_hash
    from portal.models import AuditChainHead

    no_auto_now(
        User,
        Organisation,
        Membership,
        Application,
        Allocation,
        RiskAssessment,
        EthicsReview,
        ReviewAssignment,
        Review,
        Decision,
    )
    now = timezone.now().replace(microsecond=0)
    start = now - datetime.timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    password = make_password(BENCH_PASSWORD)  # hashed once, shared: hashing 10,000 times would take minutes

    def when(fraction: float) -> datetime.datetime:
        return start + datetime.timedelta(seconds=span * min(max(fraction, 0.0), 1.0))

    # ------------------------------------------------------------------ staff and applicants
    with timer.part("users (staff + applicants), roles, TOTP") as p:
        staff_spec = (
            [("reviewer", Role.REVIEWER)] * args.reviewers
            + [("ethics", Role.ETHICS_OFFICER)] * 8
            + [("manager", Role.ALLOCATION_MANAGER)] * 8
            + [("operator", Role.OPERATOR)] * 2
        )
        counters: dict[str, int] = {}
        staff = []
        for prefix, role in staff_spec:
            n = counters[prefix] = counters.get(prefix, -1) + 1
            staff.append(
                (
                    User(
                        email=f"bench-{prefix}-{n}@bench.aifactory.eu",
                        full_name=f"Bench {prefix} {n}",
                        password=password,
                        date_joined=start,
                    ),
                    role,
                )
            )
        applicants = [
            User(
                email=f"bench-applicant-{i}@bench.aifactory.eu",
                full_name=f"Applicant {i}",
                password=password,
                date_joined=when(i / args.orgs),
            )
            for i in range(args.orgs)
        ]
        with transaction.atomic():
            User.objects.bulk_create([u for u, _ in staff] + applicants, batch_size=BATCH)
            groups = {role: Group.objects.get(name=name) for role, name in ROLE_GROUPS.items()}
            through = User.groups.through
            through.objects.bulk_create([through(user_id=u.pk, group_id=groups[role].pk) for u, role in staff])
            EmailAddress.objects.bulk_create(
                [
                    EmailAddress(user=u, email=u.email, verified=True, primary=True)
                    for u in [u for u, _ in staff] + applicants[:500]
                ]
            )
            for u, _ in staff:
                TOTP.activate(u, TOTP_SECRET)
        reviewers = [u for u, role in staff if role == Role.REVIEWER]
        managers = [u for u, role in staff if role == Role.ALLOCATION_MANAGER]
        ethics_officers = [u for u, role in staff if role == Role.ETHICS_OFFICER]
        p.count = len(staff) + len(applicants)

    # ------------------------------------------------------------------ organisations
    with timer.part("organisations + memberships") as p:
        orgs = []
        for i in range(args.orgs):
            org_type = rng.choice(ORG_TYPES)
            headcount = rng.choice([3, 8, 15, 40, 120, 300])
            turnover = Decimal(rng.choice([200_000, 1_500_000, 9_000_000, 30_000_000, 80_000_000]))
            balance = Decimal(rng.choice([150_000, 1_000_000, 8_000_000, 20_000_000, 60_000_000]))
            orgs.append(
                Organisation(
                    legal_name=f"Bench Organisation {i:05d} {rng.choice(['BV', 'SRL', 'GmbH', 'SAS', 'Oy'])}",
                    country=rng.choice(["BE", "FR", "DE", "NL", "FI", "IT", "ES"]),
                    org_type=org_type,
                    vat_number=f"BENCH{i:08d}",
                    headcount=headcount,
                    annual_turnover=turnover,
                    balance_sheet_total=balance,
                    sectors=rng.sample(SECTORS, 2),
                    sme_class=sme_class(
                        headcount=headcount,
                        turnover=turnover,
                        balance_sheet=balance,
                        public_body=org_type == "public_body",
                    ),
                    created_at=when(i / args.orgs),
                )
            )
        with transaction.atomic():
            Organisation.objects.bulk_create(orgs, batch_size=BATCH)
            members = [
                Membership(user=applicants[i], organisation=orgs[i], role="owner", joined_at=orgs[i].created_at)
                for i in range(args.orgs)
            ]
            # bench-applicant-0 (the measured applicant) also belongs to two more organisations.
            members += [
                Membership(user=applicants[0], organisation=orgs[j], role="member", joined_at=start) for j in (1, 2)
            ]
            Membership.objects.bulk_create(members, batch_size=BATCH)
        p.count = len(orgs) + len(members)

    sites = list(Site.objects.order_by("pk"))
    modes = {m.code: m for m in AccessMode.objects.all()}
    with transaction.atomic():
        pools = [
            ReviewerPool.objects.create(name="Bench technical", kind="technical"),
            ReviewerPool.objects.create(name="Bench scientific", kind="scientific"),
        ]
        for pool in pools:
            pool.members.add(*reviewers)

    # ------------------------------------------------------------------ applications
    with timer.part("applications + resources + assessments + ethics") as p:
        apps, seq_by_year = [], {}
        for i in range(args.applications):
            created = when(i / args.applications)
            status = "approved" if i % 5 in (0, 2) and i < 2.5 * args.allocations else pick(rng, APP_STATUSES[1:])
            year = created.year
            seq_by_year[year] = seq_by_year.get(year, 0) + 1
            mode = modes[rng.choice(["playground", "fast_lane", "fast_lane", "large_scale"])]
            submitted = None if status == "draft" else created + datetime.timedelta(days=rng.randint(1, 20))
            decided = submitted + datetime.timedelta(days=rng.randint(5, 40)) if status in DECIDED else None
            org_idx = 0 if i < 5 else rng.randrange(args.orgs)  # the measured applicant has a few
            org = orgs[org_idx]
            apps.append(
                Application(
                    reference=f"AIF-{year}-{seq_by_year[year]:05d}",
                    organisation=org,
                    created_by=applicants[org_idx],
                    status=status,
                    title=f"Bench project {i}: {rng.choice(['vision', 'language', 'speech', 'climate'])} model",
                    abstract="Generated for the performance bench.",
                    sector=rng.choice(SECTORS),
                    civilian_purpose=True,
                    dual_use=False,
                    rd_type=rng.choice(["open", "product"]),
                    access_mode=mode,
                    start_date=(submitted or created).date() + datetime.timedelta(days=30),
                    duration_months=6,
                    model_activity=rng.choice(["train", "fine_tune", "inference"]),
                    created_at=created,
                    updated_at=decided or submitted or created,
                    submitted_at=submitted,
                    decided_at=decided,
                    decision_due=(submitted + datetime.timedelta(days=14)).date() if submitted else None,
                )
            )
        with transaction.atomic():
            Application.objects.bulk_create(apps, batch_size=BATCH)
            for year, last in seq_by_year.items():
                ReferenceSequence.objects.update_or_create(year=year, defaults={"last": last})
            resources = []
            for a in apps:
                for site in rng.sample(sites, rng.choice([1, 1, 2])):
                    resources.append(
                        RequestedResource(
                            application=a,
                            site=site,
                            gpu_hours=rng.choice([500, 2_000, 10_000, 40_000]),
                            cpu_core_hours=rng.choice([0, 10_000]),
                            storage_tb=1,
                        )
                    )
            RequestedResource.objects.bulk_create(resources, batch_size=BATCH)
            assessments, ethics = [], []
            # One genuine result from the product's rule engine (every key the pages read), reused per row.
            genuine, _missing = assessment_evaluate(application=apps[0], answers={})
            for a in apps:
                cls = pick(rng, CLASSES)
                needs = cls in ("high_risk", "gpai_systemic", "prohibited") or a.sector in ("defence", "security")
                assessments.append(
                    RiskAssessment(
                        application=a,
                        ruleset_version=engine.DEFAULT_RULESET,
                        ruleset_sha256="0" * 64,
                        answers={},
                        result={**genuine, "classification": cls},
                        classification=cls,
                        needs_ethics_review=needs,
                        prohibited=cls == "prohibited",
                        complete=a.status != "draft",
                        updated_at=a.updated_at,
                    )
                )
                if needs and a.status != "draft":
                    pending = a.status in ("submitted", "in_review", "awaiting_decision")
                    decided_ethics = not pending
                    ethics.append(
                        EthicsReview(
                            application=a,
                            status="pending"
                            if pending
                            else rng.choice(
                                ["cleared", "cleared_with_conditions", "refused"]
                                if a.status != "approved"
                                else ["cleared", "cleared_with_conditions"]
                            ),
                            triggers=[{"rule": "annex_iii", "text": "High-risk use"}],
                            decided_by=rng.choice(ethics_officers) if decided_ethics else None,
                            decided_at=a.submitted_at + datetime.timedelta(days=4) if decided_ethics else None,
                            created_at=a.submitted_at,
                        )
                    )
            RiskAssessment.objects.bulk_create(assessments, batch_size=BATCH)
            EthicsReview.objects.bulk_create(ethics, batch_size=BATCH)
        p.count = len(apps) + len(resources) + len(assessments) + len(ethics)

    # ------------------------------------------------------------------ reviews
    with timer.part("review assignments + reviews + decisions") as p:
        assignments, reviews, decisions = [], [], []
        for a in apps:
            if a.status not in REVIEWED:
                continue
            for kind, reviewer in zip(("technical", "scientific"), rng.sample(reviewers, 2), strict=True):
                done = a.status != "in_review" or rng.random() < 0.3
                assignments.append(
                    ReviewAssignment(
                        application=a,
                        reviewer=reviewer,
                        kind=kind,
                        status="submitted" if done else "accepted",
                        assigned_by=rng.choice(managers),
                        assigned_at=a.submitted_at + datetime.timedelta(days=2),
                        due_date=(a.submitted_at + datetime.timedelta(days=12)).date(),
                        coi_declared_at=a.submitted_at + datetime.timedelta(days=3),
                    )
                )
            if a.status in DECIDED:
                decisions.append(
                    Decision(
                        application=a,
                        outcome=a.status,
                        reasons="Bench decision.",
                        decided_by=rng.choice(managers),
                        decided_at=a.decided_at,
                    )
                )
        with transaction.atomic():
            ReviewAssignment.objects.bulk_create(assignments, batch_size=BATCH)
            for asg in assignments:
                if asg.status == "submitted":
                    reviews.append(
                        Review(
                            assignment=asg,
                            scores={"excellence": 4, "impact": 3},
                            weighted_score=Decimal("3.500"),
                            recommendation="approve",
                            comments_for_applicant="Fine.",
                            submitted_at=asg.assigned_at,
                        )
                    )
            Review.objects.bulk_create(reviews, batch_size=BATCH)
            Decision.objects.bulk_create(decisions, batch_size=BATCH)
        p.count = len(assignments) + len(reviews) + len(decisions)

    # ------------------------------------------------------------------ allocations
    with timer.part("allocations + quotas") as p:
        approved = [a for a in apps if a.status == "approved"][: args.allocations]
        allocs = []
        for a in approved:
            begin = a.start_date
            allocs.append(
                Allocation(
                    application=a,
                    organisation_id=a.organisation_id,
                    reference=a.reference,
                    status=pick(rng, ALLOC_STATUSES),
                    start_date=begin,
                    end_date=begin + datetime.timedelta(days=182),
                    slurm_account=a.reference.lower().replace("-", "_"),
                    sync_state="in_sync",
                    desired_version=1,
                    synced_version=1,
                    last_synced_at=a.decided_at,
                    created_at=a.decided_at,
                )
            )
        with transaction.atomic():
            Allocation.objects.bulk_create(allocs, batch_size=BATCH)
            quotas = [
                AllocationQuota(
                    allocation=al,
                    site=site,
                    gpu_hours=rng.choice([500, 2_000, 10_000]),
                    cpu_core_hours=10_000,
                    storage_tb=1,
                )
                for al in allocs
                for site in (sites if al.pk % 3 == 0 else [rng.choice(sites)])
            ]
            AllocationQuota.objects.bulk_create(quotas, batch_size=BATCH)
        p.count = len(allocs) + len(quotas)

    # ------------------------------------------------------------------ audit events (hash chain)
    actions_app = [
        "application.created",
        "application.updated",
        "application.submitted",
        "application.status_changed",
        "review.assigned",
        "review.submitted",
        "ethics.decided",
    ]
    actions_alloc = [
        "allocation.created",
        "allocation.status_changed",
        "allocation.provisioned",
        "allocation.usage_pulled",
    ]
    actor_pool = [u.pk for u in applicants[:2000]] + [u.pk for u, _ in staff]
    with timer.part("audit events: hash chain (compute_hash)") as p:
        rows, prev = [], GENESIS_HASH
        n = args.events
        for seq in range(1, n + 1):
            created = when((seq - 1) / n).replace(microsecond=0) + datetime.timedelta(microseconds=seq % 1_000_000)
            if rng.random() < 0.8:
                a = apps[rng.randrange(len(apps))]
                action, otype, oid = rng.choice(actions_app), "allocations.application", str(a.pk)
                changes = {"from": "draft", "to": a.status}
            else:
                al = allocs[rng.randrange(len(allocs))]
                action, otype, oid = rng.choice(actions_alloc), "allocations.allocation", str(al.pk)
                changes = {"to": al.status}
            actor = rng.choice(actor_pool) if rng.random() < 0.95 else None
            request_id = f"{seq:032x}"
            digest = compute_hash(
                seq=seq,
                created_at=created,
                actor_id=actor,
                action=action,
                object_type=otype,
                object_id=oid,
                changes=changes,
                request_id=request_id,
                prev_hash=prev,
            )
            rows.append((seq, created, actor, action, otype, oid, json.dumps(changes), request_id, prev, digest))
            prev = digest
        p.count = n
    with timer.part("audit events: COPY into compliance_auditevent") as p:
        with transaction.atomic(), connection.cursor() as cur:
            sql = (
                "COPY compliance_auditevent (seq, created_at, actor_id, action, object_type, object_id, changes, "
                "request_id, prev_hash, hash) FROM STDIN"
            )
            with cur.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
            AuditChainHead.objects.update_or_create(id=1, defaults={"seq": n, "head_hash": prev})
        p.count = n
    del rows

    with timer.part("VACUUM ANALYZE"):
        connection.ensure_connection()
        old = connection.connection.autocommit
        connection.connection.autocommit = True
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        connection.connection.autocommit = old

    print(f"== total {timer.total():.1f} s")
    counts = {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "applications": Application.objects.count(),
        "requested resources": RequestedResource.objects.count(),
        "risk assessments": RiskAssessment.objects.count(),
        "ethics reviews": EthicsReview.objects.count(),
        "pending ethics reviews": EthicsReview.objects.filter(status="pending").count(),
        "review assignments": ReviewAssignment.objects.count(),
        "reviews": Review.objects.count(),
        "decisions": Decision.objects.count(),
        "allocations": Allocation.objects.count(),
        "allocation quotas": AllocationQuota.objects.count(),
    }
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM compliance_auditevent")
        counts["audit events"] = cur.fetchone()[0]
    for name, value in counts.items():
        print(f"  {name:<24} {value:>9,}")


if __name__ == "__main__":
    main()
