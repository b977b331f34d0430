"""Provisioning: the desired state of each site from the database, pushed to Slurm and read back.

`sync_allocation` (one allocation) and `reconcile_site` (a whole site) read what the cluster holds,
plan the difference, apply it through the site's backend and read it back; every attempt is recorded.
Decisions mark an allocation in their own transaction (`grants.sync.mark_needs_sync`); the task is
queued on commit, and if the broker was down the periodic sweeper queues it again, so nothing is lost.
Operators ask for a re-run or a full reconcile, and record hand-overs, through the `provisioning_*`
services and `handover_done`: the HTML pages and the API call the same ones. Usage flows back through
`pull_usage`.

Every run on a cluster (one allocation or the whole site) holds the cluster's lock
(`locks.cluster_lock`) from the read of the desired state to the read-back and the job control, so
that two runs never interleave. A run also acts on the account's jobs, by the allocation's status
(`grants.workflow.JOB_POLICY`): suspension holds the pending jobs, resumption releases them,
revocation and expiry cancel the pending jobs and, by the site's policy, the running ones; each
action is kept as a `JobAction` with the job ids, and in the audit trail."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.roles import Role, has_role
from allocations.applications.models import TeamMember
from allocations.catalogue.backend_options import HARMLESS_OPTIONS, backend_options_problems
from allocations.catalogue.models import (
    AccessMode,
    ProvisioningMode,
    RunningJobsPolicy,
    Site,
    SiteAccessMode,
    SlurmBackendKind,
)
from allocations.grants.models import Allocation, AllocationQuota, AllocationStatus, SyncState
from allocations.grants.services import allocation_mark_synced
from allocations.grants.sync import PROVISION_TASK
from allocations.grants.workflow import JOB_POLICY, JOBS_ENDED, JOBS_HELD, JOBS_RUN, RUNNABLE
from allocations.provisioning.identity.ldap import DirectoryError
from allocations.provisioning.identity.services import directory_logins, directory_prepare, is_directory_site
from allocations.provisioning.locks import ClusterBusyError, cluster_lock
from allocations.provisioning.models import (
    ComparedSetting,
    HandoverKind,
    HandoverTask,
    JobAction,
    JobActionKind,
    ReadbackStatus,
    RecordedChange,
    SiteReadback,
    StorageProvision,
    SyncAttempt,
    SyncAttemptKind,
    SyncOutcome,
    UsageSnapshot,
)
from allocations.provisioning.recipients import handover_recipients
from allocations.provisioning.slurm.backends import get_backend, register_backend
from allocations.provisioning.slurm.backends.base import CommandRecord, JobControlResult, SlurmBackend
from allocations.provisioning.slurm.desired import DEFAULT_FAIRSHARE, TRES_GPU, DesiredAccount, DesiredParent, QosSpec
from allocations.provisioning.slurm.errors import SlurmError, SlurmReconcileError
from allocations.provisioning.slurm.handover import fields_to_confirm, handover_plan, sacctmgr_lines
from allocations.provisioning.storage.services import (
    storage_handover_confirmed,
    storage_read_site,
    storage_reconcile_site,
    storage_sync,
)
from allocations.terms.selectors import cleared_user_ids
from portal.audit import AuditAction, audit_record
from portal.emails import portal_url, send_templated_email_on_commit
from portal.models import AuditEvent
from portal.tasking import enqueue, enqueue_on_commit
from portal.vocabulary import choice_label

logger = logging.getLogger(__name__)

# Queued by name (portal.tasking): the tasks module imports this one, not the other way round.
RECONCILE_SITE_TASK = "allocations.provisioning.tasks.slurm_reconcile_site"


register_backend("record", "allocations.provisioning.record:RecordBackend")


def parent_account(organisation_id: int) -> str:
    return f"org_{organisation_id}"


def backend_kind(site: Site) -> str:
    if site.provisioning_mode == ProvisioningMode.HANDOVER:
        return "handover"
    # AIF_SLURM_BACKEND overrides every direct site (CI points all sites at the local stack).
    return getattr(settings, "AIF_SLURM_BACKEND", "") or site.slurm_backend


def backend_for(site: Site) -> SlurmBackend:
    """The site's backend. What it runs and where its credentials go (slurm.conf, command prefix, URL, JWT
    key and user) come from the settings; the site's ``backend_options`` add harmless tuning only, and an
    option outside that list is ignored here and reported by the check allocations.E001."""
    kind = backend_kind(site)
    options = {key: value for key, value in (site.backend_options or {}).items()
               if key in HARMLESS_OPTIONS and not backend_options_problems({key: value})}
    if kind == SlurmBackendKind.RECORD:
        options = {"site_id": site.pk}
    elif kind == SlurmBackendKind.SACCTMGR:
        options.pop("fallback_to_sacctmgr", None)
        options.pop("token_lifespan", None)
        options.update(_sacctmgr_settings())
    elif kind == SlurmBackendKind.SLURMRESTD:
        options.pop("use_load", None)
        for key, setting in (("base_url", "AIF_SLURMRESTD_URL"), ("jwt_key_file", "AIF_SLURM_JWT_KEY"),
                             ("user", "AIF_SLURMRESTD_USER")):
            if getattr(settings, setting, ""):
                options[key] = getattr(settings, setting)
        options["sacctmgr"] = _sacctmgr_settings()
    return get_backend(kind, **options)


def _sacctmgr_settings() -> dict:
    options: dict = {}
    if getattr(settings, "AIF_SLURM_CONF", ""):
        options["slurm_conf"] = settings.AIF_SLURM_CONF
    if getattr(settings, "AIF_SLURM_COMMAND_PREFIX", None):
        options["command_prefix"] = list(settings.AIF_SLURM_COMMAND_PREFIX)
    return options


def quota_minutes(quota: AllocationQuota) -> tuple[int, int | None]:
    """(GPU-minutes, CPU-minutes) of a quota as Slurm limits; CPU None = no CPU limit.

    A limit the grant does not set is never written as zero: every job uses CPUs, so a CPU limit of 0
    holds every job of a GPU-only grant. Such a grant gets the site's CPUs-per-GPU ratio in CPU-minutes
    (the cores that come with its GPUs), or no CPU limit where the site sets no ratio. A GPU limit of 0
    stays: it refuses GPU jobs and lets CPU jobs run, which is what a CPU-only grant means. A quota of
    nothing at all gets 0 CPU-minutes: nothing runs."""
    gpu = quota.gpu_hours * 60
    if quota.cpu_core_hours:
        return gpu, quota.cpu_core_hours * 60
    if not gpu:
        return 0, 0
    ratio = quota.site.cpus_per_gpu
    return gpu, (gpu * ratio if ratio else None)


def site_mode_settings(site: Site) -> dict[int, SiteAccessMode]:
    """Access mode id -> the site's Slurm settings for that mode (one query)."""
    return {row.access_mode_id: row for row in SiteAccessMode.objects.filter(site=site)}


