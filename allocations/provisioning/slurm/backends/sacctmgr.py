"""Backend driving sacctmgr and sshare as subprocesses (argument lists, never a shell)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..desired import DEFAULT_FAIRSHARE, ActualAccount, Desired, QosSpec
from ..errors import SlurmCommandError
from ..plan import SETTING_CHANGES, AddAccount, AddParent, AddUser, Change, RemoveUser, SetParent
from ..validation import validate_account_name, validate_cluster_name, validate_parent_name
from . import formats
from .base import ApplyResult, CommandKind, CommandRecord, Job, JobAction, SlurmBackend

# Keeps each argv well under ARG_MAX and each slurmdbd query reasonable.
NAMES_PER_CALL = 500


def _chunks(items: Sequence[str], size: int = NAMES_PER_CALL) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class SacctmgrBackend(SlurmBackend):
    """sacctmgr for accounts, sshare for usage, squeue/scontrol/scancel for the jobs of an account.

    ``command_prefix`` runs every command through e.g. ``("sudo", "-u", "slurmops", "--")``: the
    calling Linux user needs Slurm AdminLevel=Operator (or must be root/SlurmUser). Additions go
    through one ``sacctmgr load``, which needs AdminLevel=Administrator; when an Operator is refused
    (or ``use_load=False``) they are batched into grouped ``add account`` / ``add user`` commands.
    """

    kind = "sacctmgr"

    def __init__(
        self,
        *,
        sacctmgr: str = "sacctmgr",
        sshare: str = "sshare",
        squeue: str = "squeue",
        scontrol: str = "scontrol",
        scancel: str = "scancel",
        slurm_conf: str | None = None,
        timeout: float = 120.0,
        command_prefix: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        tmp_dir: str | None = None,
        use_load: bool = True,
    ) -> None:
        super().__init__()
        self.sacctmgr = sacctmgr
        self.sshare = sshare
        self.squeue = squeue
        self.scontrol = scontrol
        self.scancel = scancel
        self.slurm_conf = slurm_conf
        self.timeout = timeout
        self.command_prefix = tuple(command_prefix)
        self.env = dict(env or {})
        self.tmp_dir = tmp_dir
        self.use_load = use_load

    # ----------------------------------------------------------------------------- running
    def _environ(self) -> dict[str, str]:
        env = {**os.environ, **self.env, "LC_ALL": "C"}
        if self.slurm_conf:
            env["SLURM_CONF"] = self.slurm_conf
        return env

    def _run(
        self,
        kind: CommandKind,
        args: Sequence[str],
        *,
        exe: str | None = None,
        benign: Iterable[str] = (),
        input_text: str | None = None,
    ) -> CommandRecord:
        """Run one command and record it; rc=1 with a ``benign`` message counts as success."""
        argv = (*self.command_prefix, exe or self.sacctmgr, *args)
        started = time.monotonic()
        try:
            proc = subprocess.run(  # noqa: S603 - argument list from validated values
                argv,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=self._environ(),
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError as exc:
            rec = CommandRecord(kind, argv, 127, "", str(exc), time.monotonic() - started, input_text, False)
            self._record(rec)
            raise SlurmCommandError(f"{argv[0]} not found: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            rec = CommandRecord(
                kind,
                argv,
                -9,
                _text(exc.stdout),
                _text(exc.stderr),
                time.monotonic() - started,
                input_text,
                False,
            )
            self._record(rec)
            raise SlurmCommandError(f"timeout after {self.timeout}s: {' '.join(argv)}") from exc
        output = proc.stdout + proc.stderr
        ok = proc.returncode == 0 or (proc.returncode == 1 and any(b in output for b in benign))
        return self._record(
            CommandRecord(
                kind,
                argv,
                proc.returncode,
                proc.stdout,
                proc.stderr,
                time.monotonic() - started,
                input_text,
                ok,
            )
        )

    def _read_cmd(self, args: Sequence[str], *, exe: str | None = None) -> str:
        rec = self._run("read", args, exe=exe)
        if not rec.ok:
            raise SlurmCommandError(_failure(rec))
        return rec.stdout

    def _write(
        self, args: Sequence[str], *, benign: Iterable[str] = (), input_text: str | None = None
    ) -> CommandRecord:
        rec = self._run("write", args, benign=benign, input_text=input_text)
        if not rec.ok:
            raise SlurmCommandError(_failure(rec))
        return rec

    # ----------------------------------------------------------------------------- interface
    def read(self, cluster: str, names: set[str] | None = None) -> dict[str, ActualAccount]:
        cluster = validate_cluster_name(cluster)
        where = ["where", f"cluster={cluster}"]
        if names is None:
            return formats.parse_assoc(
                self._read_cmd(["-n", "-P", "show", "assoc", *where, formats.ASSOC_FORMAT]), cluster
            )
        wanted = sorted({validate_parent_name(n) for n in names})
        if not wanted:
            return {}
        if len(wanted) > NAMES_PER_CALL:
            # still one call: read the whole cluster and keep the wanted accounts
            accounts = self.read(cluster)
            return {n: a for n, a in accounts.items() if n in names}
        out = self._read_cmd(["-n", "-P", "show", "assoc", *where, "account=" + ",".join(wanted), formats.ASSOC_FORMAT])
        return formats.parse_assoc(out, cluster)

    def usage(self, cluster: str, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
        cluster = validate_cluster_name(cluster)
        names = sorted({validate_account_name(a) for a in accounts})
        used: dict[str, dict[str, int]] = {}
        for chunk in _chunks(names):
            out = self._read_cmd(
                ["-n", "-P", "-M", cluster, "-A", ",".join(chunk), "-o", formats.SSHARE_FORMAT], exe=self.sshare
            )
            used.update({a: u for a, u in formats.parse_sshare(out).items() if a in chunk})
        return used

    def bootstrap(self, cluster: str, qos_specs: Sequence[QosSpec], parents: Sequence[Desired] = ()) -> ApplyResult:
        cluster = validate_cluster_name(cluster)
        result = ApplyResult(cluster=cluster)
        with self.recording() as journal:
            try:
                self.check_qos(qos_specs)
                if parents:
                    sub = self.reconcile(cluster, parents, raise_on_error=False)
                    result.changes.extend(sub.planned)
                    result.errors.extend(sub.errors)
                    result.errors.extend(d.describe() for d in sub.differences)
            except SlurmCommandError as exc:
                result.errors.append(str(exc))
        result.commands = journal
        return result

    def _read_qos(self) -> dict[str, dict]:
        return formats.parse_qos(self._read_cmd(["-n", "-P", "show", "qos", formats.QOS_FORMAT]))

    def check_qos(self, qos_specs: Sequence[QosSpec], *, fix: bool = True) -> list[str]:
        if not qos_specs:
            return []
        seen = self._read_qos()
        found = [line for spec in qos_specs for line in formats.qos_differences(spec, seen.get(spec.name))]
        if not fix or not found:
            return found
        missing = sorted(s.name for s in qos_specs if s.name not in seen)
        if missing:
            self._write(["-i", "add", "qos", ",".join(missing)], benign=[formats.BENIGN_ADD])
        for spec in qos_specs:
            current = seen.get(spec.name)
            if not formats.qos_matches(spec, current):
                self._write(
                    ["-i", "modify", "qos", "where", f"name={spec.name}", "set", *formats.qos_settings(spec, current)],
                    benign=[formats.BENIGN_MODIFY],
                )
        after = self._read_qos()
        left = [line for spec in qos_specs for line in formats.qos_differences(spec, after.get(spec.name))]
        if left:
            raise SlurmCommandError("QOS still differ after the write: " + "; ".join(left))
        return found

    # ----------------------------------------------------------------------------- jobs
    def jobs(self, cluster: str, account: str) -> list[Job]:
        cluster = validate_cluster_name(cluster)
        account = validate_account_name(account)
        out = self._read_cmd(["-M", cluster, "-h", "-A", account, "-t", formats.SQUEUE_STATES,
                              "-o", formats.SQUEUE_FORMAT], exe=self.squeue)
        # -A also matches nothing else, but a job moved to another account between calls is not ours
        return [job for job in formats.parse_squeue(out) if job.account == account]

    def _job_command(self, cluster: str, action: JobAction, job_ids: Sequence[str]) -> None:
        for ids in _chunks(list(job_ids)):
            if action == "cancel":
                exe, args = self.scancel, ["-M", cluster, *ids]
            else:  # hold / release; an Operator's hold is an administrator's hold (JobHeldAdmin)
                exe, args = self.scontrol, ["-M", cluster, action, ",".join(ids)]
            rec = self._run("write", args, exe=exe)
            if not rec.ok and not _only_gone_jobs(rec):
                raise SlurmCommandError(_failure(rec))

    # ----------------------------------------------------------------------------- apply
    def _apply(self, cluster: str, changes: Sequence[Change], result: ApplyResult) -> None:
        adds = [c for c in changes if isinstance(c, AddParent | AddAccount | AddUser)]
        if adds:
            self._load(cluster, adds)
        moves: dict[str, list[str]] = defaultdict(list)
        settings: dict[str, list[str]] = defaultdict(list)
        for ch in changes:
            if isinstance(ch, SetParent):
                moves[ch.parent].append(ch.name)
            elif isinstance(ch, SETTING_CHANGES):
                settings[ch.name] += formats.modify_settings(ch)
        for parent, names in sorted(moves.items()):
            self._modify_accounts(cluster, names, [f"parent={parent}"])
        # accounts needing the very same settings share one command (e.g. a batch of blocks)
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for name, args in settings.items():
            groups[tuple(args)].append(name)
        for args, names in sorted(groups.items()):
            self._modify_accounts(cluster, names, list(args))
        removals = [c for c in changes if isinstance(c, RemoveUser)]
        if removals:
            self._remove_users(cluster, removals)

    def _load(self, cluster: str, adds: Sequence[Change]) -> None:
        """All additions in one ``sacctmgr load`` (see formats.render_load_file for the limits)."""
        typed = any(":" in tres for ch in adds if isinstance(ch, AddAccount) for tres, _ in (*ch.limits, *ch.grp_tres))
        if not self.use_load or typed:  # a load file splits on ":", as in gres/gpu:h100
            self._add_grouped(cluster, adds)
            return
        text = formats.render_load_file(cluster, adds)
        with tempfile.NamedTemporaryFile("w", prefix="aif-sacctmgr-", suffix=".cfg", dir=self.tmp_dir) as fh:
            fh.write(text)
            fh.flush()
            # not secret, and must be readable when command_prefix switches user
            os.chmod(fh.name, 0o644)
            rec = self._run("write", ["-i", "load", f"file={fh.name}"], benign=[formats.BENIGN_ADD], input_text=text)
        if rec.ok:
            return
        if formats.LOAD_REFUSAL in rec.stdout + rec.stderr:
            self.use_load = False  # an Operator, not an Administrator: do not try again
            self._add_grouped(cluster, adds)
            return
        raise SlurmCommandError(_failure(rec))

    def _add_grouped(self, cluster: str, adds: Sequence[Change]) -> None:
        """Additions without ``load``: accounts sharing every setting, users sharing accounts, per command."""
        accounts: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for ch in adds:
            if isinstance(ch, AddParent):
                key = ("0", "root", f"Description={ch.description}", f"Organization={ch.organization}",
                       *([f"Fairshare={ch.fairshare}"] if ch.fairshare != DEFAULT_FAIRSHARE else []))
            elif isinstance(ch, AddAccount):
                key = ("1", ch.parent, f"Description={ch.description}", f"Organization={ch.organization}",
                       *formats.account_settings(ch))
            else:
                continue
            accounts[key].append(ch.name)
        for key, names in sorted(accounts.items()):  # parents ("0") before their children ("1")
            for chunk in _chunks(sorted(names)):
                self._write(
                    ["-i", "add", "account", ",".join(chunk), f"cluster={cluster}", f"parent={key[1]}", *key[2:]],
                    benign=[formats.BENIGN_ADD],
                )
        by_account: dict[tuple[str, str], set[str]] = defaultdict(set)
        for ch in adds:
            if isinstance(ch, AddUser):
                by_account[(ch.account, ch.partition)].add(ch.user)
        groups: dict[tuple[frozenset[str], str], list[str]] = defaultdict(list)
        for (account, partition), users in by_account.items():
            groups[(frozenset(users), partition)].append(account)
        for (users, partition), group in sorted(groups.items(), key=lambda g: (sorted(g[1]), g[0][1])):
            self._write(
                [
                    "-i",
                    "add",
                    "user",
                    ",".join(sorted(users)),
                    "account=" + ",".join(sorted(group)),
                    f"cluster={cluster}",
                    *([f"partition={partition}"] if partition else []),
                ],
                benign=[formats.BENIGN_ADD],
            )

    def _modify_accounts(self, cluster: str, names: Sequence[str], settings: Sequence[str]) -> None:
        for chunk in _chunks(sorted(names)):
            self._write(
                ["-i", "modify", "account", "where", "name=" + ",".join(chunk), f"cluster={cluster}", "set", *settings],
                benign=[formats.BENIGN_MODIFY],
            )

    def _remove_users(self, cluster: str, removals: Sequence[RemoveUser]) -> None:
        by_account: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        for ch in removals:
            by_account[(ch.account, ch.partition)].add(ch.user)
        # accounts losing the same users (in the same partition) share one command (the where clause is a
        # cross product)
        groups: dict[tuple[frozenset[str], str | None], list[str]] = defaultdict(list)
        for (account, partition), users in by_account.items():
            groups[(frozenset(users), partition)].append(account)
        for (users, partition), accounts in sorted(groups.items(), key=lambda g: (sorted(g[1]), g[0][1] or "")):
            args = self._delete_args(cluster, sorted(users), sorted(accounts), partition)
            rec = self._run("write", args, benign=[formats.BENIGN_DELETE])
            if rec.ok:
                continue
            # the whole command is discarded if one association is a user's default account
            for account in sorted(accounts):
                for user in sorted(users):
                    self._remove_one(cluster, account, user, partition)

    def _delete_args(self, cluster: str, users: Sequence[str], accounts: Sequence[str],
                     partition: str | None = None) -> list[str]:
        """``partition`` None: every association of the users in the accounts; "" only the one that names no
        partition (``partition=`` with nothing after it, as sacctmgr 22.05 reads it)."""
        return [
            "-i",
            "delete",
            "user",
            "where",
            "name=" + ",".join(users),
            "account=" + ",".join(accounts),
            f"cluster={cluster}",
            *([] if partition is None else [f"partition={partition}"]),
        ]

    def _remove_one(self, cluster: str, account: str, user: str, partition: str | None = None) -> None:
        args = self._delete_args(cluster, [user], [account], partition)
        rec = self._run("write", args, benign=[formats.BENIGN_DELETE])
        if rec.ok:
            return
        if formats.DEFAULT_ACCOUNT_REFUSAL not in (rec.stdout + rec.stderr):
            raise SlurmCommandError(_failure(rec))
        # sacctmgr refuses to remove a user's default account while others remain: move the
        # default to another of the user's accounts on this cluster, then retry
        out = self._read_cmd(
            ["-n", "-P", "show", "assoc", "where", f"user={user}", f"cluster={cluster}", "format=account"]
        )
        others = sorted({line.strip() for line in out.splitlines() if line.strip()} - {account})
        if not others:
            raise SlurmCommandError(_failure(rec))
        self._write(
            [
                "-i",
                "modify",
                "user",
                "where",
                f"name={user}",
                f"cluster={cluster}",
                "set",
                f"DefaultAccount={others[0]}",
            ]
        )
        self._write(args, benign=[formats.BENIGN_DELETE])


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _only_gone_jobs(rec: CommandRecord) -> bool:
    """Every complaint is about a job that ended (or started) since squeue listed it."""
    lines = [line for line in (rec.stdout + rec.stderr).splitlines() if line.strip()]
    return bool(lines) and all(any(gone in line for gone in formats.JOB_GONE) for line in lines)


def _failure(rec: CommandRecord) -> str:
    output = (rec.stdout + rec.stderr).strip().replace("\n", " | ")
    return f"`{' '.join(rec.argv)}` exited {rec.returncode}: {output[-500:]}"
