"""Provisioning of allocations into Slurm accounting (pure Python, no Django).

    from allocations.provisioning import DesiredAccount, get_backend
    backend = get_backend("sacctmgr", slurm_conf="/etc/slurm/slurm.conf")
    result = backend.reconcile("zellik", [DesiredAccount(...), ...])

See docs/slurm.md.
"""

from .backends import ApplyResult, CommandRecord, ReconcileResult, SlurmBackend, get_backend, register_backend
from .desired import ActualAccount, DesiredAccount, DesiredParent, QosSpec
from .errors import SlurmCommandError, SlurmError, SlurmParseError, SlurmReconcileError, SlurmValueError
from .plan import Change, plan_changes

__all__ = [
    "ActualAccount",
    "ApplyResult",
    "Change",
    "CommandRecord",
    "DesiredAccount",
    "DesiredParent",
    "QosSpec",
    "ReconcileResult",
    "SlurmBackend",
    "SlurmCommandError",
    "SlurmError",
    "SlurmParseError",
    "SlurmReconcileError",
    "SlurmValueError",
    "get_backend",
    "plan_changes",
    "register_backend",
]