def account_settings(site: Site, mode: AccessMode, settings_of_mode: SiteAccessMode | None) -> dict:
    """What the portal writes on a project account of ``mode`` on ``site``, besides its quota, block and users:
    QOS (the mode's) and default QOS, fair share, MaxJobs, MaxWall, GrpTRES and the partitions its user
    associations name. The site's settings for the mode
    come first, then the site's own; whatever neither sets is unset on the cluster (a value found there is drift)."""
    row = settings_of_mode
    hours = row.max_job_hours if row else None
    gpus = row.max_gpus_at_once if row else None
    return {
        "qos": mode.slurm_qos or None,
        "default_qos": (row.default_qos if row else "") or site.default_qos or None,
        "fairshare": (row.fairshare if row else None) or site.fairshare or DEFAULT_FAIRSHARE,
        "max_jobs": row.max_running_jobs if row else None,
        "max_wall_minutes": hours * 60 if hours else None,
        "grp_tres": {TRES_GPU: gpus} if gpus is not None else {},
        "partitions": row.partition_list if row else (),
    }


def desired_for(allocation: Allocation, quota: AllocationQuota, users: list[str],
                mode_settings: dict[int, SiteAccessMode] | None = None) -> list:
    """The organisation's parent account and the allocation's account on the quota's site. ``mode_settings``
    (site_mode_settings) saves a query per allocation when a whole site is built."""
    site = quota.site
    mode = allocation.application.access_mode
    if mode_settings is None:
        mode_settings = site_mode_settings(site)
    parent = parent_account(allocation.organisation_id)
    gpu_minutes, cpu_minutes = quota_minutes(quota)
    return [
        DesiredParent(cluster=site.slurm_cluster, name=parent, description=f"organisation {allocation.organisation_id}",
                      organization=parent, fairshare=site.fairshare or DEFAULT_FAIRSHARE),
        DesiredAccount(
            cluster=site.slurm_cluster, name=allocation.slurm_account, parent=parent,
            description=f"allocation {allocation.slurm_account}", organization=parent,
            gpu_minutes=gpu_minutes, cpu_minutes=cpu_minutes,
            blocked=allocation.status not in RUNNABLE, users=frozenset(users),
            **account_settings(site, mode, mode_settings.get(mode.pk))),
    ]


@dataclass
class SiteOutcome:
    site: str
    outcome: str
    error: str = ""


def _finish(attempt: SyncAttempt, *, outcome: str, commands: list[CommandRecord] | None = None, error: str = "",
            drift=None, started: float) -> None:
    attempt.outcome = outcome
    attempt.finished_at = timezone.now()
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.commands = [c.to_dict() for c in (commands or [])]
    attempt.error = error[:5000]
    attempt.drift = drift or []
    attempt.save(update_fields=["outcome", "finished_at", "duration_ms", "commands", "error", "drift"])


