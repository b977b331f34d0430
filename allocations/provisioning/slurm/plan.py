"""Pure planning: the smallest list of changes that turns the actual state into the desired one.

No I/O here. Accounts that Slurm holds but nobody desires are left alone on purpose (they are
removed only after the retention period, by someone else); user associations of a managed
account that are not desired are removed.

``compare_fields`` is the comparison the planner decides with, setting by setting: a page that shows
desired against actual reads it, so that it never disagrees with what a reconcile would change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .desired import DEFAULT_FAIRSHARE, ROOT, ActualAccount, Desired, DesiredAccount, DesiredParent, tres_limits
from .errors import SlurmValueError
from .validation import (
    validate_account_name,
    validate_cluster_name,
    validate_fields,
    validate_limits,
    validate_partition_name,
    validate_username,
)

__all__ = [
    "AccountField",
    "AddAccount",
    "AddParent",
    "AddUser",
    "Change",
    "RemoveUser",
    "SetBlocked",
    "SetFairshare",
    "SetGrpTres",
    "SetMaxJobs",
    "SetMaxWall",
    "SetLimits",
    "SetParent",
    "SetQos",
    "compare_fields",
    "plan_changes",
]


@dataclass(frozen=True, slots=True)
class AddParent:
    cluster: str
    name: str
    description: str
    organization: str
    fairshare: int = DEFAULT_FAIRSHARE

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        shares = f" (fairshare {self.fairshare})" if self.fairshare != DEFAULT_FAIRSHARE else ""
        return f"{self.cluster}: add parent account {self.name}{shares}"


@dataclass(frozen=True, slots=True)
class AddAccount:
    """A new account association, created with its limits, block, QOS and shares in one go.

    A minutes value of None is a TRES the grant does not limit: it is not written; so are a MaxJobs or
    MaxWall of None, an empty GrpTRES and Slurm's default Fairshare."""

    cluster: str
    name: str
    parent: str
    description: str
    organization: str
    gpu_minutes: int | None
    cpu_minutes: int | None
    blocked: bool
    qos: str | None = None
    default_qos: str | None = None
    fairshare: int = DEFAULT_FAIRSHARE
    max_jobs: int | None = None
    max_wall_minutes: int | None = None
    grp_tres: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        validate_fields(self)
        object.__setattr__(self, "grp_tres", validate_limits(self.grp_tres))

    @property
    def limits(self) -> tuple[tuple[str, int], ...]:
        return validate_limits(tres_limits(cpu_minutes=self.cpu_minutes, gpu_minutes=self.gpu_minutes))

    @property
    def qos_list(self) -> tuple[str, ...]:
        return tuple(sorted({q for q in (self.qos, self.default_qos) if q}))

    @property
    def effective_default_qos(self) -> str | None:
        return self.default_qos or self.qos

    def describe(self) -> str:
        state = " blocked" if self.blocked else ""

        def shown(minutes: int | None) -> str:
            return "no limit" if minutes is None else f"{minutes} min"

        return (
            f"{self.cluster}: add account {self.name} under {self.parent} "
            f"(gpu {shown(self.gpu_minutes)}, cpu {shown(self.cpu_minutes)}{state})"
        )


@dataclass(frozen=True, slots=True)
class SetParent:
    cluster: str
    name: str
    parent: str

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        return f"{self.cluster}: move account {self.name} under {self.parent}"


@dataclass(frozen=True, slots=True)
class SetLimits:
    """Full GrpTRESMins to set; a value of -1 clears a TRES limit nobody asked for."""

    cluster: str
    name: str
    limits: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        validate_fields(self)
        object.__setattr__(self, "limits", validate_limits(self.limits))

    def describe(self) -> str:
        text = ",".join(f"{k}={v}" for k, v in self.limits)
        return f"{self.cluster}: set GrpTRESMins of {self.name} to {text}"


@dataclass(frozen=True, slots=True)
class SetBlocked:
    """blocked=True: GrpSubmitJobs=0 and GrpJobs=0 (no job submitted, none started); False: clear both."""

    cluster: str
    name: str
    blocked: bool

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        return f"{self.cluster}: {'block' if self.blocked else 'unblock'} account {self.name}"


