"""The directory connection, from the settings only (never from the database)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from allocations.provisioning.identity.ldap import DirectoryConfig

REQUIRED = ("AIF_DIRECTORY_URL", "AIF_DIRECTORY_BIND_DN", "AIF_DIRECTORY_BIND_PASSWORD", "AIF_DIRECTORY_USERS_DN",
            "AIF_DIRECTORY_GROUPS_DN")
LOCK_POLICIES = ("nologin", "none")


def directory_config_problems() -> list[str]:
    """What is missing or wrong in the AIF_DIRECTORY_* settings ([] when a directory can be used)."""
    problems = [f"{name} is not set" for name in REQUIRED if not getattr(settings, name, "")]
    low, high = settings.AIF_DIRECTORY_UID_MIN, settings.AIF_DIRECTORY_UID_MAX
    glow, ghigh = settings.AIF_DIRECTORY_GID_MIN, settings.AIF_DIRECTORY_GID_MAX
    if not 1000 <= low <= high or not 1000 <= glow <= ghigh:
        problems.append("the uid and gid ranges must start at 1000 or above and not be empty")
    elif low <= ghigh and glow <= high:
        problems.append("the uid range (private groups) and the project gid range overlap")
    if settings.AIF_DIRECTORY_LOCK_POLICY not in LOCK_POLICIES:
        problems.append(f"AIF_DIRECTORY_LOCK_POLICY must be one of {', '.join(LOCK_POLICIES)}")
    url = urlsplit(settings.AIF_DIRECTORY_URL or "")
    if url.scheme not in ("", "ldap", "ldaps"):
        problems.append("AIF_DIRECTORY_URL must start with ldap:// or ldaps://")
    elif url.scheme == "ldap" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
        problems.append("AIF_DIRECTORY_URL is ldap:// to another host: the bind password would cross the network "
                        "in clear; use ldaps://")
    if "{uid}" not in settings.AIF_DIRECTORY_HOME_PATTERN:
        problems.append("AIF_DIRECTORY_HOME_PATTERN must contain {uid}")
    return problems


def directory_config() -> DirectoryConfig:
    return DirectoryConfig(
        url=settings.AIF_DIRECTORY_URL, bind_dn=settings.AIF_DIRECTORY_BIND_DN,
        password=settings.AIF_DIRECTORY_BIND_PASSWORD, users_dn=settings.AIF_DIRECTORY_USERS_DN,
        groups_dn=settings.AIF_DIRECTORY_GROUPS_DN,
        uid_range=(settings.AIF_DIRECTORY_UID_MIN, settings.AIF_DIRECTORY_UID_MAX),
        gid_range=(settings.AIF_DIRECTORY_GID_MIN, settings.AIF_DIRECTORY_GID_MAX),
        login_shell=settings.AIF_DIRECTORY_LOGIN_SHELL, locked_shell=settings.AIF_DIRECTORY_LOCKED_SHELL,
        home_pattern=settings.AIF_DIRECTORY_HOME_PATTERN, subject_attribute=settings.AIF_DIRECTORY_SUBJECT_ATTRIBUTE,
        timeout=settings.AIF_DIRECTORY_TIMEOUT)
