"""Slurm 22.05 output parsing and rendering, on output captured from the real stack."""

from __future__ import annotations

import pytest

from allocations.provisioning.slurm import ActualAccount, QosSpec, SlurmParseError
from allocations.provisioning.slurm.backends import formats
from allocations.provisioning.slurm.plan import AddAccount, AddParent, AddUser, SetFairshare, SetMaxJobs

# sacctmgr -n -P show assoc where cluster=zellik account=... format=<formats.ASSOC_FIELDS>
SHOW_ASSOC = """\
org_t1|||root|||normal||||||1
t1_a|||org_t1|cpu=6000,gres/gpu=700|0|aif_ind|aif_ind|0||||1
t1_a|u1|||||aif_ind|aif_ind|||||1
t1_b|||org_t1|cpu=600,gres/gpu=60|0|aif_sme|aif_sme|0||||1
t1_b|u1|||||aif_sme|aif_sme|||||1
t1_g|||org_t1|gres/gpu=3|0|aif_sme|aif_sme||cpu=4,gres/gpu=1|5|01:30:00|99
p_three|||org_acme|||normal||||||parent
p_three|u1|||||normal||||||1
p_three|u2|||||normal||||||1
"""

# sshare -n -P -M zellik -a -A org_t1,p_three -o account,user,grptresraw (after a 31 s job, -c 2 --gres=gpu:2)
SSHARE = """\
CLUSTER: zellik
p_three||cpu=1,mem=0,energy=0,node=0,billing=1,fs/disk=0,vmem=0,pages=0,gres/gpu=1
 p_three|u1|cpu=1,mem=0,energy=0,node=0,billing=1,fs/disk=0,vmem=0,pages=0,gres/gpu=1
 p_three|u2|cpu=0,mem=0,energy=0,node=0,billing=0,fs/disk=0,vmem=0,pages=0,gres/gpu=0
org_t1||cpu=0,mem=0,energy=0,node=0,billing=0,fs/disk=0,vmem=0,pages=0,gres/gpu=0
"""

# sacctmgr -n -P show qos format=name,description,maxtres,maxwall,priority
SHOW_QOS = """\
normal|Normal QOS default|||0|
aif_sme|sme access|cpu=2,gres/gpu=2|01:30:00|10|DenyOnLimit,NoReserve
aif_ind|aif_ind|gres/gpu=2|1-02:03:00|0|
"""

