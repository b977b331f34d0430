"""Backend registry: ``get_backend("sacctmgr", slurm_conf=...)``.

Built-ins are imported lazily (the REST one pulls in ``requests``). Deployments without Slurm
register their own kinds (e.g. a backend that only records the intended changes) with
``register_backend``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .base import ApplyResult, CommandRecord, ReconcileResult, SlurmBackend

__all__ = [
    "ApplyResult",
    "CommandRecord",
    "ReconcileResult",
    "SlurmBackend",
    "available_backends",
    "get_backend",
    "register_backend",
]

BackendFactory = Callable[..., SlurmBackend]

_REGISTRY: dict[str, BackendFactory | str] = {
    "sacctmgr": "allocations.provisioning.slurm.backends.sacctmgr:SacctmgrBackend",
    "slurmrestd": "allocations.provisioning.slurm.backends.slurmrestd:SlurmrestdBackend",
}


def register_backend(kind: str, factory: BackendFactory | str) -> None:
    """``factory`` is a callable or a ``"module.path:ClassName"`` string (imported on first use)."""
    _REGISTRY[kind] = factory


def available_backends() -> list[str]:
    return sorted(_REGISTRY)


def get_backend(kind: str, **options: Any) -> SlurmBackend:
    try:
        factory = _REGISTRY[kind]
    except KeyError:
        raise ValueError(f"unknown Slurm backend {kind!r}; known: {', '.join(available_backends())}") from None
    if isinstance(factory, str):
        module, _, name = factory.partition(":")
        factory = getattr(importlib.import_module(module), name)
        _REGISTRY[kind] = factory
    return factory(**options)
