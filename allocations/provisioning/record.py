"""The embedded default for deployments without Slurm: record the intended changes, apply nothing.

The state the clusters *would* hold is kept as the newest snapshot per account in RecordedChange,
so the same reconcile logic (read, plan, apply, read back) runs, and operators see every change.
Job control (hold, release, cancel) is recorded as an intention too: there are no jobs to list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from allocations.catalogue.models import Site

from .models import RecordedChange
from .slurm.backends.base import ApplyResult, CommandRecord, JobAction, JobControlResult, SlurmBackend
from .slurm.desired import DEFAULT_FAIRSHARE, ROOT, ActualAccount, QosSpec
from .slurm.plan import (
    AddAccount,
    AddParent,
    AddUser,
    Change,
    RemoveUser,
    SetBlocked,
    SetFairshare,
    SetGrpTres,
    SetLimits,
    SetMaxJobs,
    SetMaxWall,
    SetParent,
    SetQos,
    plan_changes,
)
from .slurm.validation import validate_account_name, validate_cluster_name


def _snapshot(actual: ActualAccount) -> dict[str, Any]:
    return {"parent": actual.parent, "limits": dict(actual.limits), "grp_submit_jobs": actual.grp_submit_jobs,
            "grp_jobs": actual.grp_jobs, "users": sorted(actual.users), "qos": sorted(actual.qos),
            "default_qos": actual.default_qos, "grp_tres": dict(actual.grp_tres), "max_jobs": actual.max_jobs,
            "max_wall_minutes": actual.max_wall_minutes, "fairshare": actual.fairshare,
            **_partitions_of(actual.user_associations)}


def _partitions_of(pairs) -> dict[str, Any]:
    """The user associations of a snapshot where one names a partition (otherwise "users" says it all)."""
    if not any(partition for _user, partition in pairs):
        return {}
    return {"user_partitions": sorted([user, partition] for user, partition in pairs)}


def _record_user(snap: dict[str, Any], change: AddUser | RemoveUser) -> None:
    """A user association added or removed in a snapshot (a snapshot of before partitions: none named)."""
    pairs = {(u, p) for u, p in snap.get("user_partitions") or ()} or {(u, "") for u in snap["users"]}
    if isinstance(change, AddUser):
        pairs.add((change.user, change.partition))
    else:
        pairs = {(u, p) for u, p in pairs
                 if u != change.user or (change.partition is not None and p != change.partition)}
    snap.pop("user_partitions", None)
    snap.update(users=sorted({u for u, _p in pairs}), **_partitions_of(pairs))


def _actual(cluster: str, name: str, snap: dict[str, Any]) -> ActualAccount:
    return ActualAccount(cluster=cluster, name=name, parent=snap["parent"], limits=dict(snap["limits"]),
                         grp_submit_jobs=snap["grp_submit_jobs"], users=frozenset(snap["users"]),
                         qos=frozenset(snap["qos"]), default_qos=snap["default_qos"], grp_jobs=snap.get("grp_jobs"),
                         grp_tres=dict(snap.get("grp_tres") or {}), max_jobs=snap.get("max_jobs"),
                         max_wall_minutes=snap.get("max_wall_minutes"),
                         fairshare=snap.get("fairshare", DEFAULT_FAIRSHARE),
                         user_partitions=frozenset((u, p) for u, p in snap.get("user_partitions") or ()))


class RecordBackend(SlurmBackend):
    kind = "record"

    def __init__(self, *, site_id: int | None = None, **_options: Any) -> None:
        super().__init__()
        self.site_id = site_id

    def _rows(self, cluster: str, names: set[str] | None):
        rows = RecordedChange.objects.filter(site__slurm_cluster=cluster)
        if self.site_id is not None:
            rows = rows.filter(site_id=self.site_id)
        if names is not None:
            rows = rows.filter(account__in=names)
        return rows.order_by("account", "recorded_at", "pk").values_list("account", "change")

    def read(self, cluster: str, names: set[str] | None = None) -> dict[str, ActualAccount]:
        latest: dict[str, dict[str, Any]] = {}
        for account, change in self._rows(cluster, names):
            if "state" in change:  # job-control rows carry no state
                latest[account] = change["state"]
        self._record(CommandRecord(kind="read", argv=("record", "read", cluster), returncode=0, stdout="",
                                   stderr="", duration_s=0.0))
        return {name: _actual(cluster, name, snap) for name, snap in latest.items() if snap is not None}

    def _apply(self, cluster: str, changes: Sequence[Change], result: ApplyResult) -> None:
        site = self._site(cluster)
        names = {getattr(c, "name", None) or getattr(c, "account", None) for c in changes}
        state = {name: _snapshot(a) for name, a in self.read(cluster, names).items()}
        touched: dict[str, list[str]] = {}
        for change in changes:
            name = getattr(change, "name", None) or change.account
            snap = state.setdefault(name, {"parent": ROOT, "limits": {}, "grp_submit_jobs": None, "grp_jobs": None,
                                           "users": [], "qos": [], "default_qos": None, "grp_tres": {},
                                           "max_jobs": None, "max_wall_minutes": None,
                                           "fairshare": DEFAULT_FAIRSHARE})
            if isinstance(change, AddParent):
                snap.update(parent=ROOT, fairshare=change.fairshare)
            elif isinstance(change, AddAccount):
                snap.update(parent=change.parent, limits=dict(change.limits),
                            grp_submit_jobs=0 if change.blocked else None, grp_jobs=0 if change.blocked else None,
                            grp_tres=dict(change.grp_tres), max_jobs=change.max_jobs,
                            max_wall_minutes=change.max_wall_minutes, fairshare=change.fairshare)
                if change.qos_list:
                    snap.update(qos=list(change.qos_list), default_qos=change.effective_default_qos)
            elif isinstance(change, SetParent):
                snap["parent"] = change.parent
            elif isinstance(change, SetLimits):
                snap["limits"] = {k: v for k, v in change.limits if v != -1}
            elif isinstance(change, SetBlocked):
                snap["grp_submit_jobs"] = snap["grp_jobs"] = 0 if change.blocked else None
            elif isinstance(change, SetQos):
                snap.update(qos=list(change.qos_list), default_qos=change.effective_default_qos)
            elif isinstance(change, SetGrpTres):
                snap["grp_tres"] = {k: v for k, v in change.tres if v != -1}
            elif isinstance(change, SetMaxJobs):
                snap["max_jobs"] = change.max_jobs
            elif isinstance(change, SetMaxWall):
                snap["max_wall_minutes"] = change.max_wall_minutes
            elif isinstance(change, SetFairshare):
                snap["fairshare"] = change.fairshare
            elif isinstance(change, AddUser | RemoveUser):
                _record_user(snap, change)
            touched.setdefault(name, []).append(change.describe())
        for name, described in touched.items():
            RecordedChange.objects.create(site=site, account=name, change={"changes": described, "state": state[name]})
        self._record(CommandRecord(kind="write", argv=("record", "apply", cluster, str(len(changes))), returncode=0,
                                   stdout="\n".join(c.describe() for c in changes), stderr="", duration_s=0.0))

    def usage(self, cluster: str, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
        return {}

    def check_qos(self, qos_specs: Sequence[QosSpec], *, fix: bool = True) -> list[str]:
        return []  # QOS are the site's to create where there is no Slurm

    def _site(self, cluster: str) -> Site | None:
        if self.site_id:
            return Site.objects.filter(pk=self.site_id).first()
        return Site.objects.filter(slurm_cluster=cluster).first()

    def _intend(self, cluster: str, account: str, action: JobAction, what: str) -> JobControlResult:
        cluster, account = validate_cluster_name(cluster), validate_account_name(account)
        RecordedChange.objects.create(site=self._site(cluster), account=account,
                                      change={"jobs": action, "changes": [what]})
        record = self._record(CommandRecord(kind="write", argv=("record", "jobs", action, cluster, account),
                                            returncode=0, stdout=what, stderr="", duration_s=0.0))
        return JobControlResult(cluster=cluster, account=account, action=action, commands=[record], intended=True)

    def hold_pending(self, cluster: str, account: str) -> JobControlResult:
        return self._intend(cluster, account, "hold", f"{cluster}: hold the pending jobs of {account}")

    def release(self, cluster: str, account: str, job_ids: Iterable[str]) -> JobControlResult:
        return self._intend(cluster, account, "release", f"{cluster}: release the held jobs of {account}")

    def cancel(self, cluster: str, account: str, *, running: bool) -> JobControlResult:
        which = "pending and running" if running else "pending"
        return self._intend(cluster, account, "cancel", f"{cluster}: cancel the {which} jobs of {account}")

    def bootstrap(self, cluster: str, qos_specs: Sequence[QosSpec], parents=()) -> ApplyResult:
        items = list(parents)
        changes = plan_changes(items, {cluster: self.read(cluster, {p.name for p in items})}) if items else []
        return self.apply(cluster, changes)