def sync_allocation(*, allocation_id: int) -> str:
    """Bring every site of one allocation to the desired state, and its jobs in line with its status.
    Idempotent and safe to retry.

    Each site is done under its cluster's lock, and the allocation (status, quotas, team, desired
    version) is read inside it: a decision committed while this run waited is the one pushed. Raises on a
    failed site so that Celery retries with backoff; every attempt is recorded."""
    if not Allocation.objects.filter(pk=allocation_id).exists():
        return "missing"
    sites = list(Site.objects.filter(quotas__allocation_id=allocation_id).order_by("code").distinct())
    failures: list[str] = []
    versions: list[int] = []
    handed_over = False
    for site in sites:
        if backend_kind(site) == "handover":
            allocation, quota, users = _desired_inputs(allocation_id, site)
            if quota is not None:
                versions.append(allocation.desired_version)
                started = time.monotonic()
                attempt = SyncAttempt.objects.create(site=site, allocation=allocation,
                                                     kind=SyncAttemptKind.ALLOCATION)
                _handover(site, allocation, desired_for(allocation, quota, users), allocation.desired_version)
                _finish(attempt, outcome=SyncOutcome.HANDED_OVER, started=started)
                handed_over = True
        else:
            try:
                with cluster_lock(site.slurm_cluster):
                    version = _sync_site(allocation_id, site, failures)
            except ClusterBusyError as exc:  # nothing ran; the task retries
                SyncAttempt.objects.create(site=site, allocation_id=allocation_id, kind=SyncAttemptKind.ALLOCATION,
                                           outcome=SyncOutcome.ERROR, finished_at=timezone.now(), error=str(exc))
                failures.append(f"{site.code}: {exc}")
                continue
            if version is not None:
                versions.append(version)
        # The storage after the account (and, on a directory site, after the project group it is kept on).
        storage_error = storage_sync(allocation_id=allocation_id, site=site)
        if storage_error:
            failures.append(f"{site.code}: {storage_error}")
    # A site the allocation no longer has a quota on, whose storage the portal provisioned: released.
    for site in Site.objects.filter(storage__allocation_id=allocation_id).exclude(pk__in=[s.pk for s in sites]):
        storage_error = storage_sync(allocation_id=allocation_id, site=site)
        if storage_error:
            failures.append(f"{site.code}: {storage_error}")
    # the lowest version pushed to every site is the one the clusters are known to hold
    version = min(versions, default=None)
    if failures:
        if version is not None:
            Allocation.objects.filter(pk=allocation_id, desired_version=version).update(sync_state=SyncState.ERROR)
        else:
            Allocation.objects.filter(pk=allocation_id).update(sync_state=SyncState.ERROR)
        raise SlurmError("; ".join(failures))
    if version is None:  # no quota on any site: nothing to hold, the allocation is what the clusters hold
        version = Allocation.objects.values_list("desired_version", flat=True).get(pk=allocation_id)
    if handed_over:
        Allocation.objects.filter(pk=allocation_id, desired_version=version).update(sync_state=SyncState.HANDED_OVER)
        return "handed_over"
    allocation_mark_synced(allocation_id=allocation_id, version=version)
    return "synced"


def site_team(site: Site, application_id: int | None = None) -> dict[int, list[str]]:
    """Application id -> the cluster usernames ``site``'s associations should hold, sorted: the team members
    who confirmed (and were not erased since) and are cleared for the platform's and the site's terms of use
    (terms.selectors.cleared_user_ids); on a directory site, by the login of their account bound in the site's
    directory (identity.directory_logins), a member not bound yet being left out. The one place the desired users
    are chosen: a sync of one
    allocation, a full reconcile, its dry run and the operator's pages all read it."""
    members = TeamMember.objects.confirmed().filter(application__allocation__quotas__site=site)
    if application_id is not None:
        members = members.filter(application_id=application_id)
    rows = list(members.values_list("application_id", "cluster_username", "user_id"))
    people = {user_id for _app, _name, user_id in rows if user_id is not None}
    cleared = cleared_user_ids(site, people)
    logins = directory_logins(site, people) if is_directory_site(site) else None
    team: dict[int, list[str]] = {}
    for app_id, username, user_id in rows:
        if cleared is not None and user_id not in cleared:
            continue
        if logins is not None:  # a directory site: the login of the person's bound account, once it exists
            username = logins.get(user_id)
            if username is None:
                continue
        team.setdefault(app_id, []).append(username)
    return {app_id: sorted(set(names)) for app_id, names in team.items()}


def _desired_inputs(allocation_id: int, site: Site) -> tuple[Allocation, AllocationQuota | None, list[str]]:
    """The allocation, its quota on ``site`` and the users its association there should hold, read now."""
    allocation = Allocation.objects.select_related("application__access_mode", "organisation").get(pk=allocation_id)
    quota = allocation.quotas.select_related("site").filter(site=site).first()
    users = site_team(site, allocation.application_id).get(allocation.application_id, []) if quota else []
    return allocation, quota, users


