"""Exceptions of the Slurm provisioning layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .backends.base import ReconcileResult


class SlurmError(Exception):
    """Base class: anything that went wrong talking to Slurm."""


class SlurmValueError(SlurmError, ValueError):
    """A name or value refused before it could reach sacctmgr or slurmrestd."""


class SlurmParseError(SlurmError):
    """Slurm answered something this version-specific parser does not understand."""


class SlurmCommandError(SlurmError):
    """A read command failed (non-zero exit, timeout, HTTP error, missing executable)."""


class SlurmUnsupportedError(SlurmError):
    """This backend cannot do that (e.g. job control in a backend that only reaches accounting)."""


class SlurmReconcileError(SlurmError):
    """Apply failed or the read-back still differs from the desired state.

    ``result`` carries every command run, so the caller can record the attempt.
    """

    def __init__(self, result: ReconcileResult) -> None:
        self.result = result
        super().__init__(result.describe())