@dataclass(frozen=True, slots=True)
class SetQos:
    """QOS list = qos (and default_qos), DefaultQOS = default_qos or qos."""

    cluster: str
    name: str
    qos: str
    default_qos: str | None = None

    def __post_init__(self) -> None:
        validate_fields(self)

    @property
    def qos_list(self) -> tuple[str, ...]:
        return tuple(sorted({q for q in (self.qos, self.default_qos) if q}))

    @property
    def effective_default_qos(self) -> str:
        return self.default_qos or self.qos

    def describe(self) -> str:
        return (f"{self.cluster}: set QOS of {self.name} to {','.join(self.qos_list)} "
                f"(default {self.effective_default_qos})")


@dataclass(frozen=True, slots=True)
class SetGrpTres:
    """Full GrpTRES (TRES running at once) to set; a value of -1 clears a limit nobody asked for."""

    cluster: str
    name: str
    tres: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        validate_fields(self)
        object.__setattr__(self, "tres", validate_limits(self.tres))

    def describe(self) -> str:
        text = ",".join(f"{k}={v}" for k, v in self.tres)
        return f"{self.cluster}: set GrpTRES of {self.name} to {text}"


@dataclass(frozen=True, slots=True)
class SetMaxJobs:
    """MaxJobs (running jobs per user of the association); None clears it."""

    cluster: str
    name: str
    max_jobs: int | None

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        shown = "unset" if self.max_jobs is None else str(self.max_jobs)
        return f"{self.cluster}: set MaxJobs of {self.name} to {shown}"


@dataclass(frozen=True, slots=True)
class SetMaxWall:
    """MaxWall (longest time limit of one job, minutes); None clears it."""

    cluster: str
    name: str
    max_wall_minutes: int | None

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        shown = "unset" if self.max_wall_minutes is None else f"{self.max_wall_minutes} min"
        return f"{self.cluster}: set MaxWall of {self.name} to {shown}"


@dataclass(frozen=True, slots=True)
class SetFairshare:
    """Fairshare: the account's shares among its siblings."""

    cluster: str
    name: str
    fairshare: int

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        return f"{self.cluster}: set Fairshare of {self.name} to {self.fairshare}"


@dataclass(frozen=True, slots=True)
class AddUser:
    """A user association; ``partition`` "" names none (every partition the account may use)."""

    cluster: str
    account: str
    user: str
    partition: str = ""

    def __post_init__(self) -> None:
        validate_fields(self)

    def describe(self) -> str:
        where = f" in partition {self.partition}" if self.partition else ""
        return f"{self.cluster}: add user {self.user} to {self.account}{where}"


@dataclass(frozen=True, slots=True)
class RemoveUser:
    """Remove a user association: the one of ``partition`` ("" the one that names none), or every one of the
    user in the account (None: the user leaves the project)."""

    cluster: str
    account: str
    user: str
    partition: str | None = None

    def __post_init__(self) -> None:
        # Not validate_fields: a reserved name may be taken out of a portal account, never put in.
        validate_cluster_name(self.cluster)
        validate_account_name(self.account)
        validate_username(self.user, allow_reserved=True)
        if self.partition is not None:
            validate_partition_name(self.partition, allow_none=True)

    def describe(self) -> str:
        where = "" if self.partition is None else f" in partition {self.partition}" if self.partition else \
            " (the association that names no partition)"
        return f"{self.cluster}: remove user {self.user} from {self.account}{where}"


Change = (AddParent | AddAccount | SetParent | SetLimits | SetBlocked | SetQos | SetGrpTres | SetMaxJobs | SetMaxWall
          | SetFairshare | AddUser | RemoveUser)
# The changes that modify an existing association's settings (one ``modify account ... set`` each).
SETTING_CHANGES = (SetParent, SetLimits, SetBlocked, SetQos, SetGrpTres, SetMaxJobs, SetMaxWall, SetFairshare)

# Apply order: parents before children, moves before limit changes, removals last.
KIND_ORDER: dict[type, int] = {
    AddParent: 0,
    AddAccount: 1,
    SetParent: 2,
    SetLimits: 3,
    SetBlocked: 4,
    SetQos: 5,
    SetGrpTres: 6,
    SetMaxJobs: 7,
    SetMaxWall: 8,
    SetFairshare: 9,
    AddUser: 10,
    RemoveUser: 11,
}