def _sync_site(allocation_id: int, site: Site, failures: list[str]) -> int | None:
    """One site of one allocation, under the cluster's lock: desired state read here, reconcile, then the
    jobs. Returns the desired version pushed (None when the allocation has no quota there any more).

    On a directory site the accounts and the project group come first (`identity.directory_prepare`), so
    that every user of the association exists before the association does."""
    directory_error = directory_prepare(allocation_id=allocation_id, site=site)
    allocation, quota, users = _desired_inputs(allocation_id, site)
    if quota is None:
        return None
    started = time.monotonic()
    attempt = SyncAttempt.objects.create(site=site, allocation=allocation, kind=SyncAttemptKind.ALLOCATION)
    if directory_error:
        _finish(attempt, outcome=SyncOutcome.ERROR, error=directory_error, started=started)
        failures.append(f"{site.code}: {directory_error}")
        return allocation.desired_version
    backend = backend_for(site)
    with backend.recording() as journal:
        try:
            result = backend.reconcile(site.slurm_cluster, desired_for(allocation, quota, users))
            acted = control_jobs(site=site, allocation=allocation, backend=backend)
        except SlurmReconcileError as exc:
            _finish(attempt, outcome=SyncOutcome.ERROR, commands=journal, error=str(exc), started=started,
                    drift=[c.describe() for c in exc.result.planned])
            failures.append(f"{site.code}: {exc}")
            return allocation.desired_version
        except SlurmError as exc:
            _finish(attempt, outcome=SyncOutcome.ERROR, commands=journal, error=str(exc), started=started)
            failures.append(f"{site.code}: {exc}")
            return allocation.desired_version
    changed = bool(result.planned) or (acted is not None and (acted.job_ids or acted.intended))
    _finish(attempt, outcome=SyncOutcome.SUCCESS if changed else SyncOutcome.NOOP, commands=journal, started=started,
            drift=[c.describe() for c in result.planned])
    return allocation.desired_version


# ---------------------------------------------------------------------------------------------- jobs

def held_job_ids(*, site: Site, allocation: Allocation) -> list[str] | None:
    """The jobs the portal held on ``site`` since it last released them; None when nothing is held."""
    last_release = (JobAction.objects.filter(site=site, allocation=allocation, action=JobActionKind.RELEASE)
                    .order_by("-pk").values_list("pk", flat=True).first())
    holds = JobAction.objects.filter(site=site, allocation=allocation, action=JobActionKind.HOLD,
                                     pk__gt=last_release or 0).values_list("job_ids", flat=True)
    if not holds:
        return None
    return sorted({job_id for ids in holds for job_id in ids})


def control_jobs(*, site: Site, allocation: Allocation, backend: SlurmBackend) -> JobControlResult | None:
    """Act on the jobs already queued or running in the allocation's account on ``site``, by its status.

    Runs after the reconcile that blocked or unblocked the account (GrpJobs=0 already stops any job from
    starting, so a job listed here cannot start before it is held). Suspended: hold every pending job.
    Runnable again: release the jobs the portal held. Revoked or expired: cancel the pending jobs, and
    the running ones when the site's policy says so. What was done is recorded (JobAction and an audit
    event) with the job ids; an empty step is not recorded, except a release (it closes the holds)."""
    policy = JOB_POLICY[allocation.status]
    cluster, account = site.slurm_cluster, allocation.slurm_account
    if policy == JOBS_HELD:
        result = backend.hold_pending(cluster, account)
    elif policy == JOBS_ENDED:
        result = backend.cancel(cluster, account, running=site.running_jobs_at_end == RunningJobsPolicy.CANCEL)
    elif policy == JOBS_RUN:
        held = held_job_ids(site=site, allocation=allocation)
        if held is None:
            return None
        result = backend.release(cluster, account, held)
    else:
        return None
    if result.job_ids or result.intended or result.action == JobActionKind.RELEASE:
        _record_job_action(site, allocation, result)
    return result


def _record_job_action(site: Site, allocation: Allocation, result: JobControlResult) -> JobAction:
    audit_action = (AuditAction.PROVISIONING_JOBS_HELD if result.action == JobActionKind.HOLD
                    else AuditAction.PROVISIONING_JOBS_RELEASED if result.action == JobActionKind.RELEASE
                    else AuditAction.PROVISIONING_JOBS_CANCELLED)
    with transaction.atomic():
        action = JobAction.objects.create(
            site=site, allocation=allocation, action=result.action, job_ids=result.job_ids,
            running_job_ids=result.running_ids, intended=result.intended, allocation_status=allocation.status,
            commands=[c.to_dict() for c in result.commands])
        audit_record(actor=None, action=audit_action, target=allocation,
                     changes={"site": site.code, "job_ids": result.job_ids, "running_job_ids": result.running_ids,
                              "intended": result.intended, "status": allocation.status})
    return action


