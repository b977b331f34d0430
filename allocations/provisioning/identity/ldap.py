"""The POSIX accounts and project groups of a site's LDAP directory (OpenLDAP, FreeIPA's compat tree, ...).

Pure Python over ldap3, no Django: the portal's side (`identity.services`) turns settings into a
`DirectoryConfig` and decides what each person and project should have; this module looks up, creates
and changes entries. Every value written is checked first: uids follow the Slurm engine's username
rule, numbers stay in the configured ranges, keys are the ones the portal validated.

Entries it creates: ``uid=<uid>,<users_dn>`` (inetOrgPerson, posixAccount, ldapPublicKey) with a
private group ``cn=<uid>,<groups_dn>`` (gidNumber = uidNumber), and one posixGroup per project,
``cn=<slurm account>,<groups_dn>``, whose memberUid are the confirmed team.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from allocations.provisioning.slurm.validation import USERNAME_RE, is_reserved_username

__all__ = ["DirectoryConfig", "DirectoryError", "PosixAccount", "Directory"]


class DirectoryError(Exception):
    """The directory refused, did not answer, or holds something the portal cannot bind safely."""


@dataclasses.dataclass(frozen=True)
class DirectoryConfig:
    url: str
    bind_dn: str
    password: str
    users_dn: str
    groups_dn: str
    uid_range: tuple[int, int] = (200000, 299999)
    gid_range: tuple[int, int] = (300000, 399999)
    login_shell: str = "/bin/bash"
    locked_shell: str = "/usr/sbin/nologin"
    home_pattern: str = "/home/{uid}"
    subject_attribute: str = "employeeNumber"
    timeout: int = 10


@dataclasses.dataclass(frozen=True)
class PosixAccount:
    dn: str
    uid: str
    uid_number: int
    gid_number: int
    home: str
    shell: str
    keys: tuple[str, ...] = ()
    mail: tuple[str, ...] = ()

    def is_locked(self, config: DirectoryConfig) -> bool:
        return self.shell == config.locked_shell


_ACCOUNT_ATTRIBUTES = ["uid", "uidNumber", "gidNumber", "homeDirectory", "loginShell", "sshPublicKey", "mail"]


def _first(entry, name, default=None):
    values = entry["attributes"].get(name) or []
    if isinstance(values, (str, int, bytes)):
        return values
    return values[0] if values else default


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Directory:
    """One bound connection; use as a context manager (``with Directory(config) as d: ...``)."""

    def __init__(self, config: DirectoryConfig) -> None:
        self.config = config
        self.conn: ldap3.Connection | None = None

    # -------------------------------------------------------------------------------- connection

    def __enter__(self) -> Directory:
        server = ldap3.Server(self.config.url, connect_timeout=self.config.timeout, get_info=ldap3.NONE)
        try:
            self.conn = ldap3.Connection(server, user=self.config.bind_dn, password=self.config.password,
                                         receive_timeout=self.config.timeout, raise_exceptions=True,
                                         auto_bind=ldap3.AUTO_BIND_NO_TLS)
        except LDAPException as exc:
            raise DirectoryError(f"cannot bind to {self.config.url} as {self.config.bind_dn}: {exc}") from exc
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            try:
                self.conn.unbind()
            except LDAPException:
                pass
            self.conn = None

    def _search(self, base: str, query: str, attributes: list[str]) -> list[dict]:
        assert self.conn is not None, "use Directory as a context manager"
        try:
            self.conn.search(base, query, search_scope=ldap3.SUBTREE, attributes=attributes)
        except LDAPException as exc:
            raise DirectoryError(f"search {query} under {base} failed: {exc}") from exc
        return [e for e in self.conn.response if e.get("type") == "searchResEntry"]

    def _write(self, what: str, call, *args, **kwargs) -> None:
        try:
            call(*args, **kwargs)
        except LDAPException as exc:
            raise DirectoryError(f"{what} failed: {exc}") from exc

    # -------------------------------------------------------------------------------- accounts

    def _account(self, entry: dict) -> PosixAccount:
        attrs = entry["attributes"]
        return PosixAccount(
            dn=entry["dn"], uid=str(_first(entry, "uid")), uid_number=int(_first(entry, "uidNumber")),
            gid_number=int(_first(entry, "gidNumber")), home=str(_first(entry, "homeDirectory")),
            shell=str(_first(entry, "loginShell", "")),
            keys=tuple(sorted(_text(k) for k in attrs.get("sshPublicKey") or [])),
            mail=tuple(str(m).lower() for m in attrs.get("mail") or []))

    def _one(self, query: str) -> PosixAccount | None:
        found = self._search(self.config.users_dn, f"(&(objectClass=posixAccount){query})", _ACCOUNT_ATTRIBUTES)
        if len(found) > 1:
            raise DirectoryError(f"{len(found)} accounts match {query}: the portal binds a person to one only")
        return self._account(found[0]) if found else None

    def find_by_subject(self, subject: str) -> PosixAccount | None:
        attr = self.config.subject_attribute
        return self._one(f"({attr}={escape_filter_chars(subject)})") if attr and subject else None

    def find_by_mail(self, mail: str) -> PosixAccount | None:
        return self._one(f"(mail={escape_filter_chars(mail.lower())})") if mail else None

    def find_by_uid(self, uid: str) -> PosixAccount | None:
        return self._one(f"(uid={escape_filter_chars(uid)})")

    def _numbers(self, attribute: str, base: str, object_class: str) -> set[int]:
        return {int(_first(e, attribute)) for e in self._search(base, f"(objectClass={object_class})", [attribute])
                if _first(e, attribute) is not None}

    def _free_number(self, low: int, high: int, used: set[int]) -> int:
        taken = {n for n in used if low <= n <= high}
        candidate = max(taken, default=low - 1) + 1
        if candidate > high:
            candidate = next((n for n in range(low, high + 1) if n not in taken), None)
            if candidate is None:
                raise DirectoryError(f"no free number left in {low}-{high}")
        return candidate

    def free_uid(self, wanted: Iterable[str]) -> str:
        """The first of ``wanted`` (then each with 2, 3, ... appended) that is a valid, unreserved login
        nobody holds in the directory."""
        for base in wanted:
            base = base[:28]
            for suffix in ["", *map(str, range(2, 100))]:
                uid = f"{base}{suffix}"
                if USERNAME_RE.fullmatch(uid) and not is_reserved_username(uid) and \
                        not self._search(self.config.users_dn, f"(uid={escape_filter_chars(uid)})", ["uid"]) and \
                        not self._search(self.config.groups_dn, f"(cn={escape_filter_chars(uid)})", ["cn"]):
                    return uid
        raise DirectoryError("no free login name could be derived for this person")

    def create_account(self, *, uid: str, full_name: str, mail: str, subject: str = "",
                       keys: Iterable[str] = ()) -> PosixAccount:
        """A new account with its private group; the uidNumber is the next free one of the range (checked
        again after the write: two portals racing for one number keep the first entry)."""
        if not USERNAME_RE.fullmatch(uid) or is_reserved_username(uid):
            raise DirectoryError(f"{uid!r} is not a login name the portal may create")
        low, high = self.config.uid_range
        for _attempt in range(5):
            used = self._numbers("uidNumber", self.config.users_dn, "posixAccount") | \
                self._numbers("gidNumber", self.config.groups_dn, "posixGroup")
            number = self._free_number(low, high, used)
            dn = f"uid={escape_rdn(uid)},{self.config.users_dn}"
            attributes = {
                "objectClass": ["inetOrgPerson", "posixAccount", "ldapPublicKey"],
                "uid": uid, "cn": full_name or uid, "sn": (full_name.split()[-1] if full_name.strip() else uid),
                "uidNumber": number, "gidNumber": number,
                "homeDirectory": self.config.home_pattern.format(uid=uid),
                "loginShell": self.config.login_shell, "mail": mail.lower(),
            }
            if subject and self.config.subject_attribute:
                attributes[self.config.subject_attribute] = subject
            key_list = sorted(set(keys))
            if key_list:
                attributes["sshPublicKey"] = key_list
            self._write(f"add {dn}", self.conn.add, dn, attributes=attributes)
            clash = self._search(self.config.users_dn, f"(&(objectClass=posixAccount)(uidNumber={number}))", ["uid"])
            if len(clash) > 1:  # someone took the same number meanwhile: give ours back, try the next
                self._write(f"delete {dn}", self.conn.delete, dn)
                continue
            group_dn = f"cn={escape_rdn(uid)},{self.config.groups_dn}"
            self._write(f"add {group_dn}", self.conn.add, group_dn,
                        attributes={"objectClass": ["posixGroup"], "cn": uid, "gidNumber": number})
            return self.find_by_uid(uid)
        raise DirectoryError("could not take a free uidNumber after 5 attempts")

    def set_keys(self, account: PosixAccount, keys: Iterable[str]) -> bool:
        """Make the account's sshPublicKey exactly ``keys``; True when something changed."""
        wanted = sorted(set(keys))
        if list(account.keys) == wanted:
            return False
        self._write(f"modify {account.dn}", self.conn.modify, account.dn,
                    {"sshPublicKey": [(ldap3.MODIFY_REPLACE, wanted)]})
        return True

    def set_shell(self, account: PosixAccount, shell: str) -> bool:
        if account.shell == shell:
            return False
        self._write(f"modify {account.dn}", self.conn.modify, account.dn,
                    {"loginShell": [(ldap3.MODIFY_REPLACE, [shell])]})
        return True

    def lock(self, account: PosixAccount) -> bool:
        """No login: the locked shell and no SSH key (the entry, its numbers and its files stay)."""
        changed = self.set_shell(account, self.config.locked_shell)
        return self.set_keys(account, []) or changed

    # -------------------------------------------------------------------------------- groups

    def group_members(self, name: str) -> set[str] | None:
        found = self._search(self.config.groups_dn, f"(&(objectClass=posixGroup)(cn={escape_filter_chars(name)}))",
                             ["memberUid"])
        if not found:
            return None
        return {str(m) for m in found[0]["attributes"].get("memberUid") or []}

    def sync_group(self, name: str, members: Iterable[str], description: str = "") -> tuple[set[str], set[str]]:
        """The posixGroup ``name`` with exactly ``members`` as memberUid (created with the next free gid of
        the range if missing). Returns (added, removed)."""
        wanted = set(members)
        for uid in wanted:
            if not USERNAME_RE.fullmatch(uid) or is_reserved_username(uid):
                raise DirectoryError(f"{uid!r} cannot be a member of a project group")
        current = self.group_members(name)
        dn = f"cn={escape_rdn(name)},{self.config.groups_dn}"
        if current is None:
            low, high = self.config.gid_range
            number = self._free_number(low, high, self._numbers("gidNumber", self.config.groups_dn, "posixGroup"))
            attributes = {"objectClass": ["posixGroup"], "cn": name, "gidNumber": number}
            if description:
                attributes["description"] = description
            if wanted:
                attributes["memberUid"] = sorted(wanted)
            self._write(f"add {dn}", self.conn.add, dn, attributes=attributes)
            return wanted, set()
        added, removed = wanted - current, current - wanted
        changes = {}
        if added or removed:
            changes["memberUid"] = [(ldap3.MODIFY_REPLACE, sorted(wanted))]
            self._write(f"modify {dn}", self.conn.modify, dn, changes)
        return added, removed