# GET /slurmdb/v0.0.38/associations?cluster=charleroi (two of the associations, verbatim)
REST_ASSOCS = {
    "meta": {"plugin": {"type": "openapi/dbv0.0.38"}},
    "errors": [],
    "associations": [
        {"account":"t2_a","cluster":"charleroi","default":{"qos":"aif_ind"},"flags":[],"max":{"jobs":{"per":{"count":0,"accruing":None,"submitted":0,"wall_clock":None},"active":None,"accruing":None,"total":None},"tres":{"total":[],"minutes":{"per":{"job":[]},"total":[]},"group":{"minutes":[{"type":"cpu","name":None,"id":1,"count":6000},{"type":"gres","name":"gpu","id":1001,"count":700}],"active":[]},"per":{"job":[],"node":[]}},"per":{"account":{"wall_clock":None}}},"is_default":0,"min":{"priority_threshold":None},"parent_account":"org_t2","partition":None,"priority":None,"qos":["aif_ind"],"shares_raw":1,"usage":None,"user":None},  # noqa: E501
        {"account":"t2_a","cluster":"charleroi","default":{"qos":"aif_ind"},"flags":[],"max":{"jobs":{"per":{"count":None,"accruing":None,"submitted":None,"wall_clock":None},"active":None,"accruing":None,"total":None},"tres":{"total":[],"minutes":{"per":{"job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":[],"node":[]}},"per":{"account":{"wall_clock":None}}},"is_default":0,"min":{"priority_threshold":None},"parent_account":None,"partition":None,"priority":None,"qos":["aif_ind"],"shares_raw":1,"usage":None,"user":"u1"},  # noqa: E501
        {"account":"t2_b","cluster":"charleroi","default":{"qos":None},"flags":[],"max":{"jobs":{"per":{"count":None,"accruing":None,"submitted":None,"wall_clock":None},"active":None,"accruing":None,"total":None},"tres":{"total":[],"minutes":{"per":{"job":[]},"total":[]},"group":{"minutes":[],"active":[]},"per":{"job":[],"node":[]}},"per":{"account":{"wall_clock":None}}},"is_default":0,"min":{"priority_threshold":None},"parent_account":"org_t2","partition":None,"priority":None,"qos":["normal"],"shares_raw":1,"usage":None,"user":None},  # noqa: E501
        {"account":"t2_b","cluster":"zellik","parent_account":"root","qos":[],"user":None},
    ],
}  # fmt: skip


def test_parse_assoc():
    accounts = formats.parse_assoc(SHOW_ASSOC, "zellik")
    assert set(accounts) == {"org_t1", "t1_a", "t1_b", "t1_g", "p_three"}
    assert accounts["t1_a"] == ActualAccount(
        "zellik", "t1_a", "org_t1", {"cpu": 6000, "gres/gpu": 700}, 0, frozenset({"u1"}), frozenset({"aif_ind"}),
        "aif_ind", 0,
    )  # fmt: skip
    assert accounts["org_t1"].limits == {}
    assert accounts["org_t1"].grp_submit_jobs is None and accounts["org_t1"].grp_jobs is None
    assert accounts["org_t1"].default_qos is None
    assert accounts["p_three"].users == {"u1", "u2"}
    assert accounts["t1_b"].blocked and not accounts["p_three"].blocked
    # submissions refused but GrpJobs unset: a queued job could still start, so not blocked
    assert accounts["t1_g"].limits == {"gres/gpu": 3} and not accounts["t1_g"].blocked
    # set by hand (captured: modify account set GrpTRES=gres/gpu=1,cpu=4 MaxJobs=5 MaxWall=01:30:00 Fairshare=99)
    assert accounts["t1_g"].grp_tres == {"cpu": 4, "gres/gpu": 1}
    assert (accounts["t1_g"].max_jobs, accounts["t1_g"].max_wall_minutes, accounts["t1_g"].fairshare) == (5, 90, 99)
    assert accounts["t1_a"].grp_tres == {} and accounts["t1_a"].max_jobs is None
    assert accounts["t1_a"].max_wall_minutes is None and accounts["t1_a"].fairshare == 1
    assert accounts["p_three"].fairshare is None  # Fairshare=parent


def test_parse_assoc_empty_and_partition_rows():
    assert formats.parse_assoc("", "zellik") == {}
    rows = ("proj|||root|cpu=1||normal||||||1\nproj||gpu|root|cpu=9||normal||||||1\n"
            "proj|bob|gpu||||normal||||||1\n")
    accounts = formats.parse_assoc(rows, "zellik")
    assert accounts["proj"].limits == {"cpu": 1}
    assert accounts["proj"].users == {"bob"}
    # A user association of a partition is kept with its partition, beside one that names none.
    rows += "proj|carol|||||normal||||||1\n"
    accounts = formats.parse_assoc(rows, "zellik")
    assert accounts["proj"].users == {"bob", "carol"}
    assert accounts["proj"].user_associations == {("bob", "gpu"), ("carol", "")}
    # Without partitions, the users say it all.
    plain = formats.parse_assoc("proj|||root|cpu=1||normal||||||1\nproj|dan|||||normal||||||1\n", "zellik")
    assert plain["proj"].user_partitions == frozenset() and plain["proj"].user_associations == {("dan", "")}


@pytest.mark.parametrize("bad", ["a|b|c\n", "proj|||root|cpu=x||normal||||||1\n", "proj|||root|cpu||normal||||||1\n",
                                 "proj|||root|||normal||x||||1\n", "proj|||root|||normal|||cpu||1\n",
                                 "proj|||root|||normal||||x||1\n", "proj|||root|||normal||||||many\n",
                                 "proj|||root|||normal||\n"])
def test_parse_assoc_refuses_unknown_shapes(bad):
    with pytest.raises(SlurmParseError):
        formats.parse_assoc(bad, "zellik")


def test_parse_sshare_keeps_account_rows_only():
    assert formats.parse_sshare(SSHARE) == {
        "p_three": {"gpu_minutes": 1, "cpu_minutes": 1},
        "org_t1": {"gpu_minutes": 0, "cpu_minutes": 0},
    }


def test_parse_sshare_with_header_and_indented_subaccount():
    text = "Account|User|GrpTRESRaw\n  proj_x||cpu=12,gres/gpu=3\n"
    assert formats.parse_sshare(text) == {"proj_x": {"gpu_minutes": 3, "cpu_minutes": 12}}


def test_parse_tres():
    assert formats.parse_tres("cpu=6000,gres/gpu=600") == {"cpu": 6000, "gres/gpu": 600}
    assert formats.parse_tres("") == {}
    assert formats.parse_tres("cpu=1.75") == {"cpu": 1}
    # memory-like TRES come with a unit (captured: GrpTRESMins set to mem=5 shows as mem=5M)
    assert formats.parse_tres("cpu=6000,gres/gpu=1,mem=5M") == {"cpu": 6000, "gres/gpu": 1, "mem": 5}
    assert formats.parse_tres("mem=2G,vmem=1T") == {"mem": 2048, "vmem": 1048576}
    for bad in ("cpu", "cpu=x", "=5", "cpu=5Q", "cpu=-1"):
        with pytest.raises(SlurmParseError):
            formats.parse_tres(bad)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("", None), ("UNLIMITED", None), ("01:30:00", 90), ("1-02:03:00", 1563), ("10:00", 10), ("00:00:30", 1)],
)
def test_parse_duration(text, minutes):
    assert formats.parse_duration_minutes(text) == minutes