def _handover(site: Site, allocation: Allocation, desired: list, version: int) -> HandoverTask:
    """The hand-over task of ``version`` on ``site``: created once, superseding the open task of an older
    version (one open task per allocation and site, a database constraint), and mailed to the remote
    operators. A retry, or a version older than a task already there, creates nothing."""
    changes = [{"kind": type(d).__name__, **{k: (sorted(v) if isinstance(v, frozenset) else v)
                                            for k, v in _fields(d).items()}} for d in desired]
    with transaction.atomic():
        # Serialises the hand-overs of one allocation: two runs never both find no task and insert one.
        Allocation.objects.select_for_update().filter(pk=allocation.pk).first()
        tasks = HandoverTask.objects.filter(site=site, allocation=allocation, kind=HandoverKind.SLURM)
        newest = tasks.filter(desired_version__gte=version).order_by("-desired_version", "-pk").first()
        if newest is not None:
            return newest
        previous = tasks.exclude(done_at=None).order_by("-desired_version", "-pk").first()
        plan = handover_plan(desired, previous.changes if previous else ())
        fields = [{"account": account, "field": name, "value": _as_text(value)}
                  for account, name, value in fields_to_confirm(desired)]
        now = timezone.now()
        older = list(tasks.select_for_update().filter(done_at=None, superseded_at=None))
        tasks.filter(pk__in=[t.pk for t in older]).update(superseded_at=now)
        task = HandoverTask.objects.create(site=site, allocation=allocation, desired_version=version, changes=changes,
                                           commands=sacctmgr_lines(plan), fields=fields)
        tasks.filter(pk__in=[t.pk for t in older]).update(superseded_by=task)
        _mail_handover(task, superseded=older)
    return task


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ", ".join(f"{item[0]}={item[1]}" if isinstance(item, tuple) else str(item) for item in value)
    return str(value)


def _mail_handover(task: HandoverTask, *, superseded: list[HandoverTask]) -> None:
    send_templated_email_on_commit(
        to=handover_recipients(task.site), template="allocations/email/handover_task",
        context={"reference": task.allocation.reference, "site": task.site.name, "version": task.desired_version,
                 "commands": task.commands, "fields": [dict(f, label=choice_label(ComparedSetting, f["field"]))
                                                      for f in task.fields],
                 "superseded": [t.desired_version for t in superseded],
                 "url": portal_url(reverse("provisioning:overview")) + f"#handover-{task.pk}"})


def _fields(obj) -> dict:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _require_operator(actor) -> None:
    if not has_role(actor, Role.OPERATOR):
        raise PermissionDenied(_("Only operators run provisioning."))


def is_direct(site: Site) -> bool:
    """The portal pushes to this site's Slurm itself (active, not handed over to a remote centre)."""
    return site.is_active and site.provisioning_mode != ProvisioningMode.HANDOVER


def handover_done(*, actor, task: HandoverTask, note: str = "") -> HandoverTask:
    """An operator provisioned a remote site by hand and records it. Recording it twice changes nothing.

    A superseded task is refused (its newer task is the one to apply). A storage task makes its quota the
    one the site holds (`storage.services.storage_handover_confirmed`) and leaves the Slurm side alone.
    Once no Slurm task of the allocation is open on any site, the version of this task is marked synced:
    the allocation goes active when that is its current desired version; when a newer version is still to
    be pushed, it stays marked and the sweeper queues it, which opens the next task."""
    _require_operator(actor)
    with transaction.atomic():
        task = HandoverTask.objects.select_for_update(of=("self",)).select_related("site", "allocation").get(pk=task.pk)
        if task.done_at:
            return task
        if task.superseded_at:
            raise ValidationError(_("This hand-over task (version %(old)s) was replaced by a newer one: apply the "
                                    "open task of %(reference)s on %(site)s instead.") % {
                "old": task.desired_version, "reference": task.allocation.reference, "site": task.site.name})
        task.done_at = timezone.now()
        task.done_by = actor
        task.note = note
        task.save(update_fields=["done_at", "done_by", "note"])
        audit_record(actor=actor, action=AuditAction.PROVISIONING_HANDOVER_DONE, target=task.allocation,
                     changes={"site": task.site.code, "desired_version": task.desired_version, "kind": task.kind})
        if task.kind == HandoverKind.STORAGE:  # the storage, not the Slurm account: its own bookkeeping
            storage_handover_confirmed(actor=actor, task=task)
            return task
    open_elsewhere = HandoverTask.objects.filter(allocation=task.allocation, kind=HandoverKind.SLURM, done_at=None,
                                                 superseded_at=None).exists()
    if not open_elsewhere:
        allocation_mark_synced(allocation_id=task.allocation_id, version=task.desired_version)
    return task


def provisioning_rerun_allocation(*, actor, allocation: Allocation) -> Allocation:
    """Queue the provisioning of one allocation again (after an error, or to check it by hand).

    The task reads the current desired state and records its own attempt; running it twice is harmless."""
    _require_operator(actor)
    sites = [quota.site for quota in allocation.quotas.select_related("site").order_by("site__code")]
    direct = [site.code for site in sites if is_direct(site)]
    if not direct:
        raise ValidationError(_("%(reference)s has no quota on an active site that the portal provisions "
                                "itself: there is nothing to re-run.") % {"reference": allocation.reference})
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.PROVISIONING_RERUN_REQUESTED, target=allocation,
                     changes={"sites": direct})
        enqueue_on_commit(PROVISION_TASK, allocation.pk)
    return allocation


