"""System checks for setting combinations that would only fail later, in front of a user or a site.

Registered by ``portal.apps.PortalConfig.ready()``. Settings are read inside each check, never at
import time, so ``override_settings`` and a changed environment are seen.

Slurm backends: what each one needs mirrors ``allocations.services.provisioning.backend_for`` (site
options first, then the ``AIF_SLURM_*`` settings). The sites are read through the app registry so
that the core does not import a domain app.

Error or warning: an Error is a combination that fails every time the backend is used from a process
with these settings. Every process may use it: the Slurm worker provisions, and the web processes
read a site's actual state for the staff provisioning page, so a missing executable or file on this
machine is an Error here too. A machine that must run ``migrate`` without the Slurm clients passes
``--skip-checks``. A Warning is a combination that can still work: without a slurm.conf path,
sacctmgr reads its compiled-in default or runs configless; without a URL, the slurmrestd backend
talks to http://127.0.0.1:6820, which is right next to a local slurmrestd only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host

from portal.operator import placeholders

# Values of allocations.catalogue.models.SlurmBackendKind and ProvisioningMode that the checks act on.
SACCTMGR = "sacctmgr"
SLURMRESTD = "slurmrestd"
HANDOVER = "handover"


def register_checks() -> None:
    register(check_slurm_backend_setting, "slurm")
    register(check_site_backends, "slurm", Tags.database)
    register(check_portal_base_url, "portal")
    register(check_staff_mfa, Tags.security, deploy=True)
    register(check_celery_eager, "portal", deploy=True)
    register(check_oidc, "portal")
    register(check_idp_mfa, "portal")
    register(check_upload_limits, "portal")
    register(check_public_details, "portal", deploy=True)


# --- Slurm backends -----------------------------------------------------------------------------


def _backend_kinds() -> list[str]:
    site = apps.get_model("allocations", "Site")
    return [value for value, _label in site._meta.get_field("slurm_backend").choices]


def _sacctmgr_problems(options: Mapping[str, Any], obj: Any, where: str) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    slurm_conf = (options.get("slurm_conf") or getattr(settings, "AIF_SLURM_CONF", "")
                  or dict(options.get("env") or {}).get("SLURM_CONF", ""))
    if not slurm_conf:
        problems.append(Warning(
            f"{where} uses the sacctmgr backend without a slurm.conf path.",
            hint="Set AIF_SLURM_CONF (or SLURM_CONF) to the slurm.conf of the cluster, unless sacctmgr "
                 "finds it at its compiled-in default or runs configless.",
            obj=obj, id="portal.W001"))
    elif not (os.path.isfile(slurm_conf) and os.access(slurm_conf, os.R_OK)):
        problems.append(Error(
            f"{where} uses the sacctmgr backend with slurm.conf {slurm_conf!r}, which is not a readable file.",
            hint="Fix AIF_SLURM_CONF (or the site's slurm_conf option), or mount the file on this machine.",
            obj=obj, id="portal.E002"))
    # With a command prefix (sudo, ssh) the prefix is what this machine runs; it finds sacctmgr.
    prefix = list(options.get("command_prefix") or ())
    executable = prefix[0] if prefix else options.get("sacctmgr") or "sacctmgr"
    if shutil.which(executable) is None:
        problems.append(Error(
            f"{where} uses the sacctmgr backend, but {executable!r} is not an executable on PATH.",
            hint="Install the Slurm client commands on this machine, add them to PATH, or give the "
                 "site's sacctmgr option as an absolute path.",
            obj=obj, id="portal.E003"))
    return problems


def _slurmrestd_problems(options: Mapping[str, Any], obj: Any, where: str) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if not (options.get("base_url") or getattr(settings, "AIF_SLURMRESTD_URL", "")):
        problems.append(Warning(
            f"{where} uses the slurmrestd backend without a URL: it will call http://127.0.0.1:6820.",
            hint="Set AIF_SLURMRESTD_URL (or the site's base_url option) to the cluster's slurmrestd.",
            obj=obj, id="portal.W002"))
    if options.get("token"):
        return problems
    key_file = options.get("jwt_key_file") or getattr(settings, "AIF_SLURM_JWT_KEY", "")
    if not key_file:
        problems.append(Error(
            f"{where} uses the slurmrestd backend without a JWT key: the backend refuses to start.",
            hint="Set AIF_SLURM_JWT_KEY (or the site's jwt_key_file option) to slurmrestd's HS256 key file.",
            obj=obj, id="portal.E004"))
    elif not (os.path.isfile(key_file) and os.access(key_file, os.R_OK)):
        problems.append(Error(
            f"{where} uses the slurmrestd backend with JWT key {key_file!r}, which is not a readable file: "
            "no token can be signed.",
            hint="Fix AIF_SLURM_JWT_KEY (or the site's jwt_key_file option), or let the portal's user read it.",
            obj=obj, id="portal.E005"))
    return problems


def _backend_problems(kind: str, options: Mapping[str, Any], obj: Any, where: str) -> list[CheckMessage]:
    if kind == SACCTMGR:
        return _sacctmgr_problems(options, obj, where)
    if kind == SLURMRESTD:
        return _slurmrestd_problems(options, obj, where)
    return []


def check_slurm_backend_setting(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The backend AIF_SLURM_BACKEND forces on every direct site, with the settings alone.

    Site options are not read here (that needs the database): the override exists to point every
    site at one stack, whose configuration the settings carry."""
    kind = getattr(settings, "AIF_SLURM_BACKEND", "")
    if not kind:
        return []
    kinds = _backend_kinds()
    if kind not in kinds:
        return [Error(
            f"AIF_SLURM_BACKEND={kind!r} is not a Slurm backend: every provisioning attempt would fail.",
            hint=f"Use one of {', '.join(kinds)}, or leave it empty to use each site's own backend.",
            id="portal.E001")]
    return _backend_problems(kind, {}, None, f"AIF_SLURM_BACKEND={kind!r}")


