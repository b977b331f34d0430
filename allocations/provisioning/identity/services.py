"""Cluster identities from a site's directory (docs/identity.md).

On a site whose identity backend is ``directory``, the provisioning run of an allocation first calls
`directory_prepare`: for every confirmed team member it finds the person's POSIX account (by their single
sign-on subject, else by a verified e-mail address), creates it where the settings allow, records the
binding (`DirectoryAccount`), gives it the person's SSH public keys, makes the project's posixGroup hold
exactly the confirmed team, and locks the accounts of people none of whose allocations on the site runs
any more (or who were erased). Only then does the run read the desired state, whose users for that site
are the bound accounts' logins (`directory_logins`, read by `provisioning.services.site_team`): the
account exists before its Slurm association, so slurmctld resolves its uid when the association arrives
(docs/identity.md, "What the site configures").

A directory fault fails the site's run like a Slurm fault: the attempt records the error and the task
retries; nothing reaches Slurm for that site in between."""

from __future__ import annotations

import logging
import re

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import SshPublicKey, User
from allocations.applications.models import TeamMember
from allocations.catalogue.models import IdentityBackend, Site
from allocations.grants.models import Allocation
from allocations.grants.workflow import TERMINAL
from allocations.provisioning.identity.config import directory_config, directory_config_problems
from allocations.provisioning.identity.ldap import Directory, DirectoryError, PosixAccount
from allocations.provisioning.identity.models import BoundBy, DirectoryAccount
from allocations.provisioning.slurm.validation import USERNAME_RE, is_reserved_username
from portal.audit import AuditAction, audit_record

logger = logging.getLogger(__name__)

__all__ = ["DirectoryError", "directory_lock_person", "directory_prepare", "directory_push_keys",
           "directory_logins", "is_directory_site"]


def is_directory_site(site: Site) -> bool:
    return site.identity_backend == IdentityBackend.DIRECTORY


def _open() -> Directory:
    problems = directory_config_problems()
    if problems:
        raise DirectoryError("the directory is not configured: " + "; ".join(problems))
    return Directory(directory_config())


# --------------------------------------------------------------------------------- reads (no LDAP)

def _confirmed_members(application_id: int):
    return TeamMember.objects.confirmed().filter(application_id=application_id, user__isnull=False,
                                                 user__erased_at=None)


def directory_logins(site: Site, user_ids: set[int]) -> dict[int, str]:
    """{person id: login of their account bound in ``site``'s directory} for those of ``user_ids`` who have one
    and were not erased."""
    return dict(DirectoryAccount.objects.filter(site=site, user_id__in=user_ids, user__erased_at=None)
                .values_list("user_id", "uid"))


def _subject(user: User) -> str:
    return (SocialAccount.objects.filter(user=user, provider=settings.OIDC_PROVIDER_ID)
            .values_list("uid", flat=True).first() or "")


def _verified_emails(user: User) -> list[str]:
    return sorted({e.lower() for e in EmailAddress.objects.filter(user=user, verified=True)
                   .values_list("email", flat=True)})


def _keys(user: User) -> list[str]:
    return [key.line for key in SshPublicKey.objects.filter(user=user)]


def _runs_on(user_id: int, site: Site) -> bool:
    """The person is a confirmed member of an allocation with a quota on ``site`` that has not ended."""
    return TeamMember.objects.confirmed().filter(
        user_id=user_id, user__erased_at=None, application__allocation__quotas__site=site,
    ).exclude(application__allocation__status__in=TERMINAL).exists()


# --------------------------------------------------------------------------------- binding

def _wanted_uids(member: TeamMember, user: User) -> list[str]:
    local = re.sub(r"[^a-z0-9]", "", user.email.split("@")[0].lower())
    derived = local if local[:1].isalpha() else f"u{local}"
    return [name for name in (member.cluster_username, derived) if name]


def _bind(directory: Directory, *, site: Site, member: TeamMember, allow_create: bool) -> DirectoryAccount | None:
    """The person's account on ``site``: the recorded binding, or one found (subject, then verified address)
    or created now and recorded. None when the directory has no account for them and the portal may not
    create one (the site creates it by hand; the next run binds it)."""
    user = member.user
    bound = DirectoryAccount.objects.filter(site=site, user=user).first()
    if bound is not None:
        return bound
    subject = _subject(user)
    entry, how, created = None, None, False
    if subject:
        entry, how = directory.find_by_subject(subject), BoundBy.OIDC_SUBJECT
    if entry is None:
        for mail in _verified_emails(user):
            entry, how = directory.find_by_mail(mail), BoundBy.VERIFIED_EMAIL
            if entry is not None:
                break
    if entry is None:
        emails = _verified_emails(user)
        if not allow_create or not (subject or emails):
            return None
        uid = directory.free_uid(_wanted_uids(member, user))
        entry = directory.create_account(uid=uid, full_name=user.full_name, mail=(emails or [user.email])[0],
                                         subject=subject, keys=_keys(user))
        how, created = (BoundBy.OIDC_SUBJECT if subject else BoundBy.VERIFIED_EMAIL), True
    if not USERNAME_RE.fullmatch(entry.uid) or is_reserved_username(entry.uid):
        raise DirectoryError(f"the directory entry {entry.dn} has the login {entry.uid!r}, which the portal "
                             "never gives to a Slurm association")
    try:
        with transaction.atomic():
            account = DirectoryAccount.objects.create(site=site, user=user, uid=entry.uid, uid_number=entry.uid_number,
                                                      dn=entry.dn, bound_by=how, created_by_portal=created)
            # Ids and numbers only: the chain never holds a login or an address.
            audit_record(actor=None, action=AuditAction.DIRECTORY_ACCOUNT_BOUND, target=account,
                         changes={"site": site.code, "user_id": user.pk, "uid_number": entry.uid_number,
                                  "bound_by": how, "created": created})
    except IntegrityError:
        raise DirectoryError(f"the directory entry {entry.dn} is already bound to another person on "
                             f"{site.code}: an operator must look at it") from None
    return account