def provisioning_reconcile_site(*, actor, site: Site) -> Site:
    """Queue a full reconcile of one site; the task records it as an attempt."""
    _require_operator(actor)
    if not site.is_active:
        raise ValidationError(_("%(site)s is not active: it is not reconciled.") % {"site": site.name})
    if site.provisioning_mode == ProvisioningMode.HANDOVER:
        raise ValidationError(_("%(site)s is provisioned by hand (hand-over): there is nothing to reconcile.")
                              % {"site": site.name})
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.PROVISIONING_RECONCILE_REQUESTED, target=site,
                     changes={"cluster": site.slurm_cluster})
        enqueue_on_commit(RECONCILE_SITE_TASK, site.pk)
    return site


# Longer than the hard time limit of every task that records attempts (provision_allocation 300 s,
# slurm_reconcile_site and slurm_reconcile_all 900 s): an attempt still "running" after this is dead.
INTERRUPTED_ATTEMPT_SECONDS = 20 * 60


def _rename(value, pattern: re.Pattern, new: str):
    if isinstance(value, str):
        return pattern.sub(new, value)
    if isinstance(value, list):
        return [_rename(item, pattern, new) for item in value]
    if isinstance(value, dict):
        return {_rename(key, pattern, new): _rename(item, pattern, new) for key, item in value.items()}
    return value


def provisioning_records_rename_user(*, allocation: Allocation, old: str, new: str) -> int:
    """Erasure (allocations.privacy): the cluster username of an erased person becomes its pseudonym in
    what the portal recorded about the allocation's provisioning (commands, drift and errors of its
    attempts and of the full reconciles that named its account, the record backend's changes,
    hand-over tasks, the last read of its sites). Returns how many rows changed.

    The clusters' own accounting keeps the name: erasure there is the site's procedure."""
    # The whole name only: "ines" in "user=ines" or "Users=bob,ines", never inside "lines".
    pattern = re.compile(rf"(?<![\w.-]){re.escape(old)}(?![\w.-])")
    account = allocation.slurm_account
    names_account = Q(commands__icontains=account) | Q(drift__icontains=account) | Q(error__icontains=account)
    attempts = SyncAttempt.objects.filter(
        Q(allocation=allocation) | (Q(allocation=None, site__quotas__allocation=allocation) & names_account)).distinct()
    changed = 0
    for attempt in attempts:
        fields = {"commands": _rename(attempt.commands, pattern, new), "drift": _rename(attempt.drift, pattern, new),
                  "error": _rename(attempt.error, pattern, new)}
        if fields != {"commands": attempt.commands, "drift": attempt.drift, "error": attempt.error}:
            SyncAttempt.objects.filter(pk=attempt.pk).update(**fields)
            changed += 1
    changed += StorageProvision.objects.filter(allocation=allocation, owner=old).update(owner=new)
    handovers = HandoverTask.objects.filter(allocation=allocation)
    readbacks = SiteReadback.objects.filter(site__quotas__allocation=allocation).distinct()
    for model, rows, field in ((RecordedChange, RecordedChange.objects.filter(account=account), "change"),
                               (HandoverTask, handovers, "changes"), (HandoverTask, handovers, "commands"),
                               (HandoverTask, handovers, "fields"), (SiteReadback, readbacks, "rows"),
                               (SiteReadback, readbacks, "error")):
        for pk, value in rows.values_list("pk", field):
            renamed = _rename(value, pattern, new)
            if renamed != value:
                model.objects.filter(pk=pk).update(**{field: renamed})
                changed += 1
    return changed


def close_interrupted_attempts(*, older_than_seconds: int = INTERRUPTED_ATTEMPT_SECONDS) -> int:
    """Mark as errors the attempts whose worker died before recording an outcome (SIGKILL, OOM, machine
    lost): without this they stay "running" on /staff/provisioning/ for ever. The task itself is
    delivered again or re-queued by the sweeper; this only closes the dead attempt's row."""
    now = timezone.now()
    return SyncAttempt.objects.filter(
        outcome=SyncOutcome.RUNNING, finished_at=None,
        started_at__lt=now - timezone.timedelta(seconds=older_than_seconds),
    ).update(outcome=SyncOutcome.ERROR, finished_at=now,
             error="interrupted: the worker stopped before recording an outcome (killed or lost)")


def sweep_unsynced(*, older_than_seconds: int = 60) -> int:
    """Queue again every allocation still marked (covers a broker that was down at commit time), and close
    attempts left running by a worker that died."""
    close_interrupted_attempts()
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(Allocation.objects.filter(sync_state__in=[SyncState.NEEDS_SYNC, SyncState.ERROR])
               .exclude(sync_attempts__started_at__gt=cutoff).values_list("pk", flat=True).distinct())
    for pk in ids:
        enqueue(PROVISION_TASK, pk)
    return len(ids)


def site_desired(site: Site) -> list:
    """The whole desired state of one site: every allocation with a quota there."""
    quotas = (AllocationQuota.objects.filter(site=site)
              .select_related("allocation__application__access_mode", "site"))
    team = site_team(site)
    mode_settings = site_mode_settings(site)
    desired: dict[str, object] = {}
    for quota in quotas:
        alloc = quota.allocation
        for item in desired_for(alloc, quota, team.get(alloc.application_id, []), mode_settings):
            desired[item.name] = item
    return list(desired.values())