def check_site_backends(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Each active, directly provisioned site's own backend (``check --database default``)."""
    if not databases or getattr(settings, "AIF_SLURM_BACKEND", ""):
        # Without a database there is nothing to read; with the override the sites' own backend
        # is not used and check_slurm_backend_setting covers the one that is.
        return []
    site_model = apps.get_model("allocations", "Site")
    problems: list[CheckMessage] = []
    for alias in databases:
        try:
            sites = list(site_model.objects.using(alias).filter(is_active=True)
                         .exclude(provisioning_mode=HANDOVER)
                         .filter(slurm_backend__in=[SACCTMGR, SLURMRESTD]).order_by("code"))
        except DatabaseError:
            continue  # not migrated yet: there are no sites to check
        for site in sites:
            # A site's backend_options never set paths, prefixes, URLs or keys (those are settings;
            # allocations.E001 reports a row that tries): the settings alone are checked.
            problems += _backend_problems(site.slurm_backend, {}, site, f"Site {site.code!r}")
    return problems


# --- URLs sent by e-mail ------------------------------------------------------------------------


def check_portal_base_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    base_url = settings.PORTAL_BASE_URL
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or base_url.endswith("/"):
        # Links are built as PORTAL_BASE_URL + reverse(...): a trailing slash doubles the slash.
        return [Error(
            f"PORTAL_BASE_URL={base_url!r} is not an absolute http(s) URL without a trailing slash: "
            "links in e-mails would be broken.",
            hint="Set PORTAL_BASE_URL like https://portal.example.org.",
            id="portal.E006")]
    if settings.DEBUG:
        return []
    problems: list[CheckMessage] = []
    host, _port = split_domain_port(parts.netloc.rpartition("@")[2])
    if not validate_host(host, settings.ALLOWED_HOSTS):
        problems.append(Error(
            f"The host of PORTAL_BASE_URL ({host!r}) is not in ALLOWED_HOSTS: links sent by e-mail "
            "(invitations, confirmations) would lead to a host the portal refuses (400).",
            hint="Set PORTAL_BASE_URL to the public address of the portal, or add its host to ALLOWED_HOSTS.",
            id="portal.E007"))
    if parts.scheme != "https" and settings.SECURE_SSL_REDIRECT:
        problems.append(Warning(
            f"PORTAL_BASE_URL={base_url!r} is not https while SECURE_SSL_REDIRECT is on: every link sent "
            "by e-mail goes over plain HTTP first, then is redirected.",
            hint="Use the https:// address in PORTAL_BASE_URL.",
            id="portal.W003"))
    return problems


# --- Security and background work ---------------------------------------------------------------


def check_staff_mfa(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or getattr(settings, "AIF_REQUIRE_MFA_FOR_STAFF", True):
        return []
    return [Error(
        "AIF_REQUIRE_MFA_FOR_STAFF is off: staff pages, the admin and the staff API accept a password alone.",
        hint="Remove AIF_REQUIRE_MFA_FOR_STAFF=0 from the production environment; staff set up TOTP or a "
             "security key at their next sign-in.",
        id="portal.E008")]


def check_celery_eager(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return []
    return [Error(
        "CELERY_TASK_ALWAYS_EAGER is on: e-mails, Slurm provisioning and reports would run inside web "
        "requests and beat, without time limits or retries, and their errors would reach the user.",
        hint="Remove CELERY_TASK_ALWAYS_EAGER=1 from the production environment and run a Celery worker.",
        id="portal.E009")]


def check_oidc(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # settings.py enables single sign-on only when both are set; one alone silently leaves it off.
    client_id = getattr(settings, "OIDC_CLIENT_ID", "")
    server_url = getattr(settings, "OIDC_SERVER_URL", "")
    if bool(client_id) == bool(server_url):
        return []
    missing = "OIDC_SERVER_URL" if client_id else "OIDC_CLIENT_ID"
    return [Warning(
        f"Single sign-on is off: {missing} is empty while the other OpenID Connect setting is set.",
        hint="Set both OIDC_CLIENT_ID and OIDC_SERVER_URL to offer single sign-on, or neither.",
        id="portal.W004")]


def check_idp_mfa(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # accounts.mfa.idp_mfa_acr: with no acr value listed, trusting the provider's MFA never takes effect.
    if not getattr(settings, "AIF_TRUST_IDP_MFA", False) or getattr(settings, "AIF_IDP_MFA_ACR_VALUES", []):
        return []
    return [Warning(
        "AIF_TRUST_IDP_MFA is on but AIF_IDP_MFA_ACR_VALUES is empty: no single sign-on counts as a second factor.",
        hint="Unset AIF_IDP_MFA_ACR_VALUES for the REFEDS MFA profile, list the acr values that attest MFA, "
             "or turn AIF_TRUST_IDP_MFA off.",
        id="portal.W005")]


def check_upload_limits(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # portal/uploads.py refuses a body over UPLOAD_MAX_BODY_BYTES before the file is looked at.
    body, attachment = settings.UPLOAD_MAX_BODY_BYTES, settings.ATTACHMENT_MAX_BYTES
    if body > attachment:
        return []
    return [Error(
        f"UPLOAD_MAX_BODY_BYTES ({body}) is not above ATTACHMENT_MAX_BYTES ({attachment}): an upload of an "
        "attachment within its limit would be refused with 413.",
        hint="Leave UPLOAD_MAX_BODY_BYTES unset (ATTACHMENT_MAX_BYTES + 1 MiB) or set it above "
             "ATTACHMENT_MAX_BYTES, with room for the form's other fields.",
        id="portal.E010")]


def check_public_details(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # The home page, the footer and the legal notices name the operator and the addresses to write to.
    left = placeholders()
    if settings.DEBUG or not left:
        return []
    return [Warning(
        f"The public pages (contact, legal notice, privacy notice, accessibility statement) show placeholder "
        f"details: {', '.join(left)}.",
        hint="Set the operator's name and the contact, privacy and accessibility addresses, and the date of the "
             "last accessibility check (YYYY-MM-DD); see README.md, Configuration.",
        id="portal.W006")]
