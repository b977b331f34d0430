"""Everything that depends on the Slurm version: CLI output formats, load files, REST JSON.

Written against Slurm 22.05.8 (Debian 12): sacctmgr/sshare ``-n -P`` output and slurmdbd REST
plugin v0.0.38. A newer site adds its own module beside this one; nothing else parses Slurm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..desired import DEFAULT_FAIRSHARE, TRES_CPU, TRES_GPU, ActualAccount, QosSpec
from ..errors import SlurmParseError
from ..plan import (
    AddAccount,
    AddParent,
    AddUser,
    Change,
    SetBlocked,
    SetFairshare,
    SetGrpTres,
    SetLimits,
    SetMaxJobs,
    SetMaxWall,
    SetParent,
    SetQos,
)
from .base import Job

SLURM_VERSION = "22.05"

# --------------------------------------------------------------------------------- sacctmgr / sshare

ASSOC_FIELDS = ("account", "user", "partition", "parentname", "grptresmins", "grpsubmit", "qos", "defaultqos",
                "grpjobs", "grptres", "maxjobs", "maxwall", "fairshare")
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
    users: dict[str, set[tuple[str, str]]] = {}
    for (account, user, partition, parent, grptresmins, grpsubmit, qos, defqos, grpjobs, grptres, maxjobs, maxwall,
         fairshare) in _split_rows(text, len(ASSOC_FIELDS), "show assoc"):
        if user:
            users.setdefault(account, set()).add((user, partition))
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
            "grp_tres": parse_tres(grptres),
            "max_jobs": _count(maxjobs, "MaxJobs", account),
            "max_wall_minutes": parse_duration_minutes(maxwall),
            "fairshare": _shares(fairshare, account),
        }
    return {name: _actual(cluster, name, users.get(name, set()), fields) for name, fields in accounts.items()}


def _actual(cluster: str, name: str, pairs: set[tuple[str, str]], fields: dict[str, Any]) -> ActualAccount:
    """An account as read, with its user associations ((user, partition), "" where it names none) where one
    names a partition (otherwise the users say it all: ActualAccount.user_associations)."""
    partitioned = any(partition for _user, partition in pairs)
    return ActualAccount(cluster=cluster, name=name, users=frozenset(user for user, _p in pairs),
                         user_partitions=frozenset(pairs) if partitioned else frozenset(), **fields)


def _count(text: str, what: str, account: str) -> int | None:
    try:
        return int(text) if text else None
    except ValueError as exc:
        raise SlurmParseError(f"bad {what} {text!r} for {account}") from exc


def _shares(text: str, account: str) -> int | None:
    """sacctmgr's Fairshare column: a number of shares, or ``parent`` (None here)."""
    text = text.strip()
    if text.lower() == "parent":
        return None
    if not text:
        return DEFAULT_FAIRSHARE
    return _count(text, "Fairshare", account)


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


def account_settings(change: AddAccount) -> list[str]:
    """The settings of a new account association, as ``key=value`` arguments (grouped ``add account``,
    hand-over lines; the load file writes the same keys). Nothing the portal leaves unset is written."""
    args = []
    if change.limits:
        args.append(f"GrpTRESMins={format_tres(change.limits)}")
    if change.grp_tres:
        args.append(f"GrpTRES={format_tres(change.grp_tres)}")
    if change.blocked:
        args += ["GrpSubmitJobs=0", "GrpJobs=0"]
    if change.max_jobs is not None:
        args.append(f"MaxJobs={change.max_jobs}")
    if change.max_wall_minutes is not None:
        args.append(f"MaxWall={change.max_wall_minutes}")
    if change.qos_list:
        args += [f"QOS={','.join(change.qos_list)}", f"DefaultQOS={change.effective_default_qos}"]
    if change.fairshare != DEFAULT_FAIRSHARE:
        args.append(f"Fairshare={change.fairshare}")
    return args


