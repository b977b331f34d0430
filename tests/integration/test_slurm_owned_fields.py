"""The settings the portal owns, through the portal, on the real Slurm stack: values set by hand with sacctmgr are
found by `slurm_reconcile --dry-run` (nothing changed) and corrected by a reconcile, the site's own settings stay;
the site data (fair share, default QOS, job limits per access mode) reach the cluster and the operator's site page."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from allocations.catalogue.models import Site, SiteAccessMode
from allocations.provisioning.models import SyncAttempt, SyncOutcome
from allocations.provisioning.services import read_site_state, reconcile_site, sync_allocation
from tests.factories import OperatorFactory
from tests.integration.conftest import sacctmgr
from tests.integration.test_slurm_jobs import Z, granted, job_user, run, stack  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.slurm, pytest.mark.django_db(transaction=True)]


def shown(env, account, fields="grptres,maxjobs,maxwall,fairshare") -> str:
    return sacctmgr(env, "show", "assoc", "where", f"account={account}", f"cluster={Z}", "user=",
                    f"format={fields}").strip()


def test_settings_set_by_hand_are_found_by_a_dry_run_and_corrected_by_a_reconcile(stack, job_user):  # noqa: F811
    env = stack["env"]
    allocation, _manager = granted(stack, job_user)
    account, org = allocation.slurm_account, f"org_{allocation.organisation_id}"
    assert shown(env, account) == "|||1"
    done = run(env, "sacctmgr", "-i", "modify", "account", "where", f"name={account}", f"cluster={Z}", "set",
               "MaxJobs=5", "Fairshare=99", "GrpTRES=gres/gpu=1", "MaxSubmitJobs=7", "GrpWall=100")
    assert done.returncode == 0, done.stderr

    out = StringIO()
    call_command("slurm_reconcile", "--site", Z, "--dry-run", stdout=out)
    report = out.getvalue()
    assert f"{Z} (sacctmgr): dry_run" in report, report
    for line in (f"set GrpTRES of {account} to gres/gpu=-1", f"set MaxJobs of {account} to unset",
                 f"set Fairshare of {account} to 1"):
        assert line in report, report
    assert "MaxSubmitJobs" not in report and "GrpWall" not in report
    assert shown(env, account) == "gres/gpu=1|5||99", "a dry run changes nothing"

    attempt = reconcile_site(site=Site.objects.get(code=Z))
    assert attempt.outcome == SyncOutcome.DRIFT_FIXED, attempt.error
    assert shown(env, account) == "|||1"
    assert shown(env, account, "maxsubmit,grpwall") == "7|01:40:00", "the site's own settings stay"
    assert shown(env, org, "fairshare") == "1"
    again = reconcile_site(site=Site.objects.get(code=Z))
    assert again.outcome == SyncOutcome.NOOP, again.drift


def test_site_data_reach_the_cluster_and_the_operators_page(stack, job_user, client):  # noqa: F811
    env = stack["env"]
    allocation, _manager = granted(stack, job_user)
    account, org = allocation.slurm_account, f"org_{allocation.organisation_id}"
    site = Site.objects.get(code=Z)
    mode = allocation.application.access_mode
    Site.objects.filter(pk=site.pk).update(fairshare=30)
    SiteAccessMode.objects.create(site=site, access_mode=mode, fairshare=20, max_running_jobs=4, max_job_hours=12,
                                  max_gpus_at_once=2)
    try:
        assert sync_allocation(allocation_id=allocation.pk) == "synced"
        assert shown(env, account) == "gres/gpu=2|4|12:00:00|20"
        assert shown(env, org, "fairshare") == "30"
        last = SyncAttempt.objects.filter(allocation=allocation).latest("pk")
        assert f"{Z}: set Fairshare of {account} to 20" in last.drift

        readback = read_site_state(site=site)
        assert readback.changes == [], readback.changes
        rows = {(r["account"], r["field"]): r for r in readback.rows}
        assert rows[(account, "fairshare")]["actual"] == "20"
        assert rows[(org, "fairshare")]["actual"] == "30"
        assert rows[(account, "max_wall")]["actual"] == "720"
        assert rows[(account, "grp_tres")]["actual"] == "gres/gpu=2"

        client.force_login(OperatorFactory(totp=True))
        body = client.get(reverse("provisioning:site_detail", args=[Z])).content.decode()
        assert "Fair-share shares" in body and "Running jobs per user (MaxJobs)" in body
        assert 'class="differs"' not in body
    finally:
        Site.objects.filter(pk=site.pk).update(fairshare=None)
