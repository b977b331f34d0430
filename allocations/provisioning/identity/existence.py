"""Does a username exist on the clusters? For ``confirmed-username`` sites (docs/identity.md).

How the portal asks is the settings' choice, never the database's: ``AIF_USERNAME_CHECK=getent`` runs
``getent passwd <name>`` (behind ``AIF_USERNAME_CHECK_PREFIX``, e.g. ``ssh slurm-head``, when the portal
does not run on a machine that resolves the site's users), ``directory`` searches the LDAP directory of
the AIF_DIRECTORY_* settings, ``none`` does not check."""

from __future__ import annotations

import subprocess

from django.conf import settings

from allocations.provisioning.identity.config import directory_config
from allocations.provisioning.identity.ldap import Directory, DirectoryError
from allocations.provisioning.slurm.validation import USERNAME_RE


class UsernameCheckError(Exception):
    """The check could not be made (the host or the directory did not answer)."""


def username_exists(username: str) -> bool | None:
    """True or False by the configured check; None when no check is configured. Raises
    UsernameCheckError when the check itself failed."""
    how = getattr(settings, "AIF_USERNAME_CHECK", "none")
    if how == "none":
        return None
    if not USERNAME_RE.fullmatch(username):  # never handed to a command or a filter
        return False
    if how == "getent":
        argv = [*getattr(settings, "AIF_USERNAME_CHECK_PREFIX", []), "getent", "passwd", username]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise UsernameCheckError(f"{argv[0]}: {exc}") from exc
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0] == username
        if done.returncode == 2:  # getent: key not found
            return False
        raise UsernameCheckError(f"getent exited with {done.returncode}: {done.stderr.strip()[:200]}")
    if how == "directory":
        try:
            with Directory(directory_config()) as directory:
                return directory.find_by_uid(username) is not None
        except DirectoryError as exc:
            raise UsernameCheckError(str(exc)) from exc
    raise UsernameCheckError(f"AIF_USERNAME_CHECK={how!r} is not one of getent, directory, none")