def modify_settings(change: Change) -> list[str]:
    """The ``set`` arguments of ``sacctmgr modify account`` that apply one setting change."""
    if isinstance(change, SetParent):
        return [f"parent={change.parent}"]
    if isinstance(change, SetLimits):
        return [f"GrpTRESMins={format_tres(change.limits)}"]
    if isinstance(change, SetGrpTres):
        return [f"GrpTRES={format_tres(change.tres)}"]
    if isinstance(change, SetBlocked):
        value = 0 if change.blocked else -1
        return [f"GrpSubmitJobs={value}", f"GrpJobs={value}"]
    if isinstance(change, SetQos):
        return [f"QOS={','.join(change.qos_list)}", f"DefaultQOS={change.effective_default_qos}"]
    if isinstance(change, SetMaxJobs):
        return [f"MaxJobs={-1 if change.max_jobs is None else change.max_jobs}"]
    if isinstance(change, SetMaxWall):
        return [f"MaxWall={-1 if change.max_wall_minutes is None else change.max_wall_minutes}"]
    if isinstance(change, SetFairshare):
        return [f"Fairshare={change.fairshare}"]
    raise TypeError(f"not a setting change: {change!r}")


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
            line = (
                f"Account - {_quote(ch.name)}:Description={_quote(ch.description)}"
                f":Organization={_quote(ch.organization)}"
            )
            if ch.fairshare != DEFAULT_FAIRSHARE:
                line += f":Fairshare={ch.fairshare}"
            by_parent.setdefault("root", []).append(line)
        elif isinstance(ch, AddAccount):
            line = (
                f"Account - {_quote(ch.name)}:Description={_quote(ch.description)}"
                f":Organization={_quote(ch.organization)}"
            )
            for arg in account_settings(ch):
                key, _, value = arg.partition("=")
                # QOS lists hold commas: quoted like the other names
                line += f":{key}={_quote(value) if key in ('QOS', 'DefaultQOS') else value}"
            by_parent.setdefault(ch.parent, []).append(line)
    users: dict[str, list[str]] = {}
    for ch in changes:
        if isinstance(ch, AddUser):
            partition = f":Partition={_quote(ch.partition)}" if ch.partition else ""
            users.setdefault(ch.account, []).append(f"User - {_quote(ch.user)}{partition}")
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
    users: dict[str, set[tuple[str, str]]] = {}
    for assoc in payload.get("associations") or ():
        if assoc.get("cluster") != cluster:
            continue
        name = assoc["account"]
        if assoc.get("user"):
            users.setdefault(name, set()).add((assoc["user"], assoc.get("partition") or ""))
            continue
        if assoc.get("partition"):
            continue
        top = assoc.get("max") or {}
        limits = ((top.get("tres") or {}).get("group") or {}).get("minutes")
        jobs = top.get("jobs") or {}
        per = jobs.get("per") or {}
        accounts[name] = {
            "parent": assoc.get("parent_account") or "",
            "limits": _rest_tres_dict(limits or ()),
            "grp_submit_jobs": per.get("submitted"),
            "grp_jobs": per.get("count"),
            "qos": frozenset(assoc.get("qos") or ()),
            "default_qos": (assoc.get("default") or {}).get("qos") or None,
            # 22.05: GrpTRES is max.tres.total, MaxJobs max.jobs.active, MaxWall max.jobs.per.wall_clock
            "grp_tres": _rest_tres_dict((top.get("tres") or {}).get("total") or ()),
            "max_jobs": jobs.get("active"),
            "max_wall_minutes": per.get("wall_clock"),
            "fairshare": _rest_shares(assoc.get("shares_raw")),
            "site_tres": _rest_site_tres(top.get("tres") or {}),
        }
    return {name: _actual(cluster, name, users.get(name, set()), fields) for name, fields in accounts.items()}


# TRES lists of an association the portal does not own, by their place under max.tres (22.05: per.job is
# MaxTRES, per.node MaxTRESPerNode, minutes.per.job MaxTRESMins, group.active GrpTRESRunMins)
REST_SITE_TRES = ("per.job", "per.node", "minutes.per.job", "minutes.total", "group.active")