def reconcile_site(*, site: Site, dry_run: bool = False) -> SyncAttempt:
    """Full reconcile of one site, under the cluster's lock: the access-mode QOS (flags included) and every
    account, read once; fixes drift unless dry_run; recorded as an attempt. The desired state is read
    inside the lock, so a suspension committed while this run waited is not undone."""
    started = time.monotonic()
    attempt = SyncAttempt.objects.create(site=site, kind=SyncAttemptKind.FULL_RECONCILE)
    if backend_kind(site) == "handover":
        _finish(attempt, outcome=SyncOutcome.HANDED_OVER, started=started)
        return attempt
    backend = backend_for(site)
    with backend.recording() as journal:
        try:
            with cluster_lock(site.slurm_cluster):
                desired = site_desired(site)
                specs = access_mode_qos()
                if dry_run:
                    qos_drift = backend.check_qos(specs, fix=False)
                    drift = [c.describe() for c in backend.drift(site.slurm_cluster, desired)]
                else:
                    qos_drift = backend.check_qos(specs, fix=True)
                    result = backend.reconcile(site.slurm_cluster, desired)
                    drift = [c.describe() for c in result.planned]
            storage_drift = storage_reconcile_site(site=site, dry_run=dry_run)
        except SlurmReconcileError as exc:
            _finish(attempt, outcome=SyncOutcome.ERROR, commands=journal, error=str(exc), started=started)
            return attempt
        except (SlurmError, DirectoryError) as exc:
            _finish(attempt, outcome=SyncOutcome.ERROR, commands=journal, error=str(exc), started=started)
            return attempt
    drift = qos_drift + drift + storage_drift
    if dry_run:
        _finish(attempt, outcome=SyncOutcome.DRY_RUN if drift else SyncOutcome.NOOP, commands=journal, drift=drift,
                started=started)
        return attempt
    _finish(attempt, outcome=SyncOutcome.DRIFT_FIXED if drift else SyncOutcome.NOOP, commands=journal,
            drift=drift, started=started)
    return attempt


# Queued by name, as RECONCILE_SITE_TASK.
READ_SITE_TASK = "allocations.provisioning.tasks.slurm_read_site"


def provisioning_refresh_site(*, actor, site: Site) -> SiteReadback:
    """Queue a read of one site's Slurm for the operator's site page (which never reads Slurm itself).

    The page keeps showing the previous read, with its time, until the task stores the new one."""
    _require_operator(actor)
    if not site.is_active:
        raise ValidationError(_("%(site)s is not active: it is not read.") % {"site": site.name})
    if site.provisioning_mode == ProvisioningMode.HANDOVER:
        raise ValidationError(_("%(site)s is provisioned by hand (hand-over): the portal does not read it.")
                              % {"site": site.name})
    with transaction.atomic():
        readback, _created = SiteReadback.objects.select_for_update().get_or_create(site=site)
        readback.status = ReadbackStatus.QUEUED
        readback.requested_at = timezone.now()
        readback.save(update_fields=["status", "requested_at"])
        audit_record(actor=actor, action=AuditAction.PROVISIONING_READBACK_REQUESTED, target=site,
                     changes={"cluster": site.slurm_cluster})
        enqueue_on_commit(READ_SITE_TASK, site.pk)
    return readback


def read_site_state(*, site: Site) -> SiteReadback:
    """Read one site's Slurm under the cluster's lock, compare it with the whole desired state through the
    planner (as a full reconcile would) and store the result with its time. Writes nothing to Slurm.

    A failed read keeps the previous result and records the error with its cause and time."""
    readback, _created = SiteReadback.objects.get_or_create(site=site)
    if backend_kind(site) == "handover":
        return readback
    started = time.monotonic()
    try:
        with cluster_lock(site.slurm_cluster):
            changes, fields = backend_for(site).compare(site.slurm_cluster, site_desired(site))
        storage_rows, storage_changes = storage_read_site(site=site)
    except (SlurmError, DirectoryError) as exc:
        SiteReadback.objects.filter(pk=readback.pk).update(status=ReadbackStatus.ERROR, error=str(exc)[:5000],
                                                           error_at=timezone.now())
        readback.refresh_from_db()
        return readback
    rows = [{"account": f.account, "field": f.field, "desired": _as_text(f.desired),
             "actual": _as_text(f.actual) if f.present else None, "differs": f.differs} for f in fields]
    SiteReadback.objects.filter(pk=readback.pk).update(
        status=ReadbackStatus.DONE, read_at=timezone.now(), duration_ms=int((time.monotonic() - started) * 1000),
        rows=rows + storage_rows, changes=[c.describe() for c in changes] + storage_changes, error="",
        error_at=None)
    readback.refresh_from_db()
    return readback


