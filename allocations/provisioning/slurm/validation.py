"""Strict validation of every value that can reach a sacctmgr argument, a load file or a REST body.

The patterns are deliberately narrower than what Slurm accepts: sacctmgr lower-cases account and
QOS names and descriptions, splits lists on ``,``, load files on ``:`` and quote with ``'``, and
parses ``key=value`` pairs, so anything outside a plain charset is refused instead of escaped.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from .errors import SlurmValueError

__all__ = [
    "ERASED_USERNAME_PREFIX",
    "MAX_MINUTES",
    "RESERVED_USERNAMES",
    "SlurmValueError",
    "is_reserved_username",
    "sanitize_text",
    "validate_account_name",
    "validate_cluster_name",
    "validate_count",
    "validate_fields",
    "validate_job_id",
    "validate_limits",
    "validate_minutes",
    "validate_parent_name",
    "validate_partition_name",
    "validate_partitions",
    "validate_qos_flag",
    "validate_qos_name",
    "validate_text",
    "validate_username",
]

ACCOUNT_RE = re.compile(r"[a-z][a-z0-9_]{0,33}")
CLUSTER_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# At least one letter or digit: "_" or "-_" is no one's login.
USERNAME_RE = re.compile(r"(?![_-]+\Z)[a-z_][a-z0-9_-]{0,31}")
QOS_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
PARTITION_RE = re.compile(r"[a-z][a-z0-9_-]{0,33}")
# cpu, gres/gpu, or a typed GRES such as gres/gpu:h100 (a site tracking several GPU types)
TRES_RE = re.compile(r"[a-z]+(?:/[a-z0-9_]+(?::[a-z0-9_]+)?)?")
# Free text (description, organization): no ; = ' " : , newline, no leading dash or blank.
_TEXT_CHARS = r"A-Za-z0-9 ._()/+&@-"
TEXT_RE = re.compile(rf"[A-Za-z0-9](?:[{_TEXT_CHARS}]*[A-Za-z0-9._()/+&@-])?")
TEXT_MAX = {"description": 200, "organization": 100}
# Slurm stores TRES minutes as uint64 with INFINITE/NO_VAL at the top: stay far below.
MAX_MINUTES = 10**12
RESERVED_ACCOUNTS = frozenset({"root"})
# System and service accounts of a cluster's nodes: a Slurm association for one of them would let a
# project's jobs run as (or be charged to) the operating system or a daemon. The portal refuses them
# when a team member is added; this list is the last check before sacctmgr, and the portal's own.
RESERVED_USERNAMES = frozenset({
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
    "www-data", "backup", "list", "irc", "gnats", "nobody", "messagebus", "sshd", "slurm", "munge", "mysql",
    "postgres", "redis", "admin", "administrator", "operator",
})
# The pseudonym of an erased team member (allocations.privacy): a name nobody may take, which can still
# be taken out of an account.
ERASED_USERNAME_PREFIX = "erased-"
RESERVED_USERNAME_PREFIXES = ("systemd-", ERASED_USERNAME_PREFIX)


def is_reserved_username(name: str) -> bool:
    return name in RESERVED_USERNAMES or name.startswith(RESERVED_USERNAME_PREFIXES)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check(pattern: re.Pattern[str], value: object, what: str, rule: str) -> str:
    if not isinstance(value, str):
        raise SlurmValueError(f"{what} must be a string, got {type(value).__name__}")
    if pattern.fullmatch(value):
        return value
    if value.lower() != value and pattern.fullmatch(value.lower()):
        # sacctmgr would lower-case it and silently merge it with another name
        raise SlurmValueError(f"{what} {_show(value)} must be lower-case ({rule})")
    raise SlurmValueError(f"{what} {_show(value)} is not allowed ({rule})")


def validate_account_name(value: object) -> str:
    name = _check(ACCOUNT_RE, value, "account name", "a-z first, then a-z 0-9 _, at most 34")
    if name in RESERVED_ACCOUNTS:
        raise SlurmValueError(f"account name {name!r} is reserved")
    return name


def validate_parent_name(value: object) -> str:
    """A parent is a portal account or Slurm's ``root``."""
    if value == "root":
        return "root"
    return validate_account_name(value)


def validate_cluster_name(value: object) -> str:
    return _check(CLUSTER_RE, value, "cluster name", "a-z first, then a-z 0-9 _ -, at most 40")


def validate_username(value: object, *, allow_reserved: bool = False) -> str:
    """A user name of a team member. ``allow_reserved`` only for taking a user *out* of a portal
    account, so that an association made before the reserved names were refused can be removed."""
    name = _check(USERNAME_RE, value, "user name",
                  "a-z or _ first, then a-z 0-9 _ -, at most 32, at least one letter or digit")
    if not allow_reserved and is_reserved_username(name):
        raise SlurmValueError(f"user name {name!r} is reserved for the system")
    return name


def validate_partition_name(value: object, *, allow_none: bool = False) -> str:
    """A partition of a user association; ``allow_none``: "" (the association names no partition)."""
    if allow_none and value == "":
        return ""
    return _check(PARTITION_RE, value, "partition name", "a-z first, then a-z 0-9 _ -, at most 34")


