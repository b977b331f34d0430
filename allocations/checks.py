"""System checks of the access domains' data (``manage.py check --database default``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning
from django.db import DatabaseError

from allocations.catalogue.backend_options import backend_options_problems
from allocations.provisioning.identity.config import directory_config_problems
from allocations.provisioning.identity.ldap import DirectoryError


def check_site_backend_options(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A site whose backend_options hold what only the settings may set (an executable, a prefix, the
    environment, a URL, a key): the provisioning run ignores those options; the operator must remove them."""
    if not databases:
        return []
    site_model = apps.get_model("allocations", "Site")
    problems: list[CheckMessage] = []
    for alias in databases:
        try:
            sites = list(site_model.objects.using(alias).order_by("code"))
        except DatabaseError:
            continue  # not migrated yet
        for site in sites:
            for problem in backend_options_problems(site.backend_options or {}):
                problems.append(Error(
                    f"Site {site.code!r}: backend_options: {problem}",
                    hint="Remove the option in the admin (Sites) and set it through the settings "
                         "(AIF_SLURM_CONF, AIF_SLURM_COMMAND_PREFIX, AIF_SLURMRESTD_URL, AIF_SLURM_JWT_KEY, "
                         "AIF_SLURMRESTD_USER); until then the provisioning run ignores it.",
                    obj=site, id="allocations.E001"))
            if site.is_active and site.identity_backend == "directory":
                for problem in directory_config_problems():
                    problems.append(Warning(
                        f"Site {site.code!r} takes its identities from the directory, but {problem}",
                        hint="Set the AIF_DIRECTORY_* variables (docs/identity.md).",
                        obj=site, id="allocations.W001"))
            if site.is_active and site.offers_storage and site.storage_backend == "directory_quota":
                from allocations.provisioning.storage.services import quota_location  # needs the models loaded

                try:
                    quota_location(site)
                except DirectoryError as exc:
                    problems.append(Warning(
                        f"Site {site.code!r} keeps storage quotas in the directory, but {exc}",
                        hint="Set AIF_STORAGE_DIRECTORY_QUOTA and the AIF_DIRECTORY_* variables (docs/storage.md); "
                             "until then its storage stays pending and its provisioning runs fail.",
                        obj=site, id="allocations.W002"))
    return problems
