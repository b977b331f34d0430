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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jwt
import requests

from ..desired import ActualAccount, Desired, QosSpec
from ..errors import SlurmCommandError
from ..plan import SETTING_CHANGES, AddAccount, AddParent, AddUser, Change, RemoveUser, plan_changes
from ..validation import validate_cluster_name, validate_parent_name
from . import formats
from .base import ApplyResult, CommandKind, CommandRecord, Job, JobAction, SlurmBackend
from .sacctmgr import SacctmgrBackend

RECORD_LIMIT = 20_000  # characters of a response kept in a CommandRecord


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
            detail = payload.get("errors") or text[:300]
            raise SlurmCommandError(f"{method} {shown}: HTTP {resp.status_code}: {detail}")
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
        if not self.fallback_to_sacctmgr:
            return differences
        applied = self._delegate(lambda: self.sacctmgr.apply(cluster, differences))
        if not applied.ok:
            raise SlurmCommandError("; ".join(applied.errors))
        return plan_changes(desired, {cluster: self.read(cluster, names)})

    # ----------------------------------------------------------------------------- apply
    def _apply(self, cluster: str, changes: Sequence[Change], result: ApplyResult) -> None:
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
        new_users = sorted({c.user for c in changes if isinstance(c, AddUser)})
        if new_users:
            self._request("write", "POST", "/users", body={"users": [{"name": u} for u in new_users]})

        assocs: list[dict[str, Any]] = []
        assocs += [formats.rest_new_assoc(cluster, c) for c in new_accounts]
        assocs += self._modifications(cluster, changes)
        # slurmrestd handles the list in order: account associations before their users
        assocs += [
            {"account": c.account, "cluster": cluster, "user": c.user} for c in changes if isinstance(c, AddUser)
        ]
        if assocs:
            self._request("write", "POST", "/associations", body={"associations": assocs})
        for c in changes:
            if isinstance(c, RemoveUser):
                # 304: nothing to delete, which is the desired state
                self._request(
                    "write",
                    "DELETE",
                    "/association",
                    params={"account": c.account, "cluster": cluster, "user": c.user},
                    ok_status=(200, 304),
                )

    def _modifications(self, cluster: str, changes: Sequence[Change]) -> list[dict[str, Any]]:
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
        bodies = (formats.rest_account_update(cluster, name, current.get(name), changes)
                  for name, changes in sorted(mods.items()))
        return [body for body in bodies if body is not None]
