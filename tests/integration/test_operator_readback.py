"""The operator's site page on the real Slurm stack: the read a task stores, compared by the planner.

A synced site reads as in sync (the organisation's parent account and the access mode's QOS included); a
setting changed by hand on the cluster is the one row that differs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from allocations.catalogue.models import Site
from allocations.provisioning.models import ReadbackStatus
from allocations.provisioning.services import read_site_state
from tests.factories import OperatorFactory
from tests.integration.test_slurm_jobs import Z, granted, job_user, run, stack  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.slurm, pytest.mark.django_db(transaction=True)]


def test_the_stored_read_of_a_synced_site_then_a_change_by_hand(stack, job_user, client):  # noqa: F811
    allocation, _manager = granted(stack, job_user)
    site = Site.objects.get(code=Z)
    readback = read_site_state(site=site)
    assert readback.status == ReadbackStatus.DONE and readback.error == "", readback.error
    assert readback.changes == [] and not any(row["differs"] for row in readback.rows)
    rows = {(r["account"], r["field"]): r for r in readback.rows}
    assert rows[(f"org_{allocation.organisation_id}", "parent")]["actual"] == "root"
    assert rows[(allocation.slurm_account, "qos")]["actual"] == allocation.application.access_mode.slurm_qos
    assert rows[(allocation.slurm_account, "grp_jobs")]["actual"] == ""  # unset, as desired for an open account

    done = run(stack["env"], "sacctmgr", "-i", "modify", "account", "where", f"name={allocation.slurm_account}",
               f"cluster={Z}", "set", "GrpJobs=0")
    assert done.returncode == 0, done.stderr
    readback = read_site_state(site=site)
    differing = [(r["account"], r["field"], r["desired"], r["actual"]) for r in readback.rows if r["differs"]]
    assert differing == [(allocation.slurm_account, "grp_jobs", "", "0")]
    client.force_login(OperatorFactory(totp=True))
    body = client.get(reverse("provisioning:site_detail", args=[Z])).content.decode()
    assert body.count('class="differs"') == 1 and f"unblock account {allocation.slurm_account}" in body
