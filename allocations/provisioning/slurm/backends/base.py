"""The backend interface and the reconcile template method (read -> plan -> apply -> read back)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from ..desired import ROOT, ActualAccount, Desired, DesiredAccount, QosSpec
from ..errors import SlurmCommandError, SlurmError, SlurmReconcileError, SlurmValueError
from ..plan import AccountField, Change, compare_fields, plan_changes
from ..validation import validate_cluster_name

CommandKind = Literal["read", "write"]


@dataclass
class CommandRecord:
    """One sacctmgr/sshare invocation or HTTP request, as it happened."""

    kind: CommandKind
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    input: str | None = None  # load file or request body
    ok: bool = True

    def to_dict(self, max_output: int = 20_000) -> dict[str, Any]:
        """JSON-ready; long outputs (a full-cluster read) keep their tail."""
        data = asdict(self)
        for key in ("stdout", "stderr", "input"):
            if data[key] and len(data[key]) > max_output:
                data[key] = "[...]" + data[key][-max_output:]
        return data


@dataclass
class ApplyResult:
    cluster: str
    changes: list[Change] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def writes(self) -> int:
        return sum(1 for c in self.commands if c.kind == "write")


@dataclass
class ReconcileResult:
    cluster: str
    planned: list[Change] = field(default_factory=list)
    differences: list[Change] = field(default_factory=list)  # still differing after read-back
    commands: list[CommandRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.differences

    @property
    def changed(self) -> bool:
        return self.writes > 0

    @property
    def reads(self) -> int:
        return sum(1 for c in self.commands if c.kind == "read")

    @property
    def writes(self) -> int:
        return sum(1 for c in self.commands if c.kind == "write")

    def describe(self) -> str:
        head = (
            f"{self.cluster}: {len(self.planned)} change(s) planned, {self.writes} write(s), "
            f"{self.reads} read(s), {self.duration_s:.2f}s"
        )
        lines = [head]
        lines += [f"error: {e}" for e in self.errors]
        lines += [f"still differs after read-back: {d.describe()}" for d in self.differences]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "ok": self.ok,
            "planned": [c.describe() for c in self.planned],
            "differences": [c.describe() for c in self.differences],
            "errors": list(self.errors),
            "duration_s": self.duration_s,
            "commands": [c.to_dict() for c in self.commands],
        }


def scope_names(desired: Iterable[Desired]) -> set[str]:
    """Accounts a reconcile has to read: the desired ones and their parents."""
    names: set[str] = set()
    for item in desired:
        names.add(item.name)
        if isinstance(item, DesiredAccount) and item.parent != ROOT:
            names.add(item.parent)
    return names


class SlurmBackend(ABC):
    """Pushes desired accounts to one Slurm accounting database.

    Not thread-safe: a backend keeps a journal of the commands it runs; build one per task
    (construction is cheap, see ``get_backend``).
    """

    kind: ClassVar[str]

    def __init__(self) -> None:
        self._journals: list[list[CommandRecord]] = []
        # what the running reconcile read just before apply (lets a backend skip a second read)
        self._snapshot: dict[str, ActualAccount] | None = None

    # ----------------------------------------------------------------------------- to implement
    @abstractmethod
    def read(self, cluster: str, names: set[str] | None = None) -> dict[str, ActualAccount]:
        """Account associations (with their users) of ``cluster``; one call for a full read."""

    @abstractmethod
    def _apply(self, cluster: str, changes: Sequence[Change], result: ApplyResult) -> None:
        """Run ``changes`` with as few calls as possible; raise SlurmCommandError to stop."""

    @abstractmethod
    def usage(self, cluster: str, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
        """{account: {"gpu_minutes": n, "cpu_minutes": n}} used so far, for accounts Slurm knows."""

    @abstractmethod
    def bootstrap(self, cluster: str, qos_specs: Sequence[QosSpec], parents: Sequence[Desired] = ()) -> ApplyResult:
        """Create or update the access-mode QOS and the parent accounts (idempotent)."""

    def _repair(
        self, cluster: str, desired: Sequence[Desired], names: set[str], differences: list[Change]
    ) -> list[Change]:
        """Hook for backends with a fallback; returns what still differs. Default: nothing."""
        return differences

    # ----------------------------------------------------------------------------- journal
    @contextmanager
    def recording(self) -> Iterator[list[CommandRecord]]:
        """Collect every command run inside the block (nested blocks all see them)."""
        journal: list[CommandRecord] = []
        self._journals.append(journal)
        try:
            yield journal
        finally:
            self._journals = [j for j in self._journals if j is not journal]

    def _record(self, record: CommandRecord) -> CommandRecord:
        for journal in self._journals:
            journal.append(record)
        return record

    # ----------------------------------------------------------------------------- template methods
    def apply(self, cluster: str, changes: Sequence[Change]) -> ApplyResult:
        cluster = validate_cluster_name(cluster)
        for change in changes:
            if change.cluster != cluster:
                raise SlurmValueError(f"change for {change.cluster} given to apply({cluster!r})")
        result = ApplyResult(cluster=cluster, changes=list(changes))
        if not changes:
            return result
        with self.recording() as journal:
            try:
                self._apply(cluster, changes, result)
            except SlurmCommandError as exc:
                result.errors.append(str(exc))
        result.commands = journal
        return result

    def drift(self, cluster: str, desired: Sequence[Desired]) -> list[Change]:
        """What a reconcile would change (one read, no write): for the periodic drift report."""
        cluster = validate_cluster_name(cluster)
        items = self._check_desired(cluster, desired)
        return plan_changes(items, {cluster: self.read(cluster, scope_names(items))})

    def compare(self, cluster: str, desired: Sequence[Desired]) -> tuple[list[Change], list[AccountField]]:
        """What a reconcile would change, and every compared setting beside it: one read, no write
        (the same read and the same planner as ``reconcile``), for the operator's site page."""
        cluster = validate_cluster_name(cluster)
        items = self._check_desired(cluster, desired)
        actual = {cluster: self.read(cluster, scope_names(items))}
        return plan_changes(items, actual), compare_fields(items, actual)

    def reconcile(self, cluster: str, desired: Sequence[Desired], *, raise_on_error: bool = True) -> ReconcileResult:
        """Read, plan, apply, read back and verify. Nothing to change = exactly one read.

        Raises SlurmReconcileError (carrying the result with every command) when a command
        failed or the read-back still differs, unless ``raise_on_error`` is false.
        """
        cluster = validate_cluster_name(cluster)
        items = self._check_desired(cluster, desired)
        names = scope_names(items)
        result = ReconcileResult(cluster=cluster)
        started = time.monotonic()
        cause: SlurmError | None = None
        with self.recording() as journal:
            try:
                actual = self.read(cluster, names)
                result.planned = plan_changes(items, {cluster: actual})
                if result.planned:
                    self._snapshot = actual
                    try:
                        applied = self.apply(cluster, result.planned)
                    finally:
                        self._snapshot = None
                    result.errors.extend(applied.errors)
                    after = self.read(cluster, names)
                    differences = plan_changes(items, {cluster: after})
                    if differences:
                        differences = self._repair(cluster, items, names, differences)
                    result.differences = differences
            except SlurmValueError:
                raise
            except SlurmError as exc:  # a read failed: still hand back what ran
                cause = exc
                result.errors.append(str(exc))
        result.commands = journal
        result.duration_s = time.monotonic() - started
        if raise_on_error and not result.ok:
            raise SlurmReconcileError(result) from cause
        return result

    @staticmethod
    def _check_desired(cluster: str, desired: Sequence[Desired]) -> list[Desired]:
        items = list(desired)
        for item in items:
            if item.cluster != cluster:
                raise SlurmValueError(f"{item.name} is desired on {item.cluster}, not on {cluster}")
        return items