def change_sort_key(change: Change) -> tuple[int, str, str, str, str]:
    name = change.account if isinstance(change, AddUser | RemoveUser) else change.name
    user = change.user if isinstance(change, AddUser | RemoveUser) else ""
    partition = (change.partition or "") if isinstance(change, AddUser | RemoveUser) else ""
    return (KIND_ORDER[type(change)], change.cluster, name, user, partition)


def _index(desired: Iterable[Desired]) -> dict[tuple[str, str], Desired]:
    seen: dict[tuple[str, str], Desired] = {}
    for item in desired:
        if not isinstance(item, DesiredAccount | DesiredParent):
            raise SlurmValueError(f"not a desired account or parent: {item!r}")
        key = (item.cluster, item.name)
        if key in seen:
            raise SlurmValueError(f"{item.cluster}: account {item.name} is desired twice")
        seen[key] = item
    return seen


def wanted_limits(desired: DesiredAccount, actual: ActualAccount) -> dict[str, int]:
    """Desired GrpTRESMins plus -1 for any other TRES limit found on the association."""
    wanted: dict[str, int] = {tres: -1 for tres in actual.limits}
    wanted.update(desired.limits)
    return wanted


def wanted_grp_tres(desired: DesiredAccount, actual: ActualAccount) -> dict[str, int]:
    """Desired GrpTRES plus -1 for any other TRES limit found on the association."""
    wanted: dict[str, int] = {tres: -1 for tres in actual.grp_tres}
    wanted.update(desired.grp_tres)
    return wanted


@dataclass(frozen=True, slots=True)
class AccountField:
    """One setting of one account as the planner compares it.

    Values are in the planner's terms, so that two representations of the same state never look
    different: ``limits`` and ``grp_tres`` as sorted (TRES, value) pairs, ``grp_submit_jobs`` and ``grp_jobs``
    0 (blocked) or None (not set), ``max_jobs`` and ``max_wall`` (minutes) None when unset, ``fairshare``
    as shares (None: ``parent``), ``users`` and ``qos`` as sorted tuples. When Slurm does not hold the account at all,
    ``present`` is false, ``actual`` None and every setting differs."""

    cluster: str
    account: str
    field: str
    desired: object
    actual: object
    differs: bool
    present: bool = True


def _desired_settings(item: Desired) -> dict[str, object]:
    if isinstance(item, DesiredParent):
        return {"parent": ROOT, "fairshare": item.fairshare}
    settings: dict[str, object] = {
        "parent": item.parent,
        "limits": tuple(sorted(item.limits.items())),
        "grp_tres": tuple(sorted(item.grp_tres.items())),
        "grp_submit_jobs": 0 if item.blocked else None,
        "grp_jobs": 0 if item.blocked else None,
        "max_jobs": item.max_jobs,
        "max_wall": item.max_wall_minutes,
    }
    if item.qos_list:  # no QOS leaves the association's QOS alone: nothing to compare
        settings["qos"] = item.qos_list
        settings["default_qos"] = item.effective_default_qos
    settings["fairshare"] = item.fairshare
    settings["users"] = tuple(sorted(item.users))
    return settings


def _actual_settings(current: ActualAccount) -> dict[str, object]:
    return {
        "parent": current.parent,
        "limits": tuple(sorted(current.limits.items())),
        "grp_tres": tuple(sorted(current.grp_tres.items())),
        "grp_submit_jobs": current.grp_submit_jobs,
        "grp_jobs": current.grp_jobs,
        "max_jobs": current.max_jobs,
        "max_wall": current.max_wall_minutes,
        "qos": tuple(sorted(current.qos)),
        "default_qos": current.default_qos,
        "fairshare": current.fairshare,
        "users": tuple(sorted(current.users)),
    }


