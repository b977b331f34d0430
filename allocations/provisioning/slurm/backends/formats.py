"""Everything that depends on the Slurm version: CLI output formats, load files, REST JSON.

Written against Slurm 22.05.8 (Debian 12): sacctmgr/sshare ``-n -P`` output and slurmdbd REST
plugin v0.0.38. A newer site adds its own module beside this one; nothing else parses Slurm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..desired import TRES_CPU, TRES_GPU, ActualAccount, QosSpec
from ..errors import SlurmParseError
from ..plan import AddAccount, AddParent, AddUser, Change
from .base import Job

SLURM_VERSION = "22.05"

# --------------------------------------------------------------------------------- sacctmgr / sshare

ASSOC_FIELDS = ("account", "user", "partition", "parentname", "grptresmins", "grpsubmit", "qos", "defaultqos",
                "grpjobs")
ASSOC_FORMAT = "format=" + ",".join(ASSOC_FIELDS)
QOS_FIELDS = ("name", "description", "maxtres", "maxwall", "priority", "flags")
QOS_FORMAT = "format=" + ",".join(QOS_FIELDS)
SSHARE_FORMAT = "account,user,grptresraw"
# squeue: job id, account, user, state (long), reason
SQUEUE_FORMAT = "%i|%a|%u|%T|%r"
SQUEUE_STATES = "PENDING,RUNNING,CONFIGURING,SUSPENDED,STOPPED,SIGNALING"

# rc=1 with these messages means "already in the desired state"
BENIGN_ADD = "Nothing new added"
BENIGN_DELETE = "Nothing deleted"
BENIGN_MODIFY = "Nothing modified"
DEFAULT_ACCOUNT_REFUSAL = "can not remove the default account"
# `sacctmgr load` needs AdminLevel=Administrator; an Operator gets this message
LOAD_REFUSAL = "does not have sufficient privileges to load"
# scontrol hold/release and scancel of a job that ended or started in the meantime: nothing to do
JOB_GONE = ("already completing or completed", "Job has already finished", "Invalid job id specified",
            "Job is no longer pending execution", "Job/step already completing")


# sacctmgr prints memory-like TRES with a unit suffix (GrpTRESMins=mem=5M); base unit is MB
_UNITS = {"": 1.0, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0**2, "P": 1024.0**3}
_TRES_VALUE = re.compile(r"(\d+(?:\.\d+)?)([KMGTP]?)")


def parse_tres(text: str) -> dict[str, int]:
    """``cpu=6000,gres/gpu=600`` -> {"cpu": 6000, "gres/gpu": 600}; empty -> {}."""
    out: dict[str, int] = {}
    for part in filter(None, text.strip().split(",")):
        key, sep, value = part.partition("=")
        match = _TRES_VALUE.fullmatch(value)
        if not sep or not key or not match:
            raise SlurmParseError(f"bad TRES item {part!r} in {text!r}")
        out[key] = int(float(match.group(1)) * _UNITS[match.group(2)])
    return out


def format_tres(limits: Iterable[tuple[str, int]] | Mapping[str, int]) -> str:
    pairs = limits.items() if isinstance(limits, Mapping) else limits
    return ",".join(f"{k}={v}" for k, v in pairs)


def _split_rows(text: str, width: int, what: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cells = line.split("|")
        if len(cells) != width:
            raise SlurmParseError(f"{what}: expected {width} fields, got {len(cells)} in {line!r}")
        rows.append(cells)
    return rows


def parse_assoc(text: str, cluster: str) -> dict[str, ActualAccount]:
    """Parse ``sacctmgr -n -P show assoc ... format=ASSOC_FIELDS`` into accounts with their users."""
    accounts: dict[str, dict[str, Any]] = {}
    users: dict[str, set[str]] = {}
    for account, user, partition, parent, grptresmins, grpsubmit, qos, defqos, grpjobs in _split_rows(
        text, len(ASSOC_FIELDS), "show assoc"
    ):
        if user:
            users.setdefault(account, set()).add(user)
            continue
        if partition:  # partition-specific account associations are not ours
            continue
        accounts[account] = {
            "parent": parent,
            "limits": parse_tres(grptresmins),
            "grp_submit_jobs": _count(grpsubmit, "GrpSubmit", account),
            "grp_jobs": _count(grpjobs, "GrpJobs", account),
            "qos": frozenset(filter(None, qos.split(","))),
            "default_qos": defqos or None,
        }
    return {
        name: ActualAccount(cluster=cluster, name=name, users=frozenset(users.get(name, ())), **fields)
        for name, fields in accounts.items()
    }


def _count(text: str, what: str, account: str) -> int | None:
    try:
        return int(text) if text else None
    except ValueError as exc:
        raise SlurmParseError(f"bad {what} {text!r} for {account}") from exc


def parse_sshare(text: str) -> dict[str, dict[str, int]]:
    """Account rows of ``sshare -n -P -M C -A ... -o account,user,grptresraw``.

    GrpTRESRaw is TRES-minutes used (whole minutes, truncated). ``-M`` adds a ``CLUSTER: x`` line;
    sub-accounts and user rows are indented with spaces.
    """
    usage: dict[str, dict[str, int]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("CLUSTER:"):
            continue
        cells = line.split("|")
        if len(cells) != 3:
            raise SlurmParseError(f"sshare: expected 3 fields in {line!r}")
        account, user, raw = (c.strip() for c in cells)
        if user or account == "Account":
            continue
        tres = parse_tres(raw)
        usage[account] = {"gpu_minutes": tres.get(TRES_GPU, 0), "cpu_minutes": tres.get(TRES_CPU, 0)}
    return usage


def parse_squeue(text: str) -> list[Job]:
    """``squeue -M C -h -A acct -o SQUEUE_FORMAT``: one job per line (``CLUSTER:`` lines skipped)."""
    jobs = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("CLUSTER:"):
            continue
        cells = line.split("|")
        if len(cells) != 5:
            raise SlurmParseError(f"squeue: expected 5 fields in {line!r}")
        job_id, account, user, state, reason = (c.strip() for c in cells)
        jobs.append(Job(job_id=job_id, account=account, user=user, state=state, reason=reason))
    return jobs


def parse_duration_minutes(text: str) -> int | None:
    """``[D-]HH:MM:SS`` / ``MM:SS`` as printed for MaxWall -> whole minutes; empty -> None."""
    text = text.strip()
    if not text or text.upper() in ("UNLIMITED", "INFINITE"):
        return None
    days, _, clock = text.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts
    return (int(days or 0) * 24 + hours) * 60 + minutes + (1 if seconds else 0)


def parse_qos(text: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, description, maxtrespj, maxwall, priority, flags in _split_rows(text, len(QOS_FIELDS), "show qos"):
        out[name] = {
            "description": description,
            "max_tres_per_job": parse_tres(maxtrespj),
            "max_wall_minutes": parse_duration_minutes(maxwall),
            "priority": int(priority or 0),
            "flags": frozenset(filter(None, flags.split(","))),
        }
    return out


def qos_differences(spec: QosSpec, seen: Mapping[str, Any] | None) -> list[str]:
    """What differs between the QOS the portal wants and the one Slurm holds, as readable lines.

    Flags: the portal requires its own (``spec.flags``) and leaves any other flag the site set."""
    if seen is None:
        return [f"QOS {spec.name} is missing"]
    found = []
    if seen["max_tres_per_job"] != dict(spec.max_tres_per_job):
        found.append(f"QOS {spec.name}: MaxTRESPerJob {format_tres(seen['max_tres_per_job']) or 'none'}, "
                     f"wanted {format_tres(spec.max_tres_per_job) or 'none'}")
    if seen["max_wall_minutes"] != spec.max_wall_minutes:
        found.append(f"QOS {spec.name}: MaxWall {seen['max_wall_minutes']} min, wanted {spec.max_wall_minutes} min")
    if seen["priority"] != spec.priority:
        found.append(f"QOS {spec.name}: Priority {seen['priority']}, wanted {spec.priority}")
    if seen["description"].lower() != spec.description.lower():
        found.append(f"QOS {spec.name}: description {seen['description']!r}, wanted {spec.description.lower()!r}")
    missing = sorted(spec.flags - seen.get("flags", frozenset()))
    if missing:
        found.append(f"QOS {spec.name}: flag {','.join(missing)} missing")
    return found


def qos_matches(spec: QosSpec, seen: Mapping[str, Any] | None) -> bool:
    return not qos_differences(spec, seen)


def qos_settings(spec: QosSpec, seen: Mapping[str, Any] | None) -> list[str]:
    """``set`` arguments for ``sacctmgr modify qos``; clears TRES limits no longer wanted and adds the
    required flags (``Flags+=``: the site's other flags stay)."""
    tres = {k: -1 for k in (seen or {}).get("max_tres_per_job", {})}
    tres.update(spec.max_tres_per_job)
    args = [f"Description={spec.description}", f"Priority={spec.priority}"]
    args.append(f"MaxWall={spec.max_wall_minutes if spec.max_wall_minutes is not None else -1}")
    if tres:
        args.append(f"MaxTRESPerJob={format_tres(sorted(tres.items()))}")
    missing = sorted(spec.flags - (seen or {}).get("flags", frozenset()))
    if missing:
        args.append(f"Flags+={','.join(missing)}")
    return args


def _quote(value: str) -> str:
    # values are validated (no quote, colon, newline) before they get here
    return f"'{value}'"


def render_load_file(cluster: str, changes: Sequence[Change]) -> str:
    """A ``sacctmgr load`` file holding only additions (new accounts and user associations).

    Never used to modify: in 22.05.8 ``load`` prints "Changed GrpTRESMins ..." and can apply
    nothing when the same file also adds associations. User lines carry no DefaultAccount so an
    existing user's default account is not switched; a new user gets the parent as default.
    """
    lines = [f"Cluster - {_quote(cluster)}"]
    by_parent: dict[str, list[str]] = {}
    for ch in changes:
        if isinstance(ch, AddParent):
            by_parent.setdefault("root", []).append(
                f"Account - {_quote(ch.name)}:Description={_quote(ch.description)}"
                f":Organization={_quote(ch.organization)}"
            )
        elif isinstance(ch, AddAccount):
            line = (
                f"Account - {_quote(ch.name)}:Description={_quote(ch.description)}"
                f":Organization={_quote(ch.organization)}"
            )
            if ch.limits:
                line += f":GrpTRESMins={format_tres(ch.limits)}"
            if ch.blocked:
                line += ":GrpSubmitJobs=0:GrpJobs=0"
            if ch.qos:
                line += f":QOS={_quote(ch.qos)}:DefaultQOS={_quote(ch.qos)}"
            by_parent.setdefault(ch.parent, []).append(line)
    users: dict[str, list[str]] = {}
    for ch in changes:
        if isinstance(ch, AddUser):
            users.setdefault(ch.account, []).append(f"User - {_quote(ch.user)}")
    # parents first: root's children, then the other parents in the order they were created
    for parent in sorted(by_parent, key=lambda p: (p != "root", p)):
        lines.append(f"Parent - {_quote(parent)}")
        lines.extend(by_parent[parent])
    for account in sorted(users):
        lines.append(f"Parent - {_quote(account)}")
        lines.extend(sorted(users[account]))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------- slurmrestd v0.0.38

REST_API = "v0.0.38"


def rest_tres_list(limits: Iterable[tuple[str, int]] | Mapping[str, int]) -> list[dict[str, Any]]:
    pairs = limits.items() if isinstance(limits, Mapping) else limits
    out = []
    for tres, count in pairs:
        kind, _, name = tres.partition("/")
        out.append({"type": kind, "name": name, "count": count} if name else {"type": kind, "count": count})
    return out


def _rest_tres_dict(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    out = {}
    for item in items or ():
        key = item["type"] + (f"/{item['name']}" if item.get("name") else "")
        out[key] = int(item["count"])
    return out


def parse_rest_associations(payload: Mapping[str, Any], cluster: str) -> dict[str, ActualAccount]:
    """GET /slurmdb/v0.0.38/associations?cluster=C -> accounts with their users.

    22.05 quirk: GrpSubmitJobs is ``max.jobs.per.submitted`` and GrpJobs ``max.jobs.per.count``.
    """
    if payload.get("errors"):
        raise SlurmParseError(f"slurmrestd errors: {payload['errors']}")
    accounts: dict[str, dict[str, Any]] = {}
    users: dict[str, set[str]] = {}
    for assoc in payload.get("associations") or ():
        if assoc.get("cluster") != cluster:
            continue
        name = assoc["account"]
        if assoc.get("user"):
            users.setdefault(name, set()).add(assoc["user"])
            continue
        if assoc.get("partition"):
            continue
        limits = (((assoc.get("max") or {}).get("tres") or {}).get("group") or {}).get("minutes")
        per = (((assoc.get("max") or {}).get("jobs") or {}).get("per") or {})
        accounts[name] = {
            "parent": assoc.get("parent_account") or "",
            "limits": _rest_tres_dict(limits or ()),
            "grp_submit_jobs": per.get("submitted"),
            "grp_jobs": per.get("count"),
            "qos": frozenset(assoc.get("qos") or ()),
            "default_qos": (assoc.get("default") or {}).get("qos") or None,
        }
    return {
        name: ActualAccount(cluster=cluster, name=name, users=frozenset(users.get(name, ())), **fields)
        for name, fields in accounts.items()
    }


def rest_account_assoc(
    cluster: str,
    name: str,
    *,
    limits: Iterable[tuple[str, int]],
    blocked: bool,
    parent: str | None = None,
    qos: str | None = None,
) -> dict[str, Any]:
    """An account association body. Always carries a full ``max`` with TRES minutes: 22.05.8's
    slurmrestd crashes on an association update without them."""
    body: dict[str, Any] = {
        "account": name,
        "cluster": cluster,
        "user": None,
        "max": {
            "jobs": {"per": {"submitted": 0 if blocked else -1, "count": 0 if blocked else -1}},
            "tres": {"group": {"minutes": rest_tres_list(limits)}},
        },
    }
    if parent:
        body["parent_account"] = parent
    if qos:
        body["qos"] = [qos]
        body["default"] = {"qos": qos}
    return body


def parse_rest_privileged_users(payload: Mapping[str, Any]) -> set[str]:
    """GET /slurmdb/v0.0.38/users -> names of the users with an AdminLevel (Operator, Administrator)."""
    if payload.get("errors"):
        raise SlurmParseError(f"slurmrestd errors: {payload['errors']}")
    return {
        user["name"]
        for user in payload.get("users") or ()
        if user.get("name")
        and (user.get("administrator_level") or "None") not in ("None", "Not Set")
        and "DELETED" not in (user.get("flags") or ())
    }
