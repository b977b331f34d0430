"""What Slurm should hold (Desired*) and what it was seen to hold (ActualAccount).

Plain frozen dataclasses, validated on construction so that nothing hostile can be planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .errors import SlurmValueError
from .validation import (
    validate_fields,
    validate_limits,
    validate_minutes,
    validate_partitions,
    validate_qos_flag,
    validate_qos_name,
    validate_text,
    validate_username,
)

TRES_CPU = "cpu"
TRES_GPU = "gres/gpu"
ROOT = "root"
# Every access-mode QOS carries these (see QosSpec).
REQUIRED_QOS_FLAGS = frozenset({"DenyOnLimit"})
# Slurm's own default share of an association: what the portal wants where the site sets none.
DEFAULT_FAIRSHARE = 1


def tres_limits(*, cpu_minutes: int | None, gpu_minutes: int | None) -> dict[str, int]:
    """GrpTRESMins pairs of the TRES that have a limit (None: no limit)."""
    pairs = ((TRES_CPU, cpu_minutes), (TRES_GPU, gpu_minutes))
    return {tres: minutes for tres, minutes in pairs if minutes is not None}


@dataclass(frozen=True, slots=True)
class DesiredParent:
    """Grouping account (one per organisation) directly under ``root``."""

    cluster: str
    name: str
    description: str
    organization: str
    fairshare: int = DEFAULT_FAIRSHARE

    def __post_init__(self) -> None:
        validate_fields(self)


@dataclass(frozen=True, slots=True)
class DesiredAccount:
    """One allocation on one cluster.

    ``gpu_minutes`` / ``cpu_minutes`` are the GrpTRESMins quota; ``None`` means the grant sets no
    limit on that TRES (nothing is written, and a limit found on the association is cleared): a
    limit of 0 would hold every job that uses the TRES, and every job uses CPUs.
    ``blocked`` means GrpSubmitJobs=0 and GrpJobs=0: no job is submitted and none starts (not
    started yet, suspended, expired or revoked); the account and its usage stay for accounting.
    ``qos`` is the access mode's QOS, ``default_qos`` the one a job gets when it names none (the
    site's choice; None: ``qos``); the association's QOS list is both. Both None leave the QOS alone.
    The portal owns the other limits too: ``grp_tres`` (GrpTRES, empty: none), ``max_jobs`` (MaxJobs)
    and ``max_wall_minutes`` (MaxWall; None: unset) and ``fairshare``; a value set by hand on the
    cluster is drift, corrected by the next reconcile.
    ``partitions``: each user gets one association per partition named here, and so may run jobs there only
    (Slurm refuses a job in another partition of the account); empty: one association that names none.
    """

    cluster: str
    name: str
    parent: str
    description: str
    organization: str
    gpu_minutes: int | None
    cpu_minutes: int | None
    blocked: bool
    users: frozenset[str] = frozenset()
    qos: str | None = None
    default_qos: str | None = None
    fairshare: int = DEFAULT_FAIRSHARE
    max_jobs: int | None = None
    max_wall_minutes: int | None = None
    grp_tres: Mapping[str, int] = field(default_factory=dict, hash=False)
    partitions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_fields(self)
        object.__setattr__(self, "partitions", validate_partitions(self.partitions))
        object.__setattr__(self, "grp_tres", dict(validate_limits(self.grp_tres)))
        if -1 in self.grp_tres.values():
            raise SlurmValueError("grp_tres: -1 clears a limit, it is not a desired value")
        if not isinstance(self.blocked, bool):
            raise TypeError("blocked must be a bool")
        if isinstance(self.users, str):
            raise TypeError("users must be a collection of user names, not a string")
        users = frozenset(self.users)
        for user in users:
            validate_username(user)
        object.__setattr__(self, "users", users)  # accept any iterable, store a frozenset

    @property
    def user_associations(self) -> frozenset[tuple[str, str]]:
        """(user, partition) of every user association the account should hold ("": names no partition)."""
        return frozenset((user, partition) for user in self.users for partition in (self.partitions or ("",)))

    @property
    def limits(self) -> dict[str, int]:
        """GrpTRESMins as sacctmgr names the TRES; a TRES the grant does not limit is absent."""
        return tres_limits(cpu_minutes=self.cpu_minutes, gpu_minutes=self.gpu_minutes)

    @property
    def qos_list(self) -> tuple[str, ...]:
        """The QOS the association allows, sorted (empty: the portal leaves the QOS alone)."""
        return tuple(sorted({q for q in (self.qos, self.default_qos) if q}))

    @property
    def effective_default_qos(self) -> str | None:
        return self.default_qos or self.qos


@dataclass(frozen=True, slots=True)
class ActualAccount:
    """An account association as read back from Slurm (not validated: Slurm may hold anything)."""

    cluster: str
    name: str
    parent: str
    limits: Mapping[str, int] = field(default_factory=dict, hash=False)
    grp_submit_jobs: int | None = None
    users: frozenset[str] = frozenset()
    qos: frozenset[str] = frozenset()
    default_qos: str | None = None
    grp_jobs: int | None = None
    # None: Fairshare=parent (or anything that is not a number of shares)
    fairshare: int | None = DEFAULT_FAIRSHARE
    max_jobs: int | None = None
    max_wall_minutes: int | None = None
    grp_tres: Mapping[str, int] = field(default_factory=dict, hash=False)
    # TRES limits the site set and the portal does not own (e.g. MaxTRES per job), as slurmrestd names their
    # place ("per.job": {"cpu": 2}): never compared, only carried back by an update (22.05.8's slurmrestd
    # crashes on an update that leaves out a TRES list the association holds)
    site_tres: Mapping[str, Mapping[str, int]] = field(default_factory=dict, hash=False, compare=False)
    # (user, partition) of each user association, "" where it names no partition; empty where none names a
    # partition (then every user of ``users`` has one association that names none)
    user_partitions: frozenset[tuple[str, str]] = frozenset()

    @property
    def user_associations(self) -> frozenset[tuple[str, str]]:
        return self.user_partitions or frozenset((user, "") for user in self.users)

    @property
    def blocked(self) -> bool:
        """No job is submitted (GrpSubmitJobs=0) and none starts (GrpJobs=0)."""
        return self.grp_submit_jobs == 0 and self.grp_jobs == 0


@dataclass(frozen=True, slots=True)
class QosSpec:
    """A QOS per access mode with per-job limits (QOS are global in slurmdbd, not per cluster).

    ``flags`` are the QOS flags the portal requires (others the site set are left alone):
    ``DenyOnLimit`` makes Slurm refuse at submission a job that breaks a QOS or association limit
    on its own, instead of leaving it pending for ever."""

    name: str
    description: str
    max_tres_per_job: Mapping[str, int] = field(default_factory=dict, hash=False)
    max_wall_minutes: int | None = None
    priority: int = 0
    flags: frozenset[str] = REQUIRED_QOS_FLAGS

    def __post_init__(self) -> None:
        validate_qos_name(self.name)
        validate_text(self.description, "description")
        validate_limits(self.max_tres_per_job)
        if self.max_wall_minutes is not None:
            validate_minutes(self.max_wall_minutes, "max_wall_minutes")
        validate_minutes(self.priority, "priority")
        if isinstance(self.flags, str):
            raise TypeError("flags must be a collection of QOS flags, not a string")
        flags = frozenset(self.flags)
        for flag in flags:
            validate_qos_flag(flag)
        object.__setattr__(self, "flags", flags)


Desired = DesiredAccount | DesiredParent


def desired_users(users: Iterable[str]) -> frozenset[str]:
    """Validate a user list once (handy for callers building many DesiredAccounts)."""
    return frozenset(validate_username(u) for u in users)