def access_mode_qos() -> list[QosSpec]:
    """The QOS of every access mode that names one (QOS are global in slurmdbd)."""
    return [qos_spec_for(mode) for mode in AccessMode.objects.exclude(slurm_qos="").order_by("code")]


def qos_spec_for(mode: AccessMode) -> QosSpec:
    """The mode's per-job limits, e.g. {"MaxTRESPerJob": "gres/gpu=2", "MaxWall": "12:00:00"}."""
    limits = mode.qos_limits or {}
    per_job = {}
    for item in str(limits.get("MaxTRESPerJob", "")).split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            per_job[key.strip()] = int(value)
    wall = None
    if limits.get("MaxWall"):
        hours, minutes, _seconds = (int(x) for x in str(limits["MaxWall"]).split(":"))
        wall = hours * 60 + minutes
    return QosSpec(name=mode.slurm_qos, description=f"access mode {mode.code}", max_tres_per_job=per_job,
                   max_wall_minutes=wall)


def bootstrap_site(*, site: Site):
    """The access-mode QOS (with the flags the portal requires, e.g. DenyOnLimit) and the organisations'
    parent accounts of one site."""
    backend = backend_for(site)
    specs = access_mode_qos()
    parents = [DesiredParent(cluster=site.slurm_cluster, name=parent_account(org_id),
                             description=f"organisation {org_id}", organization=parent_account(org_id),
                             fairshare=site.fairshare or DEFAULT_FAIRSHARE)
               for org_id in sorted(set(AllocationQuota.objects.filter(site=site)
                                        .values_list("allocation__organisation_id", flat=True)))]
    return backend.bootstrap(site.slurm_cluster, specs, parents)

THRESHOLDS = (80, 100)
REPORTED_STATUSES = [AllocationStatus.PROVISIONING, AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED,
                     AllocationStatus.EXPIRED]


def pull_usage(*, site: Site) -> int:
    """One sshare call per site (chunked by the backend); returns the number of snapshots stored."""
    if backend_kind(site) == "handover":
        return 0
    quotas = list(AllocationQuota.objects.filter(site=site, allocation__status__in=REPORTED_STATUSES)
                  .select_related("allocation"))
    if not quotas:
        return 0
    used = backend_for(site).usage(site.slurm_cluster, [q.allocation.slurm_account for q in quotas])
    stored = 0
    for quota in quotas:
        figures = used.get(quota.allocation.slurm_account)
        if figures is None:
            continue
        with transaction.atomic():
            UsageSnapshot.objects.create(allocation=quota.allocation, site=site,
                                         gpu_minutes=figures.get("gpu_minutes", 0),
                                         cpu_minutes=figures.get("cpu_minutes", 0))
            _notify_thresholds(quota, figures)
        stored += 1
    return stored


def used_fraction(quota: AllocationQuota, figures: dict[str, int]) -> float:
    fractions = []
    if quota.gpu_hours:
        fractions.append(figures.get("gpu_minutes", 0) / (quota.gpu_hours * 60))
    if quota.cpu_core_hours:
        fractions.append(figures.get("cpu_minutes", 0) / (quota.cpu_core_hours * 60))
    return max(fractions, default=0.0)


def _notify_thresholds(quota: AllocationQuota, figures: dict[str, int]) -> None:
    percent = used_fraction(quota, figures) * 100
    allocation = quota.allocation
    for threshold in THRESHOLDS:
        if percent < threshold:
            continue
        already = AuditEvent.objects.filter(
            action=AuditAction.USAGE_THRESHOLD_REACHED,
            object_type="allocations.allocation",
            object_id=str(allocation.pk),
            changes__site=quota.site.code,
            changes__threshold=threshold,
        ).exists()
        if already:
            continue
        audit_record(
            actor=None,
            action=AuditAction.USAGE_THRESHOLD_REACHED,
            target=allocation,
            changes={"site": quota.site.code, "threshold": threshold, "percent": round(percent, 1)},
        )
        recipients = threshold_recipients(allocation)
        send_templated_email_on_commit(
            to=recipients,
            template="allocations/email/usage_threshold",
            context={
                "reference": allocation.reference,
                "site": quota.site.name,
                "threshold": threshold,
                "percent": round(percent, 1),
                "url": portal_url(allocation.get_absolute_url()),
            },
        )


def threshold_recipients(allocation: Allocation) -> list[str]:
    """Who hears that a quota is running out: the organisation's members, and the people who run jobs on
    the account (its confirmed team members, at the address of their portal account when they have one)."""
    members = Membership.objects.filter(organisation_id=allocation.organisation_id).values_list("user__email",
                                                                                               flat=True)
    team = TeamMember.objects.confirmed().filter(application_id=allocation.application_id).values_list(
        "user__email", "email")
    return sorted({*members, *(account_email or email for account_email, email in team)} - {""})


def usage_series(allocation):
    """Snapshots per site, oldest first, for the usage chart."""
    series: dict[str, list[UsageSnapshot]] = {}
    for snap in allocation.usage_snapshots.select_related("site").order_by("taken_at"):
        series.setdefault(snap.site.name, []).append(snap)
    return series
