"""The backend interface and the reconcile template method (read -> plan -> apply -> read back)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from ..desired import ROOT, ActualAccount, Desired, DesiredAccount, QosSpec
from ..errors import SlurmCommandError, SlurmError, SlurmReconcileError, SlurmUnsupportedError, SlurmValueError
from ..plan import AccountField, Change, compare_fields, plan_changes
from ..validation import validate_account_name, validate_cluster_name, validate_job_id

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


# Job states (squeue %T) as the job control sees them; anything else (completing, ended) is left alone.
PENDING = "PENDING"
RUNNING_STATES = frozenset({"RUNNING", "CONFIGURING", "SUSPENDED", "STOPPED", "SIGNALING"})
# squeue reasons of a held job: by an administrator (the portal's holds) or by its owner
HELD_BY_ADMIN = "JobHeldAdmin"
HELD_BY_USER = "JobHeldUser"


@dataclass(frozen=True)
class Job:
    """One job of an account as squeue shows it."""

    job_id: str
    account: str
    user: str
    state: str
    reason: str = ""

    @property
    def pending(self) -> bool:
        return self.state == PENDING

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


JobAction = Literal["hold", "release", "cancel"]


@dataclass
class JobControlResult:
    """What one job-control step did to the jobs of one account.

    ``job_ids`` are the jobs acted on (for ``cancel``, ``running_ids`` are those of them that were
    running). ``intended`` is true when the backend only recorded the intention (no Slurm to act on)."""

    cluster: str
    account: str
    action: JobAction
    job_ids: list[str] = field(default_factory=list)
    running_ids: list[str] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    intended: bool = False


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

    @abstractmethod
    def check_qos(self, qos_specs: Sequence[QosSpec], *, fix: bool = True) -> list[str]:
        """What differs between the access-mode QOS and what Slurm holds (read before any write, as
        readable lines); with ``fix`` the differences are written and read back."""

    def _repair(
        self, cluster: str, desired: Sequence[Desired], names: set[str], differences: list[Change]
    ) -> list[Change]:
        """Hook for backends with a fallback; returns what still differs. Default: nothing."""
        return differences

    # ----------------------------------------------------------------------------- job control
    # Suspension, revocation and expiry act on the jobs already queued or running, not only on new
    # submissions. A backend that reaches the controller implements the three primitives below; the
    # others refuse with SlurmUnsupportedError (or, like the record backend, override the steps).

    def jobs(self, cluster: str, account: str) -> list[Job]:
        """The pending and running jobs of ``account`` on ``cluster`` (one call)."""
        raise SlurmUnsupportedError(f"the {self.kind} backend cannot list jobs")

    def _job_command(self, cluster: str, action: JobAction, job_ids: Sequence[str]) -> None:
        """Hold, release or cancel these jobs (as few calls as possible); a job that ended meanwhile is
        not an error."""
        raise SlurmUnsupportedError(f"the {self.kind} backend cannot {action} jobs")

    def _job_step(self, cluster: str, account: str, action: JobAction, pick) -> JobControlResult:
        cluster = validate_cluster_name(cluster)
        account = validate_account_name(account)
        result = JobControlResult(cluster=cluster, account=account, action=action)
        with self.recording() as journal:
            chosen = [job for job in self.jobs(cluster, account) if pick(job)]
            result.job_ids = [validate_job_id(job.job_id) for job in chosen]
            result.running_ids = [job.job_id for job in chosen if job.running]
            if chosen:
                self._job_command(cluster, action, result.job_ids)
        result.commands = journal
        return result

    def hold_pending(self, cluster: str, account: str) -> JobControlResult:
        """Hold every pending job of the account that nobody holds yet (suspension). Held jobs keep
        their place and show ``JobHeldAdmin``; their owners cannot release them."""
        return self._job_step(cluster, account, "hold",
                              lambda job: job.pending and job.reason not in (HELD_BY_ADMIN, HELD_BY_USER))

    def release(self, cluster: str, account: str, job_ids: Iterable[str]) -> JobControlResult:
        """Release those of ``job_ids`` (the portal's own holds) that are still held (resumption)."""
        wanted = {validate_job_id(job_id) for job_id in job_ids}
        return self._job_step(cluster, account, "release",
                              lambda job: job.job_id in wanted and job.pending and job.reason == HELD_BY_ADMIN)

    def cancel(self, cluster: str, account: str, *, running: bool) -> JobControlResult:
        """Cancel the account's pending jobs, and its running ones when ``running`` (revocation, expiry)."""
        return self._job_step(cluster, account, "cancel", lambda job: job.pending or (running and job.running))

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