def association_labels(pairs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """User associations as a person reads them: "alice (gpu)", or "alice" where it names no partition."""
    return tuple(sorted(f"{user} ({partition})" if partition else user for user, partition in pairs))


def _fields_of(cluster: str, item: Desired, current: ActualAccount | None) -> list[AccountField]:
    want = _desired_settings(item)
    # Partitions are compared where the site names some, or where Slurm holds an association that names one.
    partitioned = isinstance(item, DesiredAccount) and (
        item.partitions or (current is not None and any(p for _u, p in current.user_associations)))
    if partitioned:
        want["partitions"] = association_labels(item.user_associations)
    if current is None:
        return [AccountField(cluster, item.name, name, value, None, True, present=False)
                for name, value in want.items()]
    have = _actual_settings(current)
    if partitioned:
        have["partitions"] = association_labels(current.user_associations)
    return [AccountField(cluster, item.name, name, value, have[name], value != have[name])
            for name, value in want.items()]


def compare_fields(
    desired: Sequence[Desired],
    actual: Mapping[str, Mapping[str, ActualAccount]],
) -> list[AccountField]:
    """Every compared setting of every desired account, in the order of ``desired``."""
    return [
        field
        for (cluster, name), item in _index(desired).items()
        for field in _fields_of(cluster, item, actual.get(cluster, {}).get(name))
    ]


def plan_changes(
    desired: Sequence[Desired],
    actual: Mapping[str, Mapping[str, ActualAccount]],
) -> list[Change]:
    """Changes turning ``actual`` (cluster -> account name -> ActualAccount) into ``desired``."""
    index = _index(desired)
    changes: list[Change] = []
    for (cluster, name), item in index.items():
        have = actual.get(cluster, {})
        current = have.get(name)
        if isinstance(item, DesiredParent):
            if current is None:
                changes.append(AddParent(cluster, name, item.description, item.organization, item.fairshare))
                continue
            if current.parent != ROOT:
                changes.append(SetParent(cluster, name, ROOT))
            if current.fairshare != item.fairshare:
                changes.append(SetFairshare(cluster, name, item.fairshare))
            continue

        parent_known = item.parent == ROOT or (cluster, item.parent) in index or item.parent in have
        if not parent_known:
            raise SlurmValueError(f"{cluster}: parent {item.parent} of {name} is neither desired nor present in Slurm")
        if current is None:
            changes.append(
                AddAccount(
                    cluster,
                    name,
                    item.parent,
                    item.description,
                    item.organization,
                    item.gpu_minutes,
                    item.cpu_minutes,
                    item.blocked,
                    item.qos,
                    item.default_qos,
                    item.fairshare,
                    item.max_jobs,
                    item.max_wall_minutes,
                    tuple(sorted(item.grp_tres.items())),
                )
            )
            changes.extend(AddUser(cluster, name, user, partition) for user, partition in item.user_associations)
            continue

        differs = {f.field for f in _fields_of(cluster, item, current) if f.differs}
        if "parent" in differs:
            changes.append(SetParent(cluster, name, item.parent))
        if "limits" in differs:
            changes.append(SetLimits(cluster, name, tuple(wanted_limits(item, current).items())))
        if differs & {"grp_submit_jobs", "grp_jobs"}:
            changes.append(SetBlocked(cluster, name, item.blocked))
        if differs & {"qos", "default_qos"}:
            changes.append(SetQos(cluster, name, item.qos or item.default_qos, item.default_qos))
        if "grp_tres" in differs:
            changes.append(SetGrpTres(cluster, name, tuple(wanted_grp_tres(item, current).items())))
        if "max_jobs" in differs:
            changes.append(SetMaxJobs(cluster, name, item.max_jobs))
        if "max_wall" in differs:
            changes.append(SetMaxWall(cluster, name, item.max_wall_minutes))
        if "fairshare" in differs:
            changes.append(SetFairshare(cluster, name, item.fairshare))
        if differs & {"users", "partitions"}:
            changes.extend(_user_changes(cluster, name, item, current))
    changes.sort(key=change_sort_key)
    return changes


def _user_changes(cluster: str, name: str, item: DesiredAccount, current: ActualAccount) -> list[Change]:
    """The user associations to add and remove: a user who leaves loses every association in the account at
    once; a user who stays loses the ones of partitions no longer named (added first, then removed, so that
    the account never stops being theirs: Slurm refuses to remove a user's default account)."""
    want, have = item.user_associations, current.user_associations
    changes: list[Change] = [AddUser(cluster, name, u, p) for u, p in sorted(want - have)]
    staying = {u for u, _p in want}
    for user in sorted({u for u, _p in have - want}):
        if user not in staying:
            changes.append(RemoveUser(cluster, name, user))
        else:
            changes.extend(RemoveUser(cluster, name, user, p) for u, p in sorted(have - want) if u == user)
    return changes
