"""Directory sites on a real slapd (scripts/ldap-stack.sh): accounts found or created and bound to the
person, keys pushed, one posixGroup per project holding the confirmed team, accounts locked when the
person's allocations end or the person is erased; the Slurm association's users are the bound logins."""

from __future__ import annotations

import ldap3
import pytest
from django.utils import timezone

from accounts.privacy import user_erase
from accounts.services import ssh_key_add
from allocations.catalogue.models import IdentityBackend
from allocations.grants.models import AllocationStatus
from allocations.provisioning.identity.models import BoundBy, DirectoryAccount
from allocations.provisioning.models import SyncAttempt, SyncOutcome
from allocations.provisioning.services import _desired_inputs, site_desired, sync_allocation
from allocations.provisioning.slurm.errors import SlurmError
from portal.models import AuditEvent
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.ldap]


def _entry(conn, settings, uid: str) -> dict:
    conn.search(settings.AIF_DIRECTORY_USERS_DN, f"(uid={uid})",
                attributes=["uidNumber", "gidNumber", "homeDirectory", "loginShell", "sshPublicKey", "mail",
                            "employeeNumber"])
    assert len(conn.entries) == 1, uid
    return conn.entries[0].entry_attributes_as_dict


def _members(conn, settings, group: str) -> set[str] | None:
    conn.search(settings.AIF_DIRECTORY_GROUPS_DN, f"(cn={group})", attributes=["memberUid", "gidNumber"])
    if not conn.entries:
        return None
    return set(conn.entries[0].entry_attributes_as_dict.get("memberUid", []))


@pytest.fixture
def directory_allocation(db):
    alloc = f.allocation(status=AllocationStatus.ACTIVE)
    site = f.site("zellik")
    site.identity_backend = IdentityBackend.DIRECTORY
    site.save(update_fields=["identity_backend"])
    return alloc, site


def test_accounts_are_bound_created_grouped_and_locked(ldap_directory, settings, directory_allocation):
    conn = ldap_directory
    alloc, site = directory_allocation
    # An account the site already holds for Ines, found by her verified address; Piet has none and signs
    # in through single sign-on: the portal creates his, with his subject.
    existing = f"uid=ines,{settings.AIF_DIRECTORY_USERS_DN}"
    conn.add(existing, attributes={"objectClass": ["inetOrgPerson", "posixAccount", "ldapPublicKey"], "uid": "ines",
                                   "cn": "Ines", "sn": "Ines", "uidNumber": 250001, "gidNumber": 250001,
                                   "homeDirectory": "/home/ines", "loginShell": "/bin/bash",
                                   "mail": "ines@lab.example"})
    ines = f.confirmed_member(alloc, email="ines@lab.example", username="root", full_name="Ines Peeters")
    piet = f.confirmed_member(alloc, email="piet@lab.example", username="piet", subject="sub-piet-0001",
                              full_name="Piet Janssens")
    key = f.ssh_key_line("piet@laptop")
    ssh_key_add(actor=piet.user, text=key)
    # Invited but not confirmed: never in the directory or the association.
    f.confirmed_member(alloc, email="late@lab.example", username="late").__class__.objects.filter(
        email="late@lab.example").update(confirmed_at=None)

    assert sync_allocation(allocation_id=alloc.pk) == "synced"

    bound = {a.user_id: a for a in DirectoryAccount.objects.filter(site=site)}
    assert set(bound) == {ines.user_id, piet.user_id}
    assert (bound[ines.user_id].uid, bound[ines.user_id].bound_by, bound[ines.user_id].created_by_portal) == \
        ("ines", BoundBy.VERIFIED_EMAIL, False)  # "root", typed by the applicant, is never used
    created = bound[piet.user_id]
    assert (created.uid, created.bound_by, created.created_by_portal) == ("piet", BoundBy.OIDC_SUBJECT, True)
    entry = _entry(conn, settings, "piet")
    low, high = settings.AIF_DIRECTORY_UID_MIN, settings.AIF_DIRECTORY_UID_MAX
    assert low <= entry["uidNumber"][0] <= high and entry["uidNumber"] == [created.uid_number]
    assert entry["homeDirectory"] == ["/home/piet"] and entry["loginShell"] == ["/bin/bash"]
    assert entry["employeeNumber"] == ["sub-piet-0001"] and entry["mail"] == ["piet@lab.example"]
    assert [k.decode() if isinstance(k, bytes) else k for k in entry["sshPublicKey"]] == [key]
    # the project group holds the confirmed team; the association's users are the bound logins
    assert _members(conn, settings, alloc.slurm_account) == {"ines", "piet"}
    assert _desired_inputs(alloc.pk, site)[2] == ["ines", "piet"]
    account = next(item for item in site_desired(site) if item.name == alloc.slurm_account)
    assert account.users == frozenset({"ines", "piet"})
    assert AuditEvent.objects.filter(action="directory.account_bound").count() == 2
    # A second run binds nothing again and changes nothing in the directory.
    assert sync_allocation(allocation_id=alloc.pk) == "synced"
    assert DirectoryAccount.objects.filter(site=site).count() == 2
    assert AuditEvent.objects.filter(action="directory.group_changed").count() == 1

    # Ines leaves the team: out of the group, and locked (no other allocation on the site).
    ines.delete()
    sync_allocation(allocation_id=alloc.pk)
    assert _members(conn, settings, alloc.slurm_account) == {"piet"}
    assert _entry(conn, settings, "ines")["loginShell"] == ["/usr/sbin/nologin"]
    assert DirectoryAccount.objects.get(uid="ines").locked_at is not None
    assert _entry(conn, settings, "piet")["loginShell"] == ["/bin/bash"]

    # The allocation expires: the group empties and Piet's account is locked, keys removed.
    alloc.status = AllocationStatus.EXPIRED
    alloc.save(update_fields=["status"])
    sync_allocation(allocation_id=alloc.pk)
    assert _members(conn, settings, alloc.slurm_account) == set()
    piet_entry = _entry(conn, settings, "piet")
    assert piet_entry["loginShell"] == ["/usr/sbin/nologin"] and piet_entry.get("sshPublicKey", []) == []
    assert AuditEvent.objects.filter(action="directory.account_locked").count() == 2

    # A new allocation for Piet opens the account again with his keys.
    alloc.status = AllocationStatus.ACTIVE
    alloc.save(update_fields=["status"])
    sync_allocation(allocation_id=alloc.pk)
    piet_entry = _entry(conn, settings, "piet")
    assert piet_entry["loginShell"] == ["/bin/bash"] and len(piet_entry["sshPublicKey"]) == 1
    assert DirectoryAccount.objects.get(uid="piet").locked_at is None