def test_parse_qos_and_match():
    seen = formats.parse_qos(SHOW_QOS)
    assert seen["aif_sme"] == {
        "description": "sme access",
        "max_tres_per_job": {"cpu": 2, "gres/gpu": 2},
        "max_wall_minutes": 90,
        "priority": 10,
        "flags": frozenset({"DenyOnLimit", "NoReserve"}),
    }
    # sacctmgr lower-cases the description: still a match; the site's own flag (NoReserve) is left alone
    assert formats.qos_matches(QosSpec("aif_sme", "SME access", {"cpu": 2, "gres/gpu": 2}, 90, 10), seen["aif_sme"])
    assert not formats.qos_matches(QosSpec("aif_sme", "SME access", {"gres/gpu": 2}, 90, 10), seen["aif_sme"])
    assert not formats.qos_matches(QosSpec("aif_new", "x"), seen.get("aif_new"))
    # DenyOnLimit is required: a QOS without it differs, and the difference is readable
    assert seen["aif_ind"]["flags"] == frozenset()
    assert formats.qos_differences(QosSpec("aif_ind", "aif_ind", {"gres/gpu": 2}, 1563), seen["aif_ind"]) == [
        "QOS aif_ind: flag DenyOnLimit missing"]
    assert formats.qos_matches(QosSpec("aif_ind", "aif_ind", {"gres/gpu": 2}, 1563, flags=()), seen["aif_ind"])


def test_qos_settings_clear_unwanted_tres():
    seen = formats.parse_qos(SHOW_QOS)["aif_sme"]
    args = formats.qos_settings(QosSpec("aif_sme", "SME access", {"gres/gpu": 4}, None, 5), seen)
    assert args == ["Description=SME access", "Priority=5", "MaxWall=-1", "MaxTRESPerJob=cpu=-1,gres/gpu=4"]


def test_qos_settings_add_the_missing_flag_and_keep_the_sites_own():
    seen = formats.parse_qos(SHOW_QOS)["aif_ind"]
    args = formats.qos_settings(QosSpec("aif_ind", "aif_ind", {"gres/gpu": 2}, 1563), seen)
    assert args[-1] == "Flags+=DenyOnLimit"  # += adds; = would drop the site's other flags
    assert formats.qos_settings(QosSpec("aif_new", "new"), None)[-1] == "Flags+=DenyOnLimit"


def test_render_load_file_only_adds_and_no_default_account():
    changes = [
        AddParent("zellik", "org_a", "ACME group", "acme"),
        AddAccount("zellik", "proj_a", "org_a", "Project A", "acme", 600, 6000, True, "aif_sme"),
        AddAccount("zellik", "proj_r", "root", "Project R", "acme", 1, 2, False, None),
        AddUser("zellik", "proj_a", "bob"),
        AddUser("zellik", "proj_a", "alice"),
        AddUser("zellik", "proj_old", "carol"),  # user added to an account that already exists
    ]
    assert formats.render_load_file("zellik", changes) == (
        "Cluster - 'zellik'\n"
        "Parent - 'root'\n"
        "Account - 'org_a':Description='ACME group':Organization='acme'\n"
        "Account - 'proj_r':Description='Project R':Organization='acme':GrpTRESMins=cpu=2,gres/gpu=1\n"
        "Parent - 'org_a'\n"
        "Account - 'proj_a':Description='Project A':Organization='acme':GrpTRESMins=cpu=6000,gres/gpu=600"
        ":GrpSubmitJobs=0:GrpJobs=0:QOS='aif_sme':DefaultQOS='aif_sme'\n"
        "Parent - 'proj_a'\n"
        "User - 'alice'\n"
        "User - 'bob'\n"
        "Parent - 'proj_old'\n"
        "User - 'carol'\n"
    )


