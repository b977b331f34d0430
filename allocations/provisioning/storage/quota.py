"""Storage quotas kept on a project's entry in an LDAP directory: pure Python over ldap3, no Django.

The quota of a project is one attribute of ``cn=<group>,<base_dn>`` (by default the project's posixGroup),
an integer in the site's unit. `DirectoryQuota` writes it, reads it back and reads many at once for the
drift check; the portal's side (`storage.services`) decides what each project should hold.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import ldap3
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from allocations.provisioning.identity.ldap import Directory, DirectoryError
from allocations.provisioning.slurm.validation import ACCOUNT_RE

__all__ = ["UNITS", "QuotaLocation", "DirectoryQuota", "tb_to_units", "units_to_tb"]

UNITS: dict[str, int] = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "GB": 10**9,
                         "TB": 10**12}
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
TERABYTE = Decimal(10**12)
# A search filter of at most this many projects at once.
CHUNK = 200


def tb_to_units(tb: Decimal, unit: str) -> int:
    """``tb`` terabytes (10^12 bytes) in ``unit``, rounded up: a project never gets less than granted."""
    return int((Decimal(tb) * TERABYTE / UNITS[unit]).to_integral_value(rounding=ROUND_CEILING))


def units_to_tb(value: int, unit: str) -> Decimal:
    return (Decimal(value) * UNITS[unit] / TERABYTE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class QuotaLocation:
    base_dn: str
    attribute: str
    unit: str = "GB"
    object_class: str = ""

    def problems(self) -> list[str]:
        found = []
        if not self.base_dn:
            found.append("base_dn is not set")
        if not NAME_RE.fullmatch(self.attribute or ""):
            found.append(f"attribute {self.attribute!r} is not an LDAP attribute name")
        if self.unit not in UNITS:
            found.append(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.object_class and not NAME_RE.fullmatch(self.object_class):
            found.append(f"object_class {self.object_class!r} is not an LDAP object class name")
        return found


class DirectoryQuota:
    """The quotas of one site's projects, over an open `Directory` connection."""

    def __init__(self, directory: Directory, location: QuotaLocation) -> None:
        self.directory = directory
        self.location = location

    def dn(self, group: str) -> str:
        if not ACCOUNT_RE.fullmatch(group):
            raise DirectoryError(f"{group!r} is not a project group name")
        return f"cn={escape_rdn(group)},{self.location.base_dn}"

    def _entries(self, groups: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for start in range(0, len(groups), CHUNK):
            part = groups[start:start + CHUNK]
            query = "(|" + "".join(f"(cn={escape_filter_chars(g)})" for g in part) + ")"
            for entry in self.directory._search(self.location.base_dn, query,
                                                ["cn", "objectClass", self.location.attribute]):
                names = entry["attributes"].get("cn") or []
                for name in [names] if isinstance(names, str) else names:
                    if name in part:
                        found[name] = entry
        return found

    def _value(self, entry: dict) -> int | None:
        raw = entry["attributes"].get(self.location.attribute)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        if raw in (None, ""):
            return None
        try:
            return int(raw.decode() if isinstance(raw, bytes) else raw)
        except (TypeError, ValueError):
            raise DirectoryError(f"{entry['dn']} holds {self.location.attribute}={raw!r}, not a whole number "
                                 f"of {self.location.unit}") from None

    def read_many(self, groups: list[str]) -> dict[str, int | None | bool]:
        """{group: quota in the site's unit, None when the entry holds no quota, False when there is no entry}."""
        for group in groups:
            self.dn(group)
        entries = self._entries(sorted(set(groups)))
        return {g: (self._value(entries[g]) if g in entries else False) for g in groups}

    def read(self, group: str) -> int | None:
        value = self.read_many([group])[group]
        if value is False:
            raise DirectoryError(f"{self.dn(group)} does not exist: the project's group must exist before its "
                                 "quota is written")
        return value

    def write(self, group: str, value: int) -> int:
        """Set the quota of ``group`` to ``value`` (in the site's unit) and read it back; returns what the
        directory holds afterwards (raises when it is not ``value``)."""
        if not isinstance(value, int) or value < 0:
            raise DirectoryError(f"{value!r} is not a quota")
        dn = self.dn(group)
        entries = self._entries([group])
        if group not in entries:
            raise DirectoryError(f"{dn} does not exist: the project's group must exist before its quota is written")
        changes: dict = {}
        classes = {str(c).lower() for c in entries[group]["attributes"].get("objectClass") or []}
        if self.location.object_class and self.location.object_class.lower() not in classes:
            changes["objectClass"] = [(ldap3.MODIFY_ADD, [self.location.object_class])]
        if self._value(entries[group]) != value:
            changes[self.location.attribute] = [(ldap3.MODIFY_REPLACE, [str(value)])]
        if changes:
            self.directory._write(f"modify {dn}", self.directory.conn.modify, dn, changes)
        actual = self.read(group)
        if actual != value:
            raise DirectoryError(f"{dn}: wrote {self.location.attribute}={value}, read back {actual}")
        return actual