def test_without_creation_a_person_without_account_waits(ldap_directory, settings, directory_allocation):
    alloc, site = directory_allocation
    settings.AIF_DIRECTORY_CREATE_ACCOUNTS = False
    f.confirmed_member(alloc, email="nobody@lab.example", username="nobody1", subject="sub-nobody")
    assert sync_allocation(allocation_id=alloc.pk) == "synced"
    assert not DirectoryAccount.objects.exists()
    assert _desired_inputs(alloc.pk, site)[2] == []
    assert _members(ldap_directory, settings, alloc.slurm_account) == set()


def test_an_unverified_address_binds_nothing(ldap_directory, settings, directory_allocation):
    conn = ldap_directory
    alloc, site = directory_allocation
    settings.AIF_DIRECTORY_CREATE_ACCOUNTS = False
    conn.add(f"uid=vic,{settings.AIF_DIRECTORY_USERS_DN}",
             attributes={"objectClass": ["inetOrgPerson", "posixAccount"], "uid": "vic", "cn": "Vic", "sn": "Vic",
                         "uidNumber": 250002, "gidNumber": 250002, "homeDirectory": "/home/vic",
                         "mail": "vic@lab.example"})
    f.confirmed_member(alloc, email="vic@lab.example", username="vic", verified=False)
    sync_allocation(allocation_id=alloc.pk)
    assert not DirectoryAccount.objects.exists()


def test_an_entry_already_bound_to_someone_else_fails_the_run(ldap_directory, settings, directory_allocation):
    conn = ldap_directory
    alloc, site = directory_allocation
    first = f.confirmed_member(alloc, email="one@lab.example", username="one")
    sync_allocation(allocation_id=alloc.pk)
    uid = DirectoryAccount.objects.get(user=first.user).uid
    # Someone else's verified address now on that entry (a directory edited by hand)
    conn.modify(f"uid={uid},{settings.AIF_DIRECTORY_USERS_DN}",
                {"mail": [(ldap3.MODIFY_ADD, ["two@lab.example"])]})
    f.confirmed_member(alloc, email="two@lab.example", username="two")
    with pytest.raises(SlurmError, match="already bound to another person"):
        sync_allocation(allocation_id=alloc.pk)
    attempt = SyncAttempt.objects.filter(allocation=alloc).latest("pk")
    assert attempt.outcome == SyncOutcome.ERROR and "directory" in attempt.error
    assert DirectoryAccount.objects.count() == 1


def test_keys_follow_the_person_and_erasure_locks(ldap_directory, settings, directory_allocation,
                                                   django_capture_on_commit_callbacks):
    conn = ldap_directory
    alloc, site = directory_allocation
    member = f.confirmed_member(alloc, email="kim@lab.example", username="kim")
    sync_allocation(allocation_id=alloc.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ssh_key_add(actor=member.user, text=f.ssh_key_line("kim@desk"))
    assert len(_entry(conn, settings, "kim")["sshPublicKey"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        user_erase(actor=member.user, user=member.user)
    entry = _entry(conn, settings, "kim")
    assert entry["loginShell"] == ["/usr/sbin/nologin"] and entry.get("sshPublicKey", []) == []
    assert DirectoryAccount.objects.get(uid="kim").locked_at <= timezone.now()