def test_parse_rest_associations():
    accounts = formats.parse_rest_associations(REST_ASSOCS, "charleroi")
    assert set(accounts) == {"t2_a", "t2_b"}  # the zellik row is another cluster
    assert accounts["t2_a"] == ActualAccount(
        "charleroi", "t2_a", "org_t2", {"cpu": 6000, "gres/gpu": 700}, 0, frozenset({"u1"}), frozenset({"aif_ind"}),
        "aif_ind", 0,
    )  # fmt: skip
    assert accounts["t2_a"].blocked
    assert accounts["t2_b"].limits == {} and accounts["t2_b"].grp_submit_jobs is None
    assert accounts["t2_b"].grp_jobs is None
    assert accounts["t2_b"].default_qos is None


def test_parse_rest_errors_raise():
    with pytest.raises(SlurmParseError):
        formats.parse_rest_associations({"errors": [{"error": "boom"}]}, "zellik")


def test_rest_account_assoc_always_carries_tres_minutes():
    body = formats.rest_account_assoc("zellik", "proj_a", limits=(("cpu", 10), ("gres/gpu", 2)), blocked=True)
    assert body == {
        "account": "proj_a",
        "cluster": "zellik",
        "user": None,
        "max": {
            "jobs": {"per": {"submitted": 0, "count": 0, "wall_clock": -1}, "active": -1},
            # no GrpTRES to set or clear: no "total" at all (an empty list crashes 22.05.8's slurmrestd)
            "tres": {"group": {"minutes": [{"type": "cpu", "count": 10}, {"type": "gres", "name": "gpu", "count": 2}]}},
        },
        "shares_raw": 1,
    }
    unblocked = formats.rest_account_assoc("zellik", "p", limits={"cpu": 1}, blocked=False, parent="o", qos="q")
    assert unblocked["max"]["jobs"]["per"] == {"submitted": -1, "count": -1, "wall_clock": -1}
    assert unblocked["parent_account"] == "o" and unblocked["qos"] == ["q"] and unblocked["default"] == {"qos": "q"}


def test_rest_account_assoc_writes_every_owned_setting():
    body = formats.rest_account_assoc(
        "zellik", "p", limits={"cpu": 1}, blocked=False, qos=("aif_sme", "site_default"), default_qos="site_default",
        grp_tres=(("gres/gpu", 2),), max_jobs=4, max_wall_minutes=720, fairshare=50)
    assert body["max"]["jobs"] == {"per": {"submitted": -1, "count": -1, "wall_clock": 720}, "active": 4}
    assert body["max"]["tres"]["total"] == [{"type": "gres", "name": "gpu", "count": 2}]
    assert body["qos"] == ["aif_sme", "site_default"] and body["default"] == {"qos": "site_default"}
    assert body["shares_raw"] == 50
    cleared = formats.rest_account_assoc("zellik", "p", limits={"cpu": 1}, blocked=False, grp_tres=(("gres/gpu", -1),))
    assert cleared["max"]["tres"]["total"] == [{"type": "gres", "name": "gpu", "count": -1}]


def test_rest_update_never_sends_an_empty_tres_list():
    """Captured on 22.05.8: POST /associations with ``max.tres.total: []`` kills slurmrestd (connection reset, the
    daemon gone), as an empty ``max.tres.group.minutes`` does."""
    now = ActualAccount("zellik", "p", "org", {"cpu": 10})
    body = formats.rest_account_update("zellik", "p", now, [SetMaxJobs("zellik", "p", 3)])
    assert "total" not in body["max"]["tres"] and body["max"]["tres"]["group"]["minutes"]
    assert body["max"]["jobs"]["active"] == 3
    # a TRES limit the site set (captured: MaxTRES=cpu=2 is max.tres.per.job) goes back as it was: without it,
    # slurmrestd 22.05.8 crashes
    site = ActualAccount("zellik", "p", "org", {"cpu": 10}, site_tres={"per.job": {"cpu": 2}})
    body = formats.rest_account_update("zellik", "p", site, [SetFairshare("zellik", "p", 5)])
    assert body["max"]["tres"]["per"] == {"job": [{"type": "cpu", "count": 2}]}
    assert body["max"]["tres"]["group"]["minutes"] == [{"type": "cpu", "count": 10}]
    # an organisation's parent account has no minutes: no body, its change goes to the sacctmgr fallback
    assert formats.rest_account_update("zellik", "org", ActualAccount("zellik", "org", "root"),
                                       [SetFairshare("zellik", "org", 5)]) is None


