"""Site data for the Slurm accounts (fair share, default QOS, MaxJobs, MaxWall, GrpTRES per access mode): what the
desired state holds, what a reconcile records, the operator's site page, and the admin's validation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from allocations.catalogue.models import Site, SiteAccessMode
from allocations.provisioning.services import read_site_state, reconcile_site, site_desired
from allocations.provisioning.slurm.desired import DesiredAccount, DesiredParent
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def record_backend(settings):
    settings.AIF_SLURM_BACKEND = ""  # every site keeps its default backend: record


def desired_of(site, allocation) -> tuple[DesiredParent, DesiredAccount]:
    items = site_desired(site)
    account = next(d for d in items if d.name == allocation.slurm_account)
    parent = next(d for d in items if d.name == account.parent)
    return parent, account


def test_without_site_data_the_portal_wants_slurms_defaults():
    allocation = f.allocation()
    parent, account = desired_of(f.site("zellik"), allocation)
    assert parent.fairshare == 1 and account.fairshare == 1
    assert (account.max_jobs, account.max_wall_minutes, account.grp_tres) == (None, None, {})
    mode_qos = allocation.application.access_mode.slurm_qos or None
    assert account.qos == mode_qos and account.default_qos is None


def test_the_sites_values_and_the_modes_on_the_site():
    allocation = f.allocation()
    zellik = f.site("zellik")
    mode = allocation.application.access_mode
    Site.objects.filter(pk=zellik.pk).update(fairshare=30, default_qos="site_normal")
    parent, account = desired_of(Site.objects.get(pk=zellik.pk), allocation)
    assert parent.fairshare == 30 and account.fairshare == 30 and account.default_qos == "site_normal"

    SiteAccessMode.objects.create(site=zellik, access_mode=mode, fairshare=20, default_qos="mode_default",
                                  max_running_jobs=4, max_job_hours=12, max_gpus_at_once=2)
    parent, account = desired_of(Site.objects.get(pk=zellik.pk), allocation)
    assert parent.fairshare == 30, "the organisation's account keeps the site's shares"
    assert (account.fairshare, account.default_qos, account.max_jobs, account.max_wall_minutes) == (
        20, "mode_default", 4, 720)
    assert account.grp_tres == {"gres/gpu": 2}
    # another site's settings do not leak
    other = SiteAccessMode.objects.get(site=zellik)
    other.pk, other.site = None, f.site("charleroi")
    other.fairshare = 99
    other.save()
    assert desired_of(Site.objects.get(pk=zellik.pk), allocation)[1].fairshare == 20


def test_building_a_site_reads_the_settings_once_whatever_the_number_of_allocations():
    zellik = f.site("zellik")
    first = f.allocation()
    SiteAccessMode.objects.create(site=zellik, access_mode=first.application.access_mode, fairshare=20)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            site_desired(zellik)
        return len(ctx)

    few = queries()
    for _ in range(3):
        f.allocation()
    assert queries() == few


def test_a_reconcile_writes_them_and_the_operators_page_shows_them(client):
    allocation = f.allocation()
    zellik = f.site("zellik")
    SiteAccessMode.objects.create(site=zellik, access_mode=allocation.application.access_mode, fairshare=20,
                                  max_running_jobs=4)
    attempt = reconcile_site(site=zellik)
    assert f"zellik: set Fairshare of {allocation.slurm_account} to 20" in attempt.drift or any(
        f"add account {allocation.slurm_account}" in line for line in attempt.drift)
    readback = read_site_state(site=zellik)
    rows = {(r["account"], r["field"]): r for r in readback.rows}
    assert rows[(allocation.slurm_account, "fairshare")] == {
        "account": allocation.slurm_account, "field": "fairshare", "desired": "20", "actual": "20", "differs": False}
    assert rows[(allocation.slurm_account, "max_jobs")]["actual"] == "4"
    client.force_login(f.OperatorFactory(totp=True))
    body = client.get(reverse("provisioning:site_detail", args=["zellik"])).content.decode()
    assert "Fair-share shares" in body and "Running jobs per user (MaxJobs)" in body


@pytest.mark.parametrize(("field", "value"), [
    ("default_qos", "Normal"), ("default_qos", "a,b"), ("default_qos", "x;rm"), ("fairshare", 0),
    ("fairshare", 10**7), ("max_job_hours", 0), ("max_job_hours", 10**5),
    ("partitions", "gpu debug"), ("partitions", "GPU"), ("partitions", "gpu,,debug"), ("partitions", "gpu,"),
    ("partitions", "-gpu"), ("partitions", "gpu;rm"), ("partitions", "a" * 35),
])
def test_the_admin_accepts_slurm_names_and_sane_numbers_only(field, value):
    row = SiteAccessMode(site=f.site("zellik"), access_mode=f.mode(), **{field: value})
    with pytest.raises(ValidationError) as err:
        row.full_clean()
    assert field in err.value.message_dict


def test_the_admin_accepts_partitions_the_slurm_backends_accept():
    row = SiteAccessMode(site=f.site("zellik"), access_mode=f.mode(), partitions="gpu,debug_2,a" + "b" * 33)
    row.full_clean()


def test_a_site_with_a_hostile_default_qos_is_refused():
    zellik = f.site("zellik")
    zellik.default_qos = "normal,evil"
    with pytest.raises(ValidationError) as err:
        zellik.full_clean()
    assert "default_qos" in err.value.message_dict
