"""plan_changes: pure, so tested exhaustively (every field, every combination, and a convergence check).
compare_fields, the per-setting comparison the planner decides with, agrees with it on every case."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from allocations.provisioning.slurm import ActualAccount, DesiredAccount, DesiredParent, SlurmValueError, plan_changes
from allocations.provisioning.slurm.plan import (
    AddAccount,
    AddParent,
    AddUser,
    Change,
    RemoveUser,
    SetBlocked,
    SetFairshare,
    SetGrpTres,
    SetLimits,
    SetMaxJobs,
    SetMaxWall,
    SetParent,
    SetQos,
    compare_fields,
)

Z = "zellik"
C = "charleroi"


def acct(name="proj_a", cluster=Z, parent="org_a", gpu=600, cpu=6000, blocked=False, users=("alice",), qos=None):
    return DesiredAccount(cluster, name, parent, "Project A", "acme", gpu, cpu, blocked, frozenset(users), qos)


def parent(name="org_a", cluster=Z):
    return DesiredParent(cluster, name, "ACME", "acme")


def actual(
    name="proj_a", cluster=Z, parent="org_a", limits=None, submit=None, users=("alice",), qos=("normal",), defqos=None,
    jobs="same",
):
    """``jobs`` is GrpJobs; by default the same as GrpSubmitJobs (``submit``), as the portal writes them."""
    limits = {"cpu": 6000, "gres/gpu": 600} if limits is None else limits
    grp_jobs = submit if jobs == "same" else jobs
    return ActualAccount(cluster, name, parent, limits, submit, frozenset(users), frozenset(qos), defqos, grp_jobs)


def state(*accounts: ActualAccount) -> dict[str, dict[str, ActualAccount]]:
    out: dict[str, dict[str, ActualAccount]] = {}
    for a in accounts:
        out.setdefault(a.cluster, {})[a.name] = a
    return out


IN_SYNC = state(actual("org_a", parent="root", limits={}, users=()), actual())


# ------------------------------------------------------------------------------------------- basics


def test_empty_desired_plans_nothing_and_deletes_nothing():
    assert plan_changes([], IN_SYNC) == []


def test_in_sync_plans_nothing():
    assert plan_changes([parent(), acct()], IN_SYNC) == []


def test_from_empty_adds_parent_account_and_users_in_order():
    changes = plan_changes([acct(users=("bob", "alice")), parent()], {})
    assert changes == [
        AddParent(Z, "org_a", "ACME", "acme"),
        AddAccount(Z, "proj_a", "org_a", "Project A", "acme", 600, 6000, False, None),
        AddUser(Z, "proj_a", "alice"),
        AddUser(Z, "proj_a", "bob"),
    ]


def test_new_account_carries_block_and_qos_so_no_second_step_is_needed():
    changes = plan_changes([parent(), acct(blocked=True, qos="aif_sme", users=())], {})
    assert changes[1] == AddAccount(Z, "proj_a", "org_a", "Project A", "acme", 600, 6000, True, "aif_sme")
    assert len(changes) == 2


def test_account_directly_under_root_needs_no_parent():
    assert plan_changes([acct(parent="root", users=())], {}) == [
        AddAccount(Z, "proj_a", "root", "Project A", "acme", 600, 6000, False, None)
    ]


def test_parent_present_in_slurm_but_not_desired_is_fine():
    existing = state(actual("org_a", parent="root", limits={}, users=()))
    changes = plan_changes([acct(users=())], existing)
    assert [type(c) for c in changes] == [AddAccount]


def test_unknown_parent_is_refused():
    with pytest.raises(SlurmValueError, match="parent org_x"):
        plan_changes([acct(parent="org_x")], {})


def test_parent_on_another_cluster_does_not_count():
    with pytest.raises(SlurmValueError, match="parent org_a"):
        plan_changes([parent(cluster=C), acct(cluster=Z)], {})


def test_duplicates_refused():
    with pytest.raises(SlurmValueError, match="desired twice"):
        plan_changes([acct(), acct(gpu=1)], {})
    with pytest.raises(SlurmValueError, match="desired twice"):
        plan_changes([parent("proj_a"), acct(parent="root")], {})


def test_same_name_on_two_clusters_is_two_accounts():
    changes = plan_changes([acct(cluster=Z, parent="root"), acct(cluster=C, parent="root")], {})
    assert {(c.cluster, type(c)) for c in changes} == {(Z, AddAccount), (C, AddAccount), (Z, AddUser), (C, AddUser)}


def test_other_clusters_state_is_ignored():
    changes = plan_changes([acct(cluster=C, parent="root", users=())], state(actual(parent="root", users=())))
    assert changes == [AddAccount(C, "proj_a", "root", "Project A", "acme", 600, 6000, False, None)]


def test_undesired_accounts_are_never_removed():
    extra = state(actual("org_a", parent="root", limits={}, users=()), actual(), actual("proj_old"))
    assert plan_changes([parent(), acct()], extra) == []


def test_not_a_desired_object_is_refused():
    with pytest.raises(SlurmValueError):
        plan_changes([actual()], {})  # type: ignore[list-item]


# ------------------------------------------------------------------------------------------- parents


def test_desired_parent_moved_away_from_root_is_moved_back():
    moved = state(actual("org_a", parent="org_b", limits={}, users=()), actual())
    assert plan_changes([parent(), acct()], moved) == [SetParent(Z, "org_a", "root")]


def test_account_under_wrong_parent_is_moved():
    moved = state(actual("org_a", parent="root", limits={}, users=()), actual(parent="root"))
    assert plan_changes([parent(), acct()], moved) == [SetParent(Z, "proj_a", "org_a")]


# ------------------------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("have", "want_gpu", "want_cpu", "expected"),
    [
        ({"cpu": 6000, "gres/gpu": 600}, 600, 6000, None),
        ({"cpu": 6000, "gres/gpu": 600}, 1200, 6000, (("cpu", 6000), ("gres/gpu", 1200))),  # top-up
        ({"cpu": 6000, "gres/gpu": 600}, 600, 0, (("cpu", 0), ("gres/gpu", 600))),  # cut to zero
        ({"cpu": 6000}, 600, 6000, (("cpu", 6000), ("gres/gpu", 600))),  # missing TRES
        ({}, 600, 6000, (("cpu", 6000), ("gres/gpu", 600))),  # no limit at all
        ({"cpu": 6000, "gres/gpu": 600, "mem": 5}, 600, 6000, (("cpu", 6000), ("gres/gpu", 600), ("mem", -1))),
        ({"cpu": 1, "gres/gpu": 1, "node": 2, "billing": 3}, 0, 0,
         (("billing", -1), ("cpu", 0), ("gres/gpu", 0), ("node", -1))),
    ],
)  # fmt: skip
def test_limits(have, want_gpu, want_cpu, expected):
    existing = state(actual("org_a", parent="root", limits={}, users=()), actual(limits=have))
    changes = plan_changes([parent(), acct(gpu=want_gpu, cpu=want_cpu)], existing)
    assert changes == ([] if expected is None else [SetLimits(Z, "proj_a", expected)])


# ------------------------------------------------------------------------------------------- blocking


@pytest.mark.parametrize(
    ("blocked", "submit", "expected"),
    [
        (False, None, None),
        (False, 0, SetBlocked(Z, "proj_a", False)),
        (False, 5, SetBlocked(Z, "proj_a", False)),  # someone set a job cap: not ours, clear it
        (True, None, SetBlocked(Z, "proj_a", True)),
        (True, 0, None),
        (True, 5, SetBlocked(Z, "proj_a", True)),
    ],
)
def test_blocking(blocked, submit, expected):
    existing = state(actual("org_a", parent="root", limits={}, users=()), actual(submit=submit))
    changes = plan_changes([parent(), acct(blocked=blocked)], existing)
    assert changes == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("blocked", "submit", "jobs", "expected"),
    [
        # GrpSubmitJobs=0 alone let a queued job start after a suspension: blocked means GrpJobs=0 too
        (True, 0, None, SetBlocked(Z, "proj_a", True)),
        (True, None, 0, SetBlocked(Z, "proj_a", True)),
        (True, 0, 0, None),
        (False, None, 0, SetBlocked(Z, "proj_a", False)),
        (False, None, 4, SetBlocked(Z, "proj_a", False)),
    ],
)
def test_blocked_means_no_submission_and_no_start(blocked, submit, jobs, expected):
    existing = state(actual("org_a", parent="root", limits={}, users=()), actual(submit=submit, jobs=jobs))
    assert plan_changes([parent(), acct(blocked=blocked)], existing) == ([] if expected is None else [expected])
    assert ActualAccount(Z, "p", "o", {}, 0, grp_jobs=0).blocked
    assert not ActualAccount(Z, "p", "o", {}, 0, grp_jobs=None).blocked


def test_a_tres_the_grant_does_not_limit_is_not_written_and_is_cleared():
    """A GPU-only grant (no CPU minutes) must not become GrpTRESMins=cpu=0: every job would pend."""
    gpu_only = acct(gpu=600, cpu=None)
    assert gpu_only.limits == {"gres/gpu": 600}
    added = plan_changes([parent(), gpu_only], {})[1]
    assert isinstance(added, AddAccount) and added.limits == (("gres/gpu", 600),)
    assert added.describe() == "zellik: add account proj_a under org_a (gpu 600 min, cpu no limit)"
    existing = state(actual("org_a", parent="root", limits={}, users=()), actual(limits={"cpu": 0, "gres/gpu": 600}))
    assert plan_changes([parent(), gpu_only], existing) == [SetLimits(Z, "proj_a", (("cpu", -1), ("gres/gpu", 600)))]
    in_sync = state(actual("org_a", parent="root", limits={}, users=()), actual(limits={"gres/gpu": 600}))
    assert plan_changes([parent(), gpu_only], in_sync) == []


# ------------------------------------------------------------------------------------------- QOS


@pytest.mark.parametrize(
    ("want", "have", "defqos", "changes"),
    [
        (None, ("normal",), None, False),  # not managed
        (None, ("aif_sme",), "aif_sme", False),
        ("aif_sme", ("aif_sme",), "aif_sme", False),
        ("aif_sme", ("normal",), None, True),
        ("aif_sme", ("aif_sme",), None, True),  # default QOS missing
        ("aif_sme", ("aif_sme", "normal"), "aif_sme", True),  # extra QOS allowed
        ("aif_sme", ("aif_ind",), "aif_ind", True),
    ],
)
def test_qos(want, have, defqos, changes):
    existing = state(actual("org_a", parent="root", limits={}, users=()), actual(qos=have, defqos=defqos))
    planned = plan_changes([parent(), acct(qos=want)], existing)
    assert planned == ([SetQos(Z, "proj_a", want)] if changes else [])


# ------------------------------------------------------------------------------------------- users

USER_SETS = [(), ("alice",), ("bob",), ("alice", "bob"), ("alice", "bob", "carol")]


@pytest.mark.parametrize(("want", "have"), list(itertools.product(USER_SETS, USER_SETS)))
def test_users_every_combination(want, have):
    existing = state(actual("org_a", parent="root", limits={}, users=()), actual(users=have))
    planned = plan_changes([parent(), acct(users=want)], existing)
    adds = sorted(set(want) - set(have))
    removes = sorted(set(have) - set(want))
    assert planned == [AddUser(Z, "proj_a", u) for u in adds] + [RemoveUser(Z, "proj_a", u) for u in removes]


# ------------------------------------------------------------------------------------------- everything at once


def test_all_kinds_are_ordered_parents_first_removals_last():
    existing = state(
        actual("org_a", parent="root", limits={}, users=()),
        actual(parent="root", limits={"cpu": 1}, submit=None, users=("old",), qos=("normal",)),
    )
    desired = [
        parent(),
        parent("org_b"),
        acct(blocked=True, qos="aif_sme", users=("alice",)),
        acct("proj_b", parent="org_b", users=("bob",)),
    ]
    kinds = [type(c) for c in plan_changes(desired, existing)]
    assert kinds == [AddParent, AddAccount, SetParent, SetLimits, SetBlocked, SetQos, AddUser, AddUser, RemoveUser]


def test_describe_is_human_readable():
    text = [c.describe() for c in plan_changes([parent(), acct(blocked=True)], {})]
    assert text == [
        "zellik: add parent account org_a",
        "zellik: add account proj_a under org_a (gpu 600 min, cpu 6000 min blocked)",
        "zellik: add user alice to proj_a",
    ]


# ------------------------------------------------------------------------------------------- convergence


def simulate(current: dict[str, dict[str, ActualAccount]], changes: list[Change]) -> dict:
    """What Slurm would hold after the changes (the backends' contract, in a few lines)."""
    out = {cl: dict(accts) for cl, accts in current.items()}
    for ch in changes:
        accts = out.setdefault(ch.cluster, {})
        if isinstance(ch, AddParent):
            accts[ch.name] = ActualAccount(ch.cluster, ch.name, "root", {}, None, frozenset(), frozenset({"normal"}),
                                           fairshare=ch.fairshare)
        elif isinstance(ch, AddAccount):
            accts[ch.name] = ActualAccount(
                ch.cluster, ch.name, ch.parent, dict(ch.limits), 0 if ch.blocked else None, frozenset(),
                frozenset(ch.qos_list or {"normal"}), ch.effective_default_qos, 0 if ch.blocked else None,
                ch.fairshare, ch.max_jobs, ch.max_wall_minutes, dict(ch.grp_tres),
            )  # fmt: skip
        elif isinstance(ch, AddUser | RemoveUser):
            a = accts[ch.account]
            users = a.users | {ch.user} if isinstance(ch, AddUser) else a.users - {ch.user}
            accts[ch.account] = replace(a, users=users)
        elif isinstance(ch, SetParent):
            accts[ch.name] = replace(accts[ch.name], parent=ch.parent)
        elif isinstance(ch, SetLimits):
            limits = {**accts[ch.name].limits, **dict(ch.limits)}
            accts[ch.name] = replace(accts[ch.name], limits={k: v for k, v in limits.items() if v != -1})
        elif isinstance(ch, SetBlocked):
            value = 0 if ch.blocked else None
            accts[ch.name] = replace(accts[ch.name], grp_submit_jobs=value, grp_jobs=value)
        elif isinstance(ch, SetQos):
            accts[ch.name] = replace(accts[ch.name], qos=frozenset(ch.qos_list), default_qos=ch.effective_default_qos)
        elif isinstance(ch, SetGrpTres):
            tres = {**accts[ch.name].grp_tres, **dict(ch.tres)}
            accts[ch.name] = replace(accts[ch.name], grp_tres={k: v for k, v in tres.items() if v != -1})
        elif isinstance(ch, SetMaxJobs):
            accts[ch.name] = replace(accts[ch.name], max_jobs=ch.max_jobs)
        elif isinstance(ch, SetMaxWall):
            accts[ch.name] = replace(accts[ch.name], max_wall_minutes=ch.max_wall_minutes)
        elif isinstance(ch, SetFairshare):
            accts[ch.name] = replace(accts[ch.name], fairshare=ch.fairshare)
    return out


def random_actual(rng: random.Random, name: str, cluster: str) -> ActualAccount | None:
    if rng.random() < 0.3:
        return None
    limits = {t: rng.choice([0, 10, 600]) for t in rng.sample(["cpu", "gres/gpu", "mem", "node"], rng.randint(0, 3))}
    return ActualAccount(
        cluster, name, rng.choice(["root", "org_a", "org_b"]), limits, rng.choice([None, 0, 3]),
        frozenset(rng.sample(["alice", "bob", "carol", "dave"], rng.randint(0, 3))),
        frozenset(rng.sample(["normal", "aif_sme", "aif_ind"], rng.randint(1, 2))),
        rng.choice([None, "normal", "aif_sme"]), rng.choice([None, 0, 2]), rng.choice([None, 1, 20, 99]),
        rng.choice([None, 5]), rng.choice([None, 90]), rng.choice([{}, {"gres/gpu": 1}, {"cpu": 4, "gres/gpu": 2}]),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(200))
def test_plan_converges_in_one_step_and_then_is_empty(seed):
    rng = random.Random(seed)
    desired: list = []
    current: dict[str, dict[str, ActualAccount]] = {}
    for cluster in (Z, C):
        for org in ("org_a", "org_b"):
            if rng.random() < 0.7:
                desired.append(parent(org, cluster))
            have = random_actual(rng, org, cluster)
            if have:
                current.setdefault(cluster, {})[org] = have
        for i in range(rng.randint(0, 4)):
            name = f"proj_{i}"
            possible = [p.name for p in desired if p.cluster == cluster] + ["root"]
            possible += [n for n in current.get(cluster, {}) if n.startswith("org_")]
            desired.append(replace(
                acct(
                    name, cluster, rng.choice(possible), rng.choice([0, 10, 600, None]), rng.choice([0, 6000, None]),
                    rng.random() < 0.5, rng.sample(["alice", "bob", "carol"], rng.randint(0, 3)),
                    rng.choice([None, "aif_sme", "aif_ind"]),
                ),
                default_qos=rng.choice([None, "site_default"]), fairshare=rng.choice([1, 20]),
                max_jobs=rng.choice([None, 4]), max_wall_minutes=rng.choice([None, 720]),
                grp_tres=rng.choice([{}, {"gres/gpu": 2}]),
            ))  # fmt: skip
            have = random_actual(rng, name, cluster)
            if have:
                current.setdefault(cluster, {})[name] = have
    changes = plan_changes(desired, current)
    assert len(changes) == len(set(changes)), "no change planned twice"
    assert plan_changes(desired, simulate(current, changes)) == []


# ------------------------------------------------------------------------------------------- compare_fields


def differing(desired, current) -> list[tuple[str, str]]:
    return [(f.account, f.field) for f in compare_fields(desired, current) if f.differs]


def test_compare_in_sync_has_every_setting_and_no_difference():
    fields = compare_fields([parent(), acct(qos="aif_sme")], state(
        actual("org_a", parent="root", limits={}, users=()), actual(qos=("aif_sme",), defqos="aif_sme")))
    assert [(f.account, f.field) for f in fields] == [
        ("org_a", "parent"), ("org_a", "fairshare"), ("proj_a", "parent"), ("proj_a", "limits"),
        ("proj_a", "grp_tres"), ("proj_a", "grp_submit_jobs"), ("proj_a", "grp_jobs"), ("proj_a", "max_jobs"),
        ("proj_a", "max_wall"), ("proj_a", "qos"), ("proj_a", "default_qos"), ("proj_a", "fairshare"),
        ("proj_a", "users"),
    ]
    assert not any(f.differs for f in fields)


def test_compare_uses_the_planners_representation_not_the_objects():
    """An unblocked parent and an account with GrpSubmitJobs unset are not "None against False"."""
    (grp,) = [f for f in compare_fields([parent(), acct()], IN_SYNC) if f.field == "grp_submit_jobs"]
    assert (grp.desired, grp.actual, grp.differs) == (None, None, False)
    assert not differing([parent(), acct()], IN_SYNC)


def test_compare_missing_account_differs_on_every_setting_with_no_actual_value():
    fields = compare_fields([parent(), acct()], state(actual("org_a", parent="root", limits={}, users=())))
    missing = [f for f in fields if f.account == "proj_a"]
    assert missing and all(f.differs and f.actual is None and not f.present for f in missing)
    assert all(f.present for f in fields if f.account == "org_a")


def test_compare_marks_exactly_the_settings_the_planner_changes():
    existing = state(
        actual("org_a", parent="root", limits={}, users=()),
        actual(parent="root", limits={"cpu": 1}, submit=3, users=("old",), qos=("normal",)),
    )
    desired = [parent(), acct(blocked=True, qos="aif_sme", users=("alice",))]
    assert differing(desired, existing) == [
        ("proj_a", "parent"), ("proj_a", "limits"), ("proj_a", "grp_submit_jobs"), ("proj_a", "grp_jobs"),
        ("proj_a", "qos"), ("proj_a", "default_qos"), ("proj_a", "users"),
    ]
    kinds = {type(c) for c in plan_changes(desired, existing)}
    assert kinds == {SetParent, SetLimits, SetBlocked, SetQos, AddUser, RemoveUser}


@pytest.mark.parametrize("seed", range(50))
def test_compare_finds_a_difference_exactly_when_the_planner_plans_a_change(seed):
    rng = random.Random(seed)
    have = random_actual(rng, "proj_a", Z)
    desired = [parent(), acct(blocked=rng.random() < 0.5, qos=rng.choice([None, "aif_sme"]),
                              users=rng.sample(["alice", "bob"], rng.randint(0, 2)))]
    current = state(actual("org_a", parent="root", limits={}, users=()), *([have] if have else []))
    assert bool(differing(desired, current)) == bool(plan_changes(desired, current))


# ------------------------------------------------------------------------------------------- the other owned settings

SET_BY_HAND = [
    # (what someone set on the cluster, the change a reconcile plans, the compared setting)
    ({"grp_tres": {"gres/gpu": 1}}, SetGrpTres(Z, "proj_a", (("gres/gpu", -1),)), "grp_tres"),
    ({"max_jobs": 5}, SetMaxJobs(Z, "proj_a", None), "max_jobs"),
    ({"max_wall_minutes": 90}, SetMaxWall(Z, "proj_a", None), "max_wall"),
    ({"fairshare": 99}, SetFairshare(Z, "proj_a", 1), "fairshare"),
    ({"fairshare": None}, SetFairshare(Z, "proj_a", 1), "fairshare"),  # Fairshare=parent
]


@pytest.mark.parametrize(("by_hand", "change", "setting"), SET_BY_HAND)
def test_a_setting_the_portal_leaves_unset_found_on_the_cluster_is_cleared(by_hand, change, setting):
    current = state(actual("org_a", parent="root", limits={}, users=()), replace(actual(), **by_hand))
    assert plan_changes([parent(), acct()], current) == [change]
    assert differing([parent(), acct()], current) == [("proj_a", setting)]
    assert plan_changes([parent(), acct()], simulate(current, [change])) == []


@pytest.mark.parametrize(("wanted", "change"), [
    ({"grp_tres": {"gres/gpu": 2}}, SetGrpTres(Z, "proj_a", (("gres/gpu", 2),))),
    ({"max_jobs": 4}, SetMaxJobs(Z, "proj_a", 4)),
    ({"max_jobs": 0}, SetMaxJobs(Z, "proj_a", 0)),
    ({"max_wall_minutes": 720}, SetMaxWall(Z, "proj_a", 720)),
    ({"fairshare": 50}, SetFairshare(Z, "proj_a", 50)),
])
def test_a_setting_the_site_asks_for_is_written(wanted, change):
    desired = [parent(), replace(acct(), **wanted)]
    assert plan_changes(desired, IN_SYNC) == [change]
    assert plan_changes(desired, simulate(IN_SYNC, [change])) == []


def test_grp_tres_keeps_the_wanted_limit_and_clears_the_others():
    current = state(actual("org_a", parent="root", limits={}, users=()), replace(actual(), grp_tres={"cpu": 4}))
    desired = [parent(), replace(acct(), grp_tres={"gres/gpu": 2})]
    assert plan_changes(desired, current) == [SetGrpTres(Z, "proj_a", (("cpu", -1), ("gres/gpu", 2)))]


def test_parent_fairshare_is_owned_too():
    current = state(replace(actual("org_a", parent="root", limits={}, users=()), fairshare=99), actual())
    assert plan_changes([parent(), acct()], current) == [SetFairshare(Z, "org_a", 1)]
    assert plan_changes([DesiredParent(Z, "org_a", "ACME", "acme", 30), acct()], IN_SYNC) == [
        SetFairshare(Z, "org_a", 30)]
    assert plan_changes([DesiredParent(Z, "org_a", "ACME", "acme", 30)], {}) == [
        AddParent(Z, "org_a", "ACME", "acme", 30)]


def test_default_qos_from_the_site_is_allowed_beside_the_modes_qos():
    desired = [parent(), replace(acct(qos="aif_sme"), default_qos="site_default")]
    current = state(actual("org_a", parent="root", limits={}, users=()), actual(qos=("aif_sme",), defqos="aif_sme"))
    assert plan_changes(desired, current) == [SetQos(Z, "proj_a", "aif_sme", "site_default")]
    (change,) = plan_changes(desired, current)
    assert change.qos_list == ("aif_sme", "site_default") and change.effective_default_qos == "site_default"
    assert plan_changes(desired, simulate(current, [change])) == []
    # a site default without a mode QOS: the association allows that one only
    only_site = [parent(), replace(acct(qos=None), default_qos="site_default")]
    (change,) = plan_changes(only_site, IN_SYNC)
    assert change.qos_list == ("site_default",) and change.effective_default_qos == "site_default"


def test_new_account_carries_every_owned_setting():
    desired = [parent(), replace(acct(users=()), default_qos="site_default", qos="aif_sme", fairshare=20,
                                 max_jobs=4, max_wall_minutes=720, grp_tres={"gres/gpu": 2})]
    (_parent, add) = plan_changes(desired, {})
    assert (add.default_qos, add.fairshare, add.max_jobs, add.max_wall_minutes, add.grp_tres) == (
        "site_default", 20, 4, 720, (("gres/gpu", 2),))


@pytest.mark.parametrize("bad", [{"fairshare": 0}, {"fairshare": True}, {"max_jobs": -1}, {"max_wall_minutes": -5},
                                 {"grp_tres": {"gres/gpu": -1}}, {"grp_tres": {"GPU;x": 1}},
                                 {"default_qos": "Normal"}, {"default_qos": "a,b"}])
def test_hostile_owned_settings_are_refused(bad):
    with pytest.raises(SlurmValueError):
        replace(acct(), **bad)


def test_a_typed_gpu_limit_set_by_hand_is_cleared():
    """A site tracking GPU types (gres/gpu:h100) may find a typed limit set by hand on a portal account: the
    portal's quota is the plain gres/gpu total (an untyped request is not held by a typed limit), the typed one
    is drift."""
    current = state(actual("org_a", parent="root", limits={}, users=()),
                    actual(limits={"cpu": 6000, "gres/gpu": 600, "gres/gpu:mi300x": 0}))
    assert plan_changes([parent(), acct()], current) == [
        SetLimits(Z, "proj_a", (("cpu", 6000), ("gres/gpu", 600), ("gres/gpu:mi300x", -1)))]
    typed_grp = state(actual("org_a", parent="root", limits={}, users=()),
                      replace(actual(), grp_tres={"gres/gpu:h100": 0}))
    assert plan_changes([parent(), acct()], typed_grp) == [SetGrpTres(Z, "proj_a", (("gres/gpu:h100", -1),))]


@pytest.mark.parametrize("bad", ["gres/gpu:h100:1", "gres/gpu:", "gres/gpu:H100", "gres/gpu:h100,cpu", "gres:gpu"])
def test_typed_tres_names_stay_strict(bad):
    with pytest.raises(SlurmValueError):
        SetLimits(Z, "proj_a", ((bad, 1),))


# ------------------------------------------------------------------------------------------- partitions

def _in(partitions, users=("alice", "bob")):
    return replace(acct(users=users), partitions=partitions)


def _held(pairs):
    return replace(actual(users={u for u, _p in pairs}), user_partitions=frozenset(pairs))


def test_a_new_account_gets_one_user_association_per_partition():
    changes = plan_changes([parent(), _in(("gpu", "debug"))], {})
    users = [c for c in changes if isinstance(c, AddUser)]
    assert {(c.user, c.partition) for c in users} == {("alice", "debug"), ("alice", "gpu"), ("bob", "debug"),
                                                       ("bob", "gpu")}
    assert "in partition gpu" in users[-1].describe() or "in partition debug" in users[-1].describe()


def test_naming_partitions_adds_theirs_before_removing_the_one_that_names_none():
    have = state(actual("org_a", parent="root", limits={}, users=()), actual(users=("alice", "bob")))
    changes = plan_changes([parent(), _in(("gpu",))], have)
    assert changes == [AddUser(Z, "proj_a", "alice", "gpu"), AddUser(Z, "proj_a", "bob", "gpu"),
                       RemoveUser(Z, "proj_a", "alice", ""), RemoveUser(Z, "proj_a", "bob", "")]
    # And back: the partition's associations go, one that names none comes.
    have = state(actual("org_a", parent="root", limits={}, users=()), _held({("alice", "gpu"), ("bob", "gpu")}))
    changes = plan_changes([parent(), _in(())], have)
    assert changes == [AddUser(Z, "proj_a", "alice"), AddUser(Z, "proj_a", "bob"),
                       RemoveUser(Z, "proj_a", "alice", "gpu"), RemoveUser(Z, "proj_a", "bob", "gpu")]


def test_a_user_who_leaves_loses_every_association_at_once_and_in_sync_plans_nothing():
    have = state(actual("org_a", parent="root", limits={}, users=()),
                 _held({("alice", "gpu"), ("bob", "gpu"), ("bob", "debug")}))
    changes = plan_changes([parent(), _in(("gpu",), users=("alice",))], have)
    assert changes == [RemoveUser(Z, "proj_a", "bob")]
    assert RemoveUser(Z, "proj_a", "bob").describe() == "zellik: remove user bob from proj_a"
    in_sync = state(actual("org_a", parent="root", limits={}, users=()), _held({("alice", "gpu"), ("bob", "gpu")}))
    assert plan_changes([parent(), _in(("gpu",))], in_sync) == []


def test_partitions_are_compared_where_named_or_held_and_agree_with_the_plan():
    have = state(actual("org_a", parent="root", limits={}, users=()), _held({("alice", "gpu"), ("bob", "")}))
    fields = {f.field: f for f in compare_fields([parent(), _in(("gpu",))], have) if f.account == "proj_a"}
    assert fields["partitions"].desired == ("alice (gpu)", "bob (gpu)")
    assert fields["partitions"].actual == ("alice (gpu)", "bob")
    assert fields["partitions"].differs and not fields["users"].differs
    assert plan_changes([parent(), _in(("gpu",))], have) == [AddUser(Z, "proj_a", "bob", "gpu"),
                                                             RemoveUser(Z, "proj_a", "bob", "")]
    # A site that names none, with nothing named on the cluster, shows no such row.
    assert "partitions" not in {f.field for f in compare_fields([parent(), acct()], IN_SYNC)}


@pytest.mark.parametrize("bad", [("GPU",), ("gpu,debug",), ("gpu debug",), ("-gpu",), ("",), "gpu", ("a" * 35,)])
def test_hostile_partition_names_are_refused(bad):
    with pytest.raises((SlurmValueError, TypeError)):
        replace(acct(), partitions=bad)
    if isinstance(bad, tuple) and bad != ("",):
        with pytest.raises(SlurmValueError):
            AddUser(Z, "proj_a", "alice", bad[0])