def validate_partitions(value: object) -> tuple[str, ...]:
    """The partitions a project's user associations name, sorted, each once (empty: none is named)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise SlurmValueError(f"partitions must be a collection of partition names, not {_show(value)}")
    return tuple(sorted({validate_partition_name(p) for p in value}))


def validate_qos_name(value: object) -> str:
    return _check(QOS_RE, value, "QOS name", "a-z first, then a-z 0-9 _ -, at most 40")


# QOS flags the portal may require (sacctmgr's spelling); anything else is the site's business.
QOS_FLAGS = frozenset({"DenyOnLimit", "NoDecay", "NoReserve", "OverPartQOS", "PartitionMaxNodes",
                       "PartitionMinNodes", "PartitionTimeLimit", "RequiresReservation", "UsageFactorSafe"})


def validate_qos_flag(value: object) -> str:
    if value not in QOS_FLAGS:
        raise SlurmValueError(f"QOS flag {_show(value)} is not one of {', '.join(sorted(QOS_FLAGS))}")
    return value  # type: ignore[return-value]


# squeue %i: a job, an array task (123_4) or a pending array's tasks (123_[1-9%2])
JOB_ID_RE = re.compile(r"[0-9]{1,12}(?:_(?:[0-9]{1,9}|\[[0-9,%-]{1,100}\]))?")


def validate_job_id(value: object) -> str:
    return _check(JOB_ID_RE, value, "job id", "digits, optionally _task or _[range]")


def validate_text(value: object, field: str = "description") -> str:
    max_len = TEXT_MAX.get(field, 200)
    if not isinstance(value, str):
        raise SlurmValueError(f"{field} must be a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise SlurmValueError(f"{field} is longer than {max_len} characters")
    if not TEXT_RE.fullmatch(value):
        raise SlurmValueError(
            f"{field} {_show(value)} is not allowed (letters, digits, space and . _ ( ) / + & @ -;"
            " starting with a letter or digit; use sanitize_text())"
        )
    return value


def validate_minutes(value: object, field: str = "minutes") -> int:
    # bool is an int subclass: True minutes is a bug, not a quota
    if not isinstance(value, int) or isinstance(value, bool):
        raise SlurmValueError(f"{field} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_MINUTES:
        raise SlurmValueError(f"{field} must be between 0 and {MAX_MINUTES}, got {value}")
    return value


# Counts (MaxJobs, Fairshare): Slurm keeps them in 32 bits with INFINITE/NO_VAL at the top.
MAX_COUNT = 2**31 - 2


def validate_count(value: object, field: str = "count", *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise SlurmValueError(f"{field} must be an integer, got {type(value).__name__}")
    if not minimum <= value <= MAX_COUNT:
        raise SlurmValueError(f"{field} must be between {minimum} and {MAX_COUNT}, got {value}")
    return value


def validate_limits(limits: Mapping[str, int] | Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """TRES-minute limits as sorted pairs; ``-1`` clears one TRES (sacctmgr's convention)."""
    pairs = limits.items() if isinstance(limits, Mapping) else limits
    out: dict[str, int] = {}
    for tres, value in pairs:
        _check(TRES_RE, tres, "TRES name", "like cpu, gres/gpu or gres/gpu:h100")
        if value != -1:
            validate_minutes(value, f"limit {tres}")
        out[tres] = value
    return tuple(sorted(out.items()))


# How a field of a planning value object is checked, by the field's name: the same name means the
# same rule in every object (an account named ``name`` or ``account``, a ``parent``, a ``qos``...).
FIELD_CHECKS: dict[str, Callable[[object], object]] = {
    "cluster": validate_cluster_name,
    "name": validate_account_name,
    "account": validate_account_name,
    "parent": validate_parent_name,
    "user": validate_username,
    "partition": lambda value: validate_partition_name(value, allow_none=True),
    "partitions": validate_partitions,
    "qos": validate_qos_name,
    "description": lambda value: validate_text(value, "description"),
    "organization": lambda value: validate_text(value, "organization"),
    # None: the grant sets no limit on that TRES (nothing is written)
    "gpu_minutes": lambda value: None if value is None else validate_minutes(value, "gpu_minutes"),
    "cpu_minutes": lambda value: None if value is None else validate_minutes(value, "cpu_minutes"),
    "default_qos": validate_qos_name,
    # 0 shares would take the account out of the fair-share tree: at least 1
    "fairshare": lambda value: validate_count(value, "fairshare", minimum=1),
    # None: unset
    "max_jobs": lambda value: None if value is None else validate_count(value, "max_jobs"),
    "max_wall_minutes": lambda value: None if value is None else validate_minutes(value, "max_wall_minutes"),
}


def validate_fields(obj: object) -> None:
    """Check every field of the dataclass ``obj`` that FIELD_CHECKS names, in field order.

    An optional field (default None) left at None is not checked; other fields are the caller's.
    """
    for item in dataclasses.fields(obj):  # type: ignore[arg-type]
        check = FIELD_CHECKS.get(item.name)
        value = getattr(obj, item.name)
        if check is None or (value is None and item.default is None):
            continue
        check(value)


def sanitize_text(value: str, field: str = "description") -> str:
    """Turn arbitrary user text into something validate_text() accepts (for callers, not backends).

    Accents are folded ("Université de Liège" -> "Universite de Liege"), every other refused
    character becomes a space, and the result is trimmed to the field's length.
    """
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(rf"[^{_TEXT_CHARS}]", " ", folded)
    cleaned = re.sub(r"\s+", " ", cleaned)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)[: TEXT_MAX.get(field, 200)].rstrip(" ")
    return cleaned or "n/a"
