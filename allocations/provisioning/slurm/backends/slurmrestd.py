"""Backend talking to slurmrestd's slurmdb API with a JWT.

Slurm 22.05.8 traps this backend works around (see docs/slurm.md):
- an account association update can return 200 with ``errors: []`` and change nothing, so every
  reconcile reads back and fails loudly, or, with ``fallback_to_sacctmgr=True``, applies what
  still differs through sacctmgr and reads back again;
- an association update without ``max.tres.group.minutes`` crashes slurmrestd, so updates always
  carry the full limits (read first when the changes do not include them);
- the association ``usage`` field is null and there is no QOS write endpoint: usage and QOS
  definitions go through the sacctmgr backend;
- slurmrestd's job endpoints (``/slurm/...``) reach only the cluster of its own slurm.conf, while
  one slurmdbd serves several clusters: job control (hold, release, cancel) goes through the
  command-line backend as well, which reaches every cluster with ``-M``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jwt
import requests

from ..desired import ROOT, ActualAccount, Desired, QosSpec
from ..errors import SlurmCommandError
from ..plan import SETTING_CHANGES, AddAccount, AddParent, AddUser, Change, RemoveUser, plan_changes
from ..validation import validate_cluster_name, validate_parent_name
from . import formats
from .base import ApplyResult, CommandKind, CommandRecord, Job, JobAction, SlurmBackend
from .sacctmgr import SacctmgrBackend

RECORD_LIMIT = 20_000  # characters of a response kept in a CommandRecord
# one item of a batched POST: (the account or user names it writes, what it does, its JSON body)
BatchItem = tuple[tuple[str, ...], str, Any]
# refused items an apply isolates before it stops splitting (a refusal of everything, such as a
# token without rights, would otherwise cost two requests per item)
MAX_REFUSED_ITEMS = 5


class SlurmRequestRefused(SlurmCommandError):
    """slurmrestd answered with an error (HTTP status or ``errors``): the request reached Slurm.
    ``answer`` is its status and errors, for a message that names the refused change."""

    def __init__(self, message: str, answer: str) -> None:
        super().__init__(message)
        self.answer = answer


class SlurmrestdBackend(SlurmBackend):
    """``user`` is the Slurm user the token is for (an Operator or admin). Give either ``token``
    or ``jwt_key_file`` (the site's HS256 key, to sign short-lived tokens)."""

    kind = "slurmrestd"

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1:6820",
        user: str = "root",
        token: str | None = None,
        jwt_key_file: str | None = None,
        token_lifespan: int = 300,
        api_version: str = formats.REST_API,
        timeout: float = 30.0,
        verify_tls: bool | str = True,
        session: requests.Session | None = None,
        sacctmgr: SacctmgrBackend | Mapping[str, Any] | None = None,
        fallback_to_sacctmgr: bool = False,
    ) -> None:
        super().__init__()
        if not token and not jwt_key_file:
            raise ValueError("slurmrestd backend needs token or jwt_key_file")
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.api = f"{self.base_url}/slurmdb/{api_version}"
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.session = session or requests.Session()
        self._static_token = token
        self._jwt_key_file = jwt_key_file
        self._lifespan = token_lifespan
        self._token: tuple[str, float] | None = None
        if isinstance(sacctmgr, SacctmgrBackend):
            self.sacctmgr = sacctmgr
        else:
            self.sacctmgr = SacctmgrBackend(**dict(sacctmgr or {}))
        self.fallback_to_sacctmgr = fallback_to_sacctmgr

    # ----------------------------------------------------------------------------- HTTP
    def token(self) -> str:
        if self._static_token:
            return self._static_token
        now = time.time()
        if self._token and self._token[1] - 30 > now:
            return self._token[0]
        key = Path(self._jwt_key_file or "").read_bytes()
        exp = int(now) + self._lifespan
        signed = jwt.encode({"exp": exp, "iat": int(now), "sun": self.user}, key, algorithm="HS256")
        self._token = (signed, exp)
        return signed

    def _request(
        self,
        kind: CommandKind,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        ok_status: Iterable[int] = (200,),
    ) -> dict[str, Any]:
        url = self.api + path
        data = json.dumps(body) if body is not None else None
        shown = url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        headers = {
            "X-SLURM-USER-NAME": self.user,
            "X-SLURM-USER-TOKEN": self.token(),
            "Content-Type": "application/json",
        }
        started = time.monotonic()
        try:
            resp = self.session.request(
                method, url, params=params, data=data, headers=headers, timeout=self.timeout, verify=self.verify_tls
            )
        except requests.RequestException as exc:
            self._record(
                CommandRecord(kind, (method, shown), -1, "", str(exc), time.monotonic() - started, data, False)
            )
            raise SlurmCommandError(f"{method} {shown}: {exc}") from exc
        text = resp.text
        payload: dict[str, Any] = {}
        if text.strip():
            try:
                payload = resp.json()
            except ValueError:
                payload = {}
        ok = resp.status_code in tuple(ok_status) and not payload.get("errors")
        self._record(
            CommandRecord(
                kind, (method, shown), resp.status_code, text[:RECORD_LIMIT], "", time.monotonic() - started, data, ok
            )
        )
        if not ok:
            answer = f"HTTP {resp.status_code}: {payload.get('errors') or text[:300]}"
            raise SlurmRequestRefused(f"{method} {shown}: {answer}", answer)
        return payload

    # ----------------------------------------------------------------------------- interface
    def read(self, cluster: str, names: set[str] | None = None) -> dict[str, ActualAccount]:
        cluster = validate_cluster_name(cluster)
        if names is not None:
            names = {validate_parent_name(n) for n in names}
            if not names:
                return {}
        # 22.05 refuses a comma-separated account filter ("Unable to parse query"): one GET of the
        # whole cluster, filtered here
        payload = self._request("read", "GET", "/associations", params={"cluster": cluster})
        accounts = formats.parse_rest_associations(payload, cluster)
        if names is not None:
            accounts = {n: a for n, a in accounts.items() if n in names}
        return accounts

    def usage(self, cluster: str, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
        return self._delegate(lambda: self.sacctmgr.usage(cluster, accounts))

    def check_qos(self, qos_specs: Sequence[QosSpec], *, fix: bool = True) -> list[str]:
        return self._delegate(lambda: self.sacctmgr.check_qos(qos_specs, fix=fix))

    def jobs(self, cluster: str, account: str) -> list[Job]:
        return self._delegate(lambda: self.sacctmgr.jobs(cluster, account))

    def _job_command(self, cluster: str, action: JobAction, job_ids: Sequence[str]) -> None:
        self._delegate(lambda: self.sacctmgr._job_command(cluster, action, job_ids))

    def bootstrap(self, cluster: str, qos_specs: Sequence[QosSpec], parents: Sequence[Desired] = ()) -> ApplyResult:
        cluster = validate_cluster_name(cluster)
        result = ApplyResult(cluster=cluster)
        with self.recording() as journal:
            qos = self._delegate(lambda: self.sacctmgr.bootstrap(cluster, qos_specs))
            result.errors.extend(qos.errors)
            if parents and not result.errors:
                sub = self.reconcile(cluster, parents, raise_on_error=False)
                result.changes.extend(sub.planned)
                result.errors.extend(sub.errors)
                result.errors.extend(d.describe() for d in sub.differences)
        result.commands = journal
        return result

    def _delegate(self, call: Any) -> Any:
        """Run a sacctmgr-backend call, copying its commands into this backend's journal."""
        with self.sacctmgr.recording() as journal:
            try:
                return call()
            finally:
                for rec in journal:
                    self._record(rec)

    def _repair(
        self, cluster: str, desired: Sequence[Desired], names: set[str], differences: list[Change]
    ) -> list[Change]:
        # POST /users for a user whose record was written a moment before (the same second: the previous
        # reconcile, or another cluster's) answers 200 and adds none of the associations it carries; the
        # read-back shows them missing, and through POST /associations, one item each, they are added.
        missing_accounts = {c.name for c in differences if isinstance(c, AddParent | AddAccount)}
        dropped = [c for c in differences if isinstance(c, AddUser) and c.account not in missing_accounts]
        if dropped:
            failures: list[str] = []
            self._post_batch("/associations", "associations", [_user_assoc(cluster, c) for c in dropped], failures)
            differences = plan_changes(desired, {cluster: self.read(cluster, names)})
            if failures and differences:  # the read-back's difference, with Slurm's answer beside it
                raise SlurmCommandError("; ".join(failures))
        if not self.fallback_to_sacctmgr or not differences:
            return differences
        applied = self._delegate(lambda: self.sacctmgr.apply(cluster, differences))
        if not applied.ok:
            raise SlurmCommandError("; ".join(applied.errors))
        return plan_changes(desired, {cluster: self.read(cluster, names)})

    # ----------------------------------------------------------------------------- apply
    def _apply(self, cluster: str, changes: Sequence[Change], result: ApplyResult) -> None:
        """One request per kind of change: POST /accounts, POST /associations (account associations,
        new and updated), POST /users (every user association, listed under its user), then one
        DELETE per removed user association.

        slurmrestd 22.05 makes two slurmdbd round trips per item of POST /associations but one for
        the whole of POST /users, so user associations go with their users. A refused batch is
        rolled back whole and names no item: ``_post_batch`` finds the refused ones, writes the rest,
        and the error names each refused change with Slurm's answer."""
        failures: list[str] = []
        try:
            self._write(cluster, changes, failures)
        except SlurmRequestRefused:
            raise
        except SlurmCommandError as exc:  # transport: what was refused before still counts
            raise SlurmCommandError("; ".join([*failures, str(exc)])) from exc
        if failures:
            raise SlurmCommandError("; ".join(failures))

    def _write(self, cluster: str, changes: Sequence[Change], failures: list[str]) -> None:
        new_accounts = [c for c in changes if isinstance(c, AddParent | AddAccount)]
        if new_accounts:
            # account records are global; posting an existing one is accepted and harmless
            self._request(
                "write",
                "POST",
                "/accounts",
                body={
                    "accounts": [
                        {"name": c.name, "description": c.description, "organization": c.organization}
                        for c in new_accounts
                    ]
                },
            )

        # in the order that makes slurmdbd renumber the fewest rows (see _tree_order)
        new_accounts, position = _tree_order(new_accounts, self._snapshot or {})
        assocs: list[BatchItem] = [((c.name,), c.describe(), formats.rest_new_assoc(cluster, c)) for c in new_accounts]
        assocs += self._modifications(cluster, changes)
        additions = [c for c in changes if isinstance(c, AddUser)]
        # POST /users rewrites an existing user's record and sets AdminLevel to what it carries
        # (none): a Slurm operator or administrator gets their associations one by one instead
        privileged = self._privileged_users() if additions else set()
        assocs += [_user_assoc(cluster, c) for c in additions if c.user in privileged]
        # slurmrestd handles the list in order: parents before their children, accounts before users
        refused = self._post_batch("/associations", "associations", assocs, failures)

        by_user: dict[str, list[AddUser]] = defaultdict(list)
        # each user's associations, and the users, from left to right in the tree (see _tree_order)
        for c in sorted(additions, key=lambda c: position(c.account)):
            if c.user not in privileged and c.account not in refused:  # else its account is not there
                by_user[c.user].append(c)
        users = [
            (
                (user,),
                "; ".join(c.describe() for c in adds),
                {
                    "name": user,
                    "associations": [_user_assoc_body(cluster, c) for c in adds],
                },
            )
            for user, adds in by_user.items()  # in the order of each user's leftmost association
        ]
        self._post_batch("/users", "users", users, failures)
        self._remove_users(cluster, [c for c in changes if isinstance(c, RemoveUser)], failures)

    def _privileged_users(self) -> set[str]:
        """Slurm users with an AdminLevel (one GET of every user)."""
        return formats.parse_rest_privileged_users(self._request("read", "GET", "/users"))

    def _post_batch(self, path: str, key: str, items: Sequence[BatchItem], failures: list[str]) -> set[str]:
        """POST ``items`` ((names, description, body)) in one request. When slurmrestd refuses the
        batch (it runs it in one transaction, so nothing of it was written), the halves are posted
        again until each refused item stands alone: the others are written, each refused one is
        reported with Slurm's answer, and the names of the refused items are returned. After
        MAX_REFUSED_ITEMS refused items the rest is not sent (and counted as refused). A transport
        failure (timeout, connection refused) stops the whole apply."""
        if not items:
            return set()
        if sum(1 for f in failures if _REFUSED in f) >= MAX_REFUSED_ITEMS:
            failures.append(f"{len(items)} change(s) not sent after {MAX_REFUSED_ITEMS} refused ones")
            return {name for names, _, _ in items for name in names}
        try:
            self._request("write", "POST", path, body={key: [body for _, _, body in items]})
            return set()
        except SlurmRequestRefused as exc:
            if len(items) == 1:
                names, description, _ = items[0]
                failures.append(_refused(description, exc))
                return set(names)
        half = len(items) // 2
        return self._post_batch(path, key, items[:half], failures) | self._post_batch(path, key, items[half:], failures)

    def _remove_users(self, cluster: str, removals: Sequence[RemoveUser], failures: list[str]) -> None:
        """One DELETE per association. 22.05's DELETE /association takes comma-separated accounts
        and users but removes only one of the matching associations and answers 200, so removals
        are not grouped (they are rare: a member leaving a project). It refuses a request that matches
        several ("ambiguous request"): a member who leaves an account where they hold one association per
        partition then loses each one by its partition, as the account reads now."""
        for c in removals:
            try:
                self._delete_association(cluster, c, c.partition)
            except SlurmRequestRefused as exc:
                if c.partition is not None or AMBIGUOUS_DELETE not in exc.answer:
                    failures.append(_refused(c.describe(), exc))
                    continue
                held = self.read(cluster, {c.account}).get(c.account)
                for partition in sorted(p for u, p in (held.user_associations if held else ()) if u == c.user):
                    try:
                        self._delete_association(cluster, c, partition)
                    except SlurmRequestRefused as again:
                        failures.append(_refused(c.describe(), again))

    def _delete_association(self, cluster: str, c: RemoveUser, partition: str | None) -> None:
        # "" removes the association that names no partition; None any one (the only one); 304: nothing to
        # delete, which is the desired state
        self._request(
            "write",
            "DELETE",
            "/association",
            params={"account": c.account, "cluster": cluster, "user": c.user,
                    **({} if partition is None else {"partition": partition})},
            ok_status=(200, 304),
        )

    def _modifications(self, cluster: str, changes: Sequence[Change]) -> list[BatchItem]:
        """One full account association body per updated account, with the changes it carries."""
        mods: dict[str, list[Change]] = defaultdict(list)
        for c in changes:
            if isinstance(c, SETTING_CHANGES):
                mods[c.name].append(c)
        if not mods:
            return []
        # every update carries every setting the portal owns (the full limits at least): those the changes
        # leave alone are written as they are
        snapshot = self._snapshot
        if snapshot is not None and set(mods) <= set(snapshot):
            current = snapshot  # read by this reconcile a moment ago
        else:
            current = self.read(cluster, set(mods))
        bodies: list[BatchItem] = []
        for name, cs in sorted(mods.items()):
            body = formats.rest_account_update(cluster, name, current.get(name), cs)
            if body is not None:
                # an existing account: its users can still be added
                bodies.append(((), "; ".join(c.describe() for c in cs), body))
        return bodies


# A place in the association tree: a path of (0, -n) for the n-th account this apply adds under its
# parent (slurmdbd makes each new association the first child of its parent), (1, i) for the i-th
# existing one as read (GET /associations lists them from left to right), (2, 0) for one not read.
TreeKey = tuple[tuple[int, int], ...]


def _tree_order(
    new_accounts: Sequence[AddParent | AddAccount], actual: Mapping[str, ActualAccount]
) -> tuple[list[AddParent | AddAccount], Callable[[str], TreeKey]]:
    """The new account associations in the order that costs slurmdbd least, and the place of an
    account in the tree (to add the user associations in the same order).

    slurmdbd 22.05 keeps the association tree as nested sets (lft/rgt): each association it adds
    renumbers every association to its right, two UPDATEs of all those rows, and slurmrestd adds the
    items of POST /associations and of POST /users one by one. From left to right, an addition moves
    only what stood there before, not what was just added: the parents' children are added parent by
    parent, leftmost parent first, and the users' associations from left to right. Parents still
    come before their children; the children of one parent are added last to first, so that they
    stand in the tree in the order given. At 1,000 allocations over two clusters that rewrites 308,000
    rows instead of 558,000 (38,000 instead of 152,000 in POST /associations)."""
    index = {name: i for i, name in enumerate(actual)}
    parent_of = {c.name: (ROOT if isinstance(c, AddParent) else c.parent) for c in new_accounts}
    new_key: dict[str, tuple[int, int]] = {}

    def position(name: str, seen: frozenset[str] = frozenset()) -> TreeKey:
        if name == ROOT or name in seen:
            return ()
        if name in new_key:
            return (*position(parent_of[name], seen | {name}), new_key[name])
        current = actual.get(name)
        if current is None or name in parent_of:
            return ((2, 0),)
        return (*position(current.parent, seen | {name}), (1, index[name]))

    def depth(name: str) -> int:
        n = 0
        while name in parent_of and n <= len(parent_of):  # bounded, should the names ever form a cycle
            name, n = parent_of[name], n + 1
        return n

    by_depth: dict[int, list[AddParent | AddAccount]] = defaultdict(list)
    for c in new_accounts:
        by_depth[depth(c.name)].append(c)
    ordered: list[AddParent | AddAccount] = []
    for level in sorted(by_depth):
        siblings: dict[str, list[AddParent | AddAccount]] = defaultdict(list)
        for c in by_depth[level]:
            siblings[parent_of[c.name]].append(c)
        for parent in sorted(siblings, key=position):  # their parents' places are known by now
            children = siblings[parent][::-1]
            for n, c in enumerate(children):
                new_key[c.name] = (0, -n)
            ordered += children
    return ordered, position


_REFUSED = ": refused by slurmrestd: "
# DELETE /association matching several associations (a user's, one per partition): 22.05's answer
AMBIGUOUS_DELETE = "More than 1 association would have been deleted"


def _user_assoc_body(cluster: str, change: AddUser) -> dict[str, str]:
    body = {"account": change.account, "cluster": cluster, "user": change.user}
    if change.partition:
        body["partition"] = change.partition
    return body


def _user_assoc(cluster: str, change: AddUser) -> BatchItem:
    """A user association as one item of POST /associations."""
    return ((), change.describe(), _user_assoc_body(cluster, change))


def _refused(description: str, exc: SlurmRequestRefused) -> str:
    return f"{description}{_REFUSED}{exc.answer}"
