"""What the allocation page tells the applicant about using the compute: how to connect to each site,
and the usage of each site over time. Built from the site data an operator edits (login host,
documentation, partition, GPU type), the allocation's Slurm account and its access mode's QOS (the names
provisioning gives the cluster), and the usage snapshots provisioning stores. Nothing here writes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from allocations.catalogue.models import GpuModel, ProvisioningMode, Site, SiteAccessMode
from allocations.grants.models import Allocation, AllocationQuota
from allocations.provisioning.models import HandoverTask, UsageSnapshot
from portal.vocabulary import choice_label

# The example job: one GPU for a few minutes, so a first try costs next to nothing.
EXAMPLE_TIME = "00:10:00"


@dataclass(frozen=True)
class SiteConnection:
    site: Site
    handover: bool
    login_host: str = ""
    account: str = ""
    qos: str = ""
    partition: str = ""
    gpu_type: str = ""
    gpu_request: str = ""
    documentation_url: str = ""
    job_script: str = ""
    handover_status: str = ""


def _gpu_request(site: Site) -> str:
    return f"--gres=gpu:{site.gpu_gres_type}:1" if site.gpu_gres_type else "--gpus=1"


def job_script(*, account: str, qos: str, partition: str, gpu_request: str, name: str) -> str:
    """An example batch script with the allocation's account filled in (what `sbatch -A` takes)."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}", f"#SBATCH --account={account}"]
    if qos:
        lines.append(f"#SBATCH --qos={qos}")
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    lines += [f"#SBATCH {gpu_request}", f"#SBATCH --time={EXAMPLE_TIME}", "", "srun nvidia-smi"]
    return "\n".join(lines) + "\n"


def _handover_status(task: HandoverTask | None) -> str:
    if task is None:
        return _("Not handed over yet: the portal hands the allocation over to the remote centre when it starts.")
    if task.done_at is None:
        return _("Handed over on %(date)s; the remote centre's operators are opening the account. The centre "
                 "tells your team how to connect.") % {"date": _date(task.created_at)}
    return _("Opened by the remote centre on %(date)s. The centre tells your team how to connect.") % {
        "date": _date(task.done_at)}


def _date(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment).date(), "DATE_FORMAT")


def connections(allocation: Allocation) -> list[SiteConnection]:
    """Per site of the allocation's quotas, in the quotas' order: how to connect (direct sites), or
    where the hand-over stands (remote sites). Two queries: the quotas (prefetched by the page's selector
    when it can) and the hand-overs."""
    quotas = list(allocation.quotas.all())
    handovers: dict[int, HandoverTask] = {}
    for task in HandoverTask.objects.filter(allocation=allocation).order_by("site_id", "-created_at"):
        handovers.setdefault(task.site_id, task)
    mode = allocation.application.access_mode
    restricted = {row.site_id: row.partition_list for row in SiteAccessMode.objects.filter(
        access_mode=mode, site_id__in=[q.site_id for q in quotas]).exclude(partitions="")}
    rows = []
    for quota in quotas:
        site = quota.site
        if site.provisioning_mode == ProvisioningMode.HANDOVER:
            rows.append(SiteConnection(site=site, handover=True,
                                       handover_status=_handover_status(handovers.get(site.pk))))
            continue
        gpu_request = _gpu_request(site)
        # Where the access mode runs in named partitions only, the example names one of them.
        allowed = restricted.get(site.pk, ())
        partition = site.default_partition if not allowed or site.default_partition in allowed else allowed[0]
        rows.append(SiteConnection(
            site=site, handover=False, login_host=site.login_host, account=allocation.slurm_account,
            qos=mode.slurm_qos, partition=partition, gpu_type=choice_label(GpuModel, site.gpu_model),
            gpu_request=gpu_request, documentation_url=site.documentation_url,
            job_script=job_script(account=allocation.slurm_account, qos=mode.slurm_qos,
                                  partition=partition, gpu_request=gpu_request, name="first-job")))
    return rows


# --- usage over time ---------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 600, 200, 36


@dataclass
class UsagePoint:
    taken_at: datetime.datetime
    gpu_hours: int
    x: float = 0
    y: float = 0


@dataclass
class SiteUsage:
    """One site's GPU-hours: granted, used (the newest snapshot), remaining, and the snapshots as the
    points of a chart (SVG coordinates computed here, so the template only prints them)."""

    quota: AllocationQuota
    used: int | None
    points: list[UsagePoint] = field(default_factory=list)
    polyline: str = ""
    quota_y: float = 0

    @property
    def granted(self) -> int:
        return self.quota.gpu_hours

    @property
    def remaining(self) -> int | None:
        return None if self.used is None else max(self.granted - self.used, 0)

    @property
    def percent(self) -> int | None:
        if self.used is None or not self.granted:
            return None
        return round(100 * self.used / self.granted)

    @property
    def width(self) -> int:
        return CHART_WIDTH

    @property
    def height(self) -> int:
        return CHART_HEIGHT

    @property
    def left(self) -> int:
        return CHART_PAD

    @property
    def bottom(self) -> int:
        return CHART_HEIGHT - CHART_PAD

    @property
    def right(self) -> int:
        return CHART_WIDTH - CHART_PAD // 2


def _hours(minutes: int) -> int:
    return round(minutes / 60)


def site_usage(allocation: Allocation) -> list[SiteUsage]:
    """GPU-hours per site of the allocation over time: one query for every snapshot of the allocation."""
    by_site: dict[int, list[UsagePoint]] = {}
    for snap in UsageSnapshot.objects.filter(allocation=allocation).order_by("taken_at", "pk").only(
            "site_id", "taken_at", "gpu_minutes"):
        by_site.setdefault(snap.site_id, []).append(UsagePoint(taken_at=snap.taken_at,
                                                               gpu_hours=_hours(snap.gpu_minutes)))
    start = timezone.make_aware(datetime.datetime.combine(allocation.start_date, datetime.time()))
    end = timezone.make_aware(datetime.datetime.combine(allocation.end_date, datetime.time()))
    rows = []
    for quota in allocation.quotas.all():
        points = by_site.get(quota.site_id, [])
        row = SiteUsage(quota=quota, used=points[-1].gpu_hours if points else None, points=points)
        _place(row, start, end)
        rows.append(row)
    return rows


def _place(row: SiteUsage, start: datetime.datetime, end: datetime.datetime) -> None:
    """Chart coordinates: time from the start to the end date across, GPU-hours from 0 to the larger of
    the quota and the use upwards."""
    span = max((end - start).total_seconds(), 1.0)
    top = max([row.granted] + [p.gpu_hours for p in row.points] + [1])
    plot_w, plot_h = CHART_WIDTH - CHART_PAD - CHART_PAD // 2, CHART_HEIGHT - CHART_PAD - CHART_PAD // 2
    for p in row.points:
        share = min(max((p.taken_at - start).total_seconds() / span, 0.0), 1.0)
        p.x = round(CHART_PAD + share * plot_w, 1)
        p.y = round(CHART_HEIGHT - CHART_PAD - plot_h * p.gpu_hours / top, 1)
    row.polyline = " ".join(f"{p.x},{p.y}" for p in row.points)
    row.quota_y = round(CHART_HEIGHT - CHART_PAD - plot_h * row.granted / top, 1)
