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

from .backends.formats import account_settings, modify_settings
from .desired import DEFAULT_FAIRSHARE, ROOT, ActualAccount, Desired, tres_limits
from .plan import SETTING_CHANGES, AddAccount, AddParent, AddUser, Change, RemoveUser, compare_fields, plan_changes


def _modify(change: Change, *settings: str) -> list[str]:
    return ["modify", "account", "where", f"name={change.name}", f"cluster={change.cluster}", "set", *settings]


def change_argv(change: Change) -> list[str]:
    """The sacctmgr arguments (after ``sacctmgr -i``) that apply one change."""
    if isinstance(change, AddParent):
        return ["add", "account", change.name, f"cluster={change.cluster}", f"parent={ROOT}",
                f"Description={change.description}", f"Organization={change.organization}",
                *([f"Fairshare={change.fairshare}"] if change.fairshare != DEFAULT_FAIRSHARE else [])]
    if isinstance(change, AddAccount):
        return ["add", "account", change.name, f"cluster={change.cluster}", f"parent={change.parent}",
                f"Description={change.description}", f"Organization={change.organization}",
                *account_settings(change)]
    if isinstance(change, SETTING_CHANGES):
        return _modify(change, *modify_settings(change))
    if isinstance(change, AddUser):
        return ["add", "user", change.user, f"account={change.account}", f"cluster={change.cluster}",
                *([f"partition={change.partition}"] if change.partition else [])]
    if isinstance(change, RemoveUser):
        return ["delete", "user", "where", f"name={change.user}", f"account={change.account}",
                f"cluster={change.cluster}", *([] if change.partition is None else [f"partition={change.partition}"])]
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
        fairshare = item.get("fairshare", DEFAULT_FAIRSHARE)
        if item.get("kind") == "DesiredParent":
            account = ActualAccount(cluster=cluster, name=name, parent=ROOT, fairshare=fairshare)
        else:
            blocked = 0 if item.get("blocked") else None
            qos, default_qos = item.get("qos"), item.get("default_qos")
            users = frozenset(item.get("users") or ())
            account = ActualAccount(
                cluster=cluster, name=name, parent=item.get("parent") or ROOT,
                limits=tres_limits(cpu_minutes=item.get("cpu_minutes"), gpu_minutes=item.get("gpu_minutes")),
                grp_submit_jobs=blocked, grp_jobs=blocked, users=users,
                # named partitions only: without, ActualAccount.user_associations gives each user one naming none
                user_partitions=frozenset((u, p) for u in users for p in item.get("partitions") or ()),
                qos=frozenset(q for q in (qos, default_qos) if q), default_qos=default_qos or qos,
                fairshare=fairshare, max_jobs=item.get("max_jobs"), max_wall_minutes=item.get("max_wall_minutes"),
                grp_tres=dict(item.get("grp_tres") or {}))
        state.setdefault(cluster, {})[name] = account
    return state


def handover_plan(desired: Sequence[Desired], previous: Iterable[Mapping[str, Any]] = ()) -> list[Change]:
    """The changes from the previous task's state (nothing: a first hand-over) to ``desired``."""
    return plan_changes(desired, state_from(previous))


def fields_to_confirm(desired: Sequence[Desired]) -> list[tuple[str, str, object]]:
    """(account, setting, desired value) of every setting the planner compares."""
    return [(f.account, f.field, f.desired) for f in compare_fields(desired, {})]