def test_parse_rest_associations_reads_the_owned_settings():
    # captured after `sacctmgr modify account ... set GrpTRES=gres/gpu=1,cpu=4 MaxJobs=5 MaxWall=01:30:00
    # Fairshare=99 MaxSubmitJobs=7 GrpWall=100` (22.05: GrpTRES is max.tres.total)
    assoc = {"account": "probe", "cluster": "zellik", "default": {"qos": None}, "flags": [], "max": {"jobs": {"per": {"count": None, "accruing": None, "submitted": None, "wall_clock": 90}, "active": 5, "accruing": None, "total": 7}, "tres": {"total": [{"type": "cpu", "name": None, "id": 1, "count": 4}, {"type": "gres", "name": "gpu", "id": 1001, "count": 1}], "minutes": {"per": {"job": []}, "total": []}, "group": {"minutes": [], "active": []}, "per": {"job": [], "node": []}}, "per": {"account": {"wall_clock": 100}}}, "is_default": 0, "min": {"priority_threshold": None}, "parent_account": "root", "partition": None, "priority": None, "qos": ["normal"], "shares_raw": 99, "usage": None, "user": None}  # noqa: E501
    probe = formats.parse_rest_associations({"associations": [assoc]}, "zellik")["probe"]
    assert probe.grp_tres == {"cpu": 4, "gres/gpu": 1}
    assert (probe.max_jobs, probe.max_wall_minutes, probe.fairshare) == (5, 90, 99)
    assert probe.site_tres == {}
    assoc["max"]["tres"]["per"]["job"] = [{"type": "cpu", "name": None, "id": 1, "count": 2}]
    assert formats.parse_rest_associations({"associations": [assoc]}, "zellik")["probe"].site_tres == {
        "per.job": {"cpu": 2}}
    accounts = formats.parse_rest_associations(REST_ASSOCS, "charleroi")
    assert accounts["t2_a"].grp_tres == {} and accounts["t2_a"].max_jobs is None
    assert accounts["t2_a"].max_wall_minutes is None and accounts["t2_a"].fairshare == 1


def test_render_load_file_writes_the_owned_settings_only_when_set():
    change = AddAccount("zellik", "proj_s", "org_a", "Set", "acme", 600, 6000, False, "aif_sme", "site_default",
                        50, 4, 720, (("gres/gpu", 2),))
    parent = AddParent("zellik", "org_a", "ACME", "acme", 20)
    lines = formats.render_load_file("zellik", [parent, change]).splitlines()
    assert lines[2] == "Account - 'org_a':Description='ACME':Organization='acme':Fairshare=20"
    assert lines[4] == (
        "Account - 'proj_s':Description='Set':Organization='acme':GrpTRESMins=cpu=6000,gres/gpu=600"
        ":GrpTRES=gres/gpu=2:MaxJobs=4:MaxWall=720:QOS='aif_sme,site_default':DefaultQOS='site_default'"
        ":Fairshare=50")


def test_render_load_file_leaves_out_a_tres_the_grant_does_not_limit():
    gpu_only = AddAccount("zellik", "proj_g", "root", "GPU only", "acme", 600, None, False, None)
    assert formats.render_load_file("zellik", [gpu_only]).splitlines()[2] == (
        "Account - 'proj_g':Description='GPU only':Organization='acme':GrpTRESMins=gres/gpu=600")


# squeue -M zellik -h -A ... -t PENDING,RUNNING,... -o '%i|%a|%u|%T|%r' (one cluster: no CLUSTER line)
SQUEUE = """\
10|xexp_a|aiftest1|PENDING|JobHeldAdmin
9|xexp_a|aiftest1|PENDING|Resources
8|xexp_a|aiftest1|RUNNING|None
"""


def test_parse_squeue():
    jobs = formats.parse_squeue(SQUEUE)
    assert [(j.job_id, j.pending, j.running, j.reason) for j in jobs] == [
        ("10", True, False, "JobHeldAdmin"), ("9", True, False, "Resources"), ("8", False, True, "None")]
    assert formats.parse_squeue("CLUSTER: zellik\n" + SQUEUE) == jobs
    assert formats.parse_squeue("") == []
    with pytest.raises(SlurmParseError):
        formats.parse_squeue("10|xexp_a|PENDING\n")
