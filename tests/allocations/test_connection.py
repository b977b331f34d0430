"""The allocation page tells the applicant how to use the compute: per direct site the login host, the
Slurm account for `sbatch -A`, the QOS, partition and GPU type and an example job script with the
account filled in; per hand-over site where the hand-over stands; usage per site over time with what
remains, the end date, and the extension and top-up requests."""

import datetime

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants.connection import connections, job_script, site_usage
from allocations.provisioning.models import HandoverTask, UsageSnapshot
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted():
    f.ensure_reference_data()
    Site.objects.filter(code="zellik").update(login_host="login.zellik.example.eu", default_partition="gpu",
                                              gpu_gres_type="h100", documentation_url="https://docs.example.eu/z/")
    allocation, _manager, applicant = f.approved_allocation(gpu=1000, sites=("zellik", "charleroi"))
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    return allocation, applicant


def test_job_script_names_the_account_qos_partition_and_gpu():
    script = job_script(account="aif_2026_0042", qos="aif_fast_lane", partition="gpu",
                        gpu_request="--gres=gpu:h100:1", name="first-job")
    assert script.splitlines() == [
        "#!/bin/bash", "#SBATCH --job-name=first-job", "#SBATCH --account=aif_2026_0042",
        "#SBATCH --qos=aif_fast_lane", "#SBATCH --partition=gpu", "#SBATCH --gres=gpu:h100:1",
        "#SBATCH --time=00:10:00", "", "srun nvidia-smi"]
    bare = job_script(account="aif_x", qos="", partition="", gpu_request="--gpus=1", name="j")
    assert "--qos" not in bare and "--partition" not in bare and "#SBATCH --gpus=1" in bare


def test_direct_site_gets_instructions_and_handover_site_its_status(granted):
    allocation, _applicant = granted
    allocation.refresh_from_db()
    zellik, charleroi = sorted(connections(allocation), key=lambda c: c.site.code, reverse=True)
    assert not zellik.handover and zellik.login_host == "login.zellik.example.eu"
    assert zellik.account == allocation.slurm_account and zellik.qos == "aif_fast_lane"
    assert f"#SBATCH --account={allocation.slurm_account}" in zellik.job_script
    assert "#SBATCH --gres=gpu:h100:1" in zellik.job_script and zellik.gpu_type == "NVIDIA H100 SXM"
    assert charleroi.handover and "Not handed over yet" in charleroi.handover_status
    HandoverTask.objects.create(site=charleroi.site, allocation=allocation, changes=[], desired_version=1)
    [_z, again] = sorted(connections(allocation), key=lambda c: c.site.code, reverse=True)
    assert "operators are opening the account" in again.handover_status
    HandoverTask.objects.filter(allocation=allocation).update(done_at=timezone.now())
    [_z, done] = sorted(connections(allocation), key=lambda c: c.site.code, reverse=True)
    assert "Opened by the remote centre on" in done.handover_status


def test_the_job_script_names_a_partition_the_access_mode_may_use(granted):
    """Where the site data limits the mode to partitions, the example names one of them, never the site's default
    partition that the members' associations leave out."""
    from allocations.catalogue.models import SiteAccessMode

    allocation, _applicant = granted
    allocation.refresh_from_db()
    zellik = next(c for c in connections(allocation) if c.site.code == "zellik")
    assert zellik.partition == "gpu" and "#SBATCH --partition=gpu" in zellik.job_script
    SiteAccessMode.objects.create(site=zellik.site, access_mode=allocation.application.access_mode,
                                  partitions="interactive,batch")
    zellik = next(c for c in connections(allocation) if c.site.code == "zellik")
    assert zellik.partition == "interactive" and "#SBATCH --partition=interactive" in zellik.job_script
    SiteAccessMode.objects.filter(site=zellik.site).update(partitions="batch,gpu")
    zellik = next(c for c in connections(allocation) if c.site.code == "zellik")
    assert zellik.partition == "gpu"


def test_usage_per_site_over_time_with_what_remains(granted):
    allocation, _applicant = granted
    zellik = Site.objects.get(code="zellik")
    for minutes in (60 * 100, 60 * 250):
        UsageSnapshot.objects.create(allocation=allocation, site=zellik, gpu_minutes=minutes)
    rows = {row.quota.site.code: row for row in site_usage(allocation)}
    assert (rows["zellik"].used, rows["zellik"].remaining, rows["zellik"].percent) == (250, 750, 25)
    assert [p.gpu_hours for p in rows["zellik"].points] == [100, 250]
    assert len(rows["zellik"].polyline.split()) == 2
    # Higher use is higher on the chart (a smaller y), under the quota's line.
    first, second = rows["zellik"].points
    assert second.y < first.y and rows["zellik"].quota_y < second.y
    assert rows["charleroi"].used is None and rows["charleroi"].points == []


def test_allocation_page_shows_connection_usage_and_requests(client, granted, django_assert_max_num_queries):
    allocation, applicant = granted
    zellik = Site.objects.get(code="zellik")
    UsageSnapshot.objects.create(allocation=allocation, site=zellik, gpu_minutes=60 * 400)
    client.force_login(applicant)
    url = reverse("grants:allocation_detail", args=[allocation.reference])
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()
    assert f"sbatch -A {allocation.slurm_account}" in page
    assert f"#SBATCH --account={allocation.slurm_account}" in page
    assert "login.zellik.example.eu" in page and "https://docs.example.eu/z/" in page
    assert "Not handed over yet" in page
    assert "GPU-hours remaining" in page and "<svg" in page and "GPU-hours used on Zellik over time" in page
    assert reverse("grants:change_request_new", args=[allocation.reference, "extension"]) in page
    assert reverse("grants:change_request_new", args=[allocation.reference, "top_up"]) in page
    assert allocation.end_date.strftime("%Y") in page


def test_the_queries_do_not_grow_with_the_snapshots(client, granted, django_assert_num_queries):
    allocation, applicant = granted
    zellik = Site.objects.get(code="zellik")
    client.force_login(applicant)
    url = reverse("grants:allocation_detail", args=[allocation.reference])
    UsageSnapshot.objects.create(allocation=allocation, site=zellik, gpu_minutes=60)
    client.get(url)
    with CaptureQueriesContext(db) as few:
        client.get(url)
    for day in range(30):
        snap = UsageSnapshot.objects.create(allocation=allocation, site=zellik, gpu_minutes=60 * (day + 2))
        UsageSnapshot.objects.filter(pk=snap.pk).update(taken_at=timezone.now() - datetime.timedelta(days=30 - day))
    with django_assert_num_queries(len(few)):
        client.get(url)
