"""Hand-over sites: what the remote operators run by hand, rendered from the plan. Pure, no I/O.

A hand-over task holds the desired state of one allocation on one site. The commands are the planner's
changes from what the previous task that was done put there (``state_from``) to this desired state,
one ``sacctmgr`` line per change, with the arguments the sacctmgr backend itself writes. The fields to
confirm are the settings the planner compares, with their desired values.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .backends.formats import format_tres
from .desired import ROOT, ActualAccount, Desired, tres_limits
from .plan import (
    AddAccount,
    AddParent,
    AddUser,
    Change,
    RemoveUser,
    SetBlocked,
    SetLimits,
    SetParent,
    SetQos,
    compare_fields,
    plan_changes,
)


def _modify(change: Change, *settings: str) -> list[str]:
    return ["modify", "account", "where", f"name={change.name}", f"cluster={change.cluster}", "set", *settings]


def change_argv(change: Change) -> list[str]:
    """The sacctmgr arguments (after ``sacctmgr -i``) that apply one change."""
    if isinstance(change, AddParent):
        return ["add", "account", change.name, f"cluster={change.cluster}", f"parent={ROOT}",
                f"Description={change.description}", f"Organization={change.organization}"]
    if isinstance(change, AddAccount):
        return ["add", "account", change.name, f"cluster={change.cluster}", f"parent={change.parent}",
                f"Description={change.description}", f"Organization={change.organization}",
                *([f"GrpTRESMins={format_tres(change.limits)}"] if change.limits else []),
                *(["GrpSubmitJobs=0", "GrpJobs=0"] if change.blocked else []),
                *([f"QOS={change.qos}", f"DefaultQOS={change.qos}"] if change.qos else [])]
    if isinstance(change, SetParent):
        return _modify(change, f"parent={change.parent}")
    if isinstance(change, SetLimits):
        return _modify(change, f"GrpTRESMins={format_tres(change.limits)}")
    if isinstance(change, SetBlocked):
        value = 0 if change.blocked else -1
        return _modify(change, f"GrpSubmitJobs={value}", f"GrpJobs={value}")
    if isinstance(change, SetQos):
        return _modify(change, f"QOS={change.qos}", f"DefaultQOS={change.qos}")
    if isinstance(change, AddUser):
        return ["add", "user", change.user, f"account={change.account}", f"cluster={change.cluster}"]
    if isinstance(change, RemoveUser):
        return ["delete", "user", "where", f"name={change.user}", f"account={change.account}",
                f"cluster={change.cluster}"]
    raise TypeError(f"not a change: {change!r}")


def sacctmgr_lines(changes: Iterable[Change]) -> list[str]:
    """One shell-quoted ``sacctmgr -i ...`` line per change, in the planner's apply order."""
    return [shlex.join(["sacctmgr", "-i", *change_argv(change)]) for change in changes]


def state_from(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, ActualAccount]]:
    """What Slurm holds once a task's desired state (its stored ``changes``) was applied by hand."""
    state: dict[str, dict[str, ActualAccount]] = {}
    for item in items:
        cluster, name = item.get("cluster"), item.get("name")
        if not cluster or not name:
            continue
        if item.get("kind") == "DesiredParent":
            account = ActualAccount(cluster=cluster, name=name, parent=ROOT)
        else:
            blocked = 0 if item.get("blocked") else None
            qos = item.get("qos")
            account = ActualAccount(
                cluster=cluster, name=name, parent=item.get("parent") or ROOT,
                limits=tres_limits(cpu_minutes=item.get("cpu_minutes"), gpu_minutes=item.get("gpu_minutes")),
                grp_submit_jobs=blocked, grp_jobs=blocked, users=frozenset(item.get("users") or ()),
                qos=frozenset([qos] if qos else []), default_qos=qos)
        state.setdefault(cluster, {})[name] = account
    return state


def handover_plan(desired: Sequence[Desired], previous: Iterable[Mapping[str, Any]] = ()) -> list[Change]:
    """The changes from the previous task's state (nothing: a first hand-over) to ``desired``."""
    return plan_changes(desired, state_from(previous))


def fields_to_confirm(desired: Sequence[Desired]) -> list[tuple[str, str, object]]:
    """(account, setting, desired value) of every setting the planner compares."""
    return [(f.account, f.field, f.desired) for f in compare_fields(desired, {})]