def _rest_site_tres(tres: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    out = {}
    for place in REST_SITE_TRES:
        node: Any = tres
        for key in place.split("."):
            node = (node or {}).get(key) if isinstance(node, Mapping) else None
        if node:
            out[place] = _rest_tres_dict(node)
    return out


# shares_raw of an association whose Fairshare is "parent" (SLURMDB_FS_USE_PARENT)
REST_SHARES_PARENT = 0x7FFFFFFF


def _rest_shares(value: Any) -> int | None:
    if value is None:
        return DEFAULT_FAIRSHARE
    return None if int(value) == REST_SHARES_PARENT else int(value)


def rest_account_assoc(
    cluster: str,
    name: str,
    *,
    limits: Iterable[tuple[str, int]],
    blocked: bool,
    parent: str | None = None,
    qos: Sequence[str] = (),
    default_qos: str | None = None,
    grp_tres: Iterable[tuple[str, int]] = (),
    max_jobs: int | None = None,
    max_wall_minutes: int | None = None,
    fairshare: int = DEFAULT_FAIRSHARE,
) -> dict[str, Any]:
    """An account association body with every setting the portal owns (MaxJobs or MaxWall None is written as
    -1: unset). Always carries a full ``max`` with TRES minutes: 22.05.8's slurmrestd crashes on an
    association update without them, or with an empty list of them (or of GrpTRES)."""
    body: dict[str, Any] = {
        "account": name,
        "cluster": cluster,
        "user": None,
        "max": {
            "jobs": {
                "per": {"submitted": 0 if blocked else -1, "count": 0 if blocked else -1,
                        "wall_clock": -1 if max_wall_minutes is None else max_wall_minutes},
                "active": -1 if max_jobs is None else max_jobs,
            },
            "tres": {"group": {"minutes": rest_tres_list(limits)}},
        },
        "shares_raw": fairshare,
    }
    # GrpTRES is max.tres.total; an empty list crashes 22.05.8's slurmrestd like empty minutes do: a limit
    # to clear is sent with count -1, and nothing at all when there is nothing to set or clear
    total = rest_tres_list(grp_tres)
    if total:
        body["max"]["tres"]["total"] = total
    if parent:
        body["parent_account"] = parent
    if isinstance(qos, str):
        qos = [qos]
    if qos:
        body["qos"] = list(qos)
        body["default"] = {"qos": default_qos or qos[0]}
    return body


def rest_new_assoc(cluster: str, change: AddParent | AddAccount) -> dict[str, Any]:
    """The association body of a new parent or account."""
    if isinstance(change, AddParent):
        return {"account": change.name, "cluster": cluster, "user": None, "parent_account": "root",
                "shares_raw": change.fairshare}
    return rest_account_assoc(
        cluster, change.name, limits=change.limits, blocked=change.blocked, parent=change.parent, qos=change.qos_list,
        default_qos=change.effective_default_qos, grp_tres=change.grp_tres, max_jobs=change.max_jobs,
        max_wall_minutes=change.max_wall_minutes, fairshare=change.fairshare)


def rest_account_update(
    cluster: str, name: str, now: ActualAccount | None, changes: Sequence[Change]
) -> dict[str, Any] | None:
    """The update body of one account association: ``changes`` (its setting changes) applied over what was
    read (``now``), so that the settings no change touches are written as they are.

    None for an account without TRES-minute limits (an organisation's parent): 22.05.8's slurmrestd crashes
    on an update without them, so its changes are left to the read-back and the sacctmgr fallback."""
    limits: tuple[tuple[str, int], ...] = tuple(sorted((now.limits if now else {}).items()))
    grp_tres: tuple[tuple[str, int], ...] = tuple(sorted((now.grp_tres if now else {}).items()))
    blocked = bool(now and now.blocked)
    max_jobs = now.max_jobs if now else None
    max_wall = now.max_wall_minutes if now else None
    fairshare = now.fairshare if now else DEFAULT_FAIRSHARE
    parent = None
    qos: tuple[str, ...] = ()
    default_qos = None
    for c in changes:
        if isinstance(c, SetLimits):
            limits = c.limits
        elif isinstance(c, SetGrpTres):
            grp_tres = c.tres
        elif isinstance(c, SetBlocked):
            blocked = c.blocked
        elif isinstance(c, SetParent):
            parent = c.parent
        elif isinstance(c, SetQos):
            qos, default_qos = c.qos_list, c.effective_default_qos
        elif isinstance(c, SetMaxJobs):
            max_jobs = c.max_jobs
        elif isinstance(c, SetMaxWall):
            max_wall = c.max_wall_minutes
        elif isinstance(c, SetFairshare):
            fairshare = c.fairshare
    if not limits:
        return None
    body = rest_account_assoc(cluster, name, limits=limits, blocked=blocked, parent=parent, qos=qos,
                              default_qos=default_qos, grp_tres=grp_tres, max_jobs=max_jobs, max_wall_minutes=max_wall,
                              fairshare=fairshare or DEFAULT_FAIRSHARE)
    if fairshare is None:  # "parent" as read and no change asks for shares: left as it is
        del body["shares_raw"]
    # the site's own TRES limits go back as they are: 22.05.8's slurmrestd crashes on an update that leaves out
    # a TRES list the association holds
    for place, values in sorted((now.site_tres if now else {}).items()):
        node = body["max"]["tres"]
        *path, last = place.split(".")
        for key in path:
            node = node.setdefault(key, {})
        node[last] = rest_tres_list(sorted(values.items()))
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