# --------------------------------------------------------------------------------- the run's step

def directory_prepare(*, allocation_id: int, site: Site) -> str:
    """Accounts, keys, the project group and locks for one allocation on a directory site; "" when done or
    when the site is not a directory site, else the error (the run records it and retries)."""
    if not is_directory_site(site):
        return ""
    allocation = Allocation.objects.select_related("application").filter(pk=allocation_id).first()
    if allocation is None or not allocation.quotas.filter(site=site).exists():
        return ""
    try:
        with _open() as directory:
            _prepare(directory, site, allocation)
    except DirectoryError as exc:
        logger.warning("directory step of %s on %s failed: %s", allocation.slurm_account, site.code, exc)
        return f"directory: {exc}"
    return ""


def _prepare(directory: Directory, site: Site, allocation: Allocation) -> None:
    members = list(_confirmed_members(allocation.application_id).select_related("user").order_by("pk"))
    accounts: list[DirectoryAccount] = []
    for member in members:
        account = _bind(directory, site=site, member=member, allow_create=settings.AIF_DIRECTORY_CREATE_ACCOUNTS)
        if account is not None:
            accounts.append(account)
    wanted = [] if allocation.status in TERMINAL else sorted(a.uid for a in accounts)
    added, removed = directory.sync_group(allocation.slurm_account, wanted,
                                          description=f"allocation {allocation.slurm_account}")
    if added or removed:
        with transaction.atomic():
            audit_record(actor=None, action=AuditAction.DIRECTORY_GROUP_CHANGED, target=allocation,
                         changes={"site": site.code, "added": len(added), "removed": len(removed)})
    # Everyone this run touched, and everyone it took out of the group: locked or opened by what they run.
    touched = {a.pk: a for a in accounts}
    for account in DirectoryAccount.objects.filter(site=site, uid__in=removed):
        touched.setdefault(account.pk, account)
    for account in touched.values():
        _apply_state(directory, account)


def _apply_state(directory: Directory, account: DirectoryAccount) -> None:
    """Lock an account none of whose allocations on its site runs (or whose person was erased); open it
    again, with the person's keys, when one does."""
    entry = directory.find_by_uid(account.uid)
    if entry is None:
        raise DirectoryError(f"the account {account.uid!r} bound on {account.site.code} is gone from the directory")
    runs = _runs_on(account.user_id, account.site)
    if not runs:
        if settings.AIF_DIRECTORY_LOCK_POLICY == "nologin" and (directory.lock(entry) or account.locked_at is None):
            _record_lock(account, locked=True)
        return
    if account.locked_at is not None or entry.is_locked(directory.config):
        directory.set_shell(entry, directory.config.login_shell)
        _record_lock(account, locked=False)
    directory.set_keys(entry, _keys(account.user))


def _record_lock(account: DirectoryAccount, *, locked: bool) -> None:
    with transaction.atomic():
        account.locked_at = timezone.now() if locked else None
        account.save(update_fields=["locked_at"])
        audit_record(actor=None, action=AuditAction.DIRECTORY_ACCOUNT_LOCKED if locked
                     else AuditAction.DIRECTORY_ACCOUNT_UNLOCKED, target=account,
                     changes={"site": account.site.code, "policy": settings.AIF_DIRECTORY_LOCK_POLICY})


# --------------------------------------------------------------------------------- the person's changes

def directory_push_keys(*, user_id: int) -> int:
    """The person's keys on every open account bound to them (after they added or removed one). Returns
    the number of entries changed."""
    changed = 0
    accounts = list(DirectoryAccount.objects.filter(user_id=user_id, locked_at=None,
                                                    site__identity_backend=IdentityBackend.DIRECTORY)
                    .select_related("user"))
    if not accounts:
        return 0
    with _open() as directory:
        for account in accounts:
            entry = directory.find_by_uid(account.uid)
            if entry is not None and directory.set_keys(entry, _keys(account.user)):
                changed += 1
    return changed


def directory_lock_person(*, user_id: int) -> int:
    """Erasure: lock every account bound to the person (whatever their allocations), by the site policy."""
    accounts = list(DirectoryAccount.objects.filter(user_id=user_id).select_related("site"))
    if not accounts or settings.AIF_DIRECTORY_LOCK_POLICY != "nologin":
        return 0
    with _open() as directory:
        for account in accounts:
            entry = directory.find_by_uid(account.uid)
            if entry is not None:
                directory.lock(entry)
            if account.locked_at is None:
                _record_lock(account, locked=True)
    return len(accounts)


def directory_entry(account: DirectoryAccount) -> PosixAccount | None:
    """The entry as the directory holds it now (for operators and tests)."""
    with _open() as directory:
        return directory.find_by_uid(account.uid)
