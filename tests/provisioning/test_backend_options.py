"""A site's backend_options (database) cannot choose executables, command prefixes, environment, URLs or
keys: the field refuses them, the provisioning run ignores a row written before, and a check flags it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from allocations.catalogue.backend_options import backend_options_problems
from allocations.catalogue.models import Site, SlurmBackendKind
from allocations.checks import check_site_backend_options
from allocations.provisioning.services import backend_for

pytestmark = pytest.mark.django_db

UNSAFE = [
    {"sacctmgr": "/tmp/evil"},
    {"command_prefix": ["ssh", "attacker.example"]},
    {"env": {"LD_PRELOAD": "/tmp/x.so"}},
    {"slurm_conf": "/tmp/other.conf"},
    {"base_url": "https://attacker.example"},
    {"jwt_key_file": "/etc/shadow"},
    {"user": "root"},
    {"verify_tls": False},
    {"tmp_dir": "/tmp"},
]


@pytest.mark.parametrize("options", UNSAFE)
def test_the_field_refuses_what_only_settings_may_set(options):
    site = Site(code="x", name="X", slurm_cluster="x", slurm_backend=SlurmBackendKind.SACCTMGR, backend_options=options)
    with pytest.raises(ValidationError) as exc:
        site.full_clean()
    message = " ".join(exc.value.message_dict["backend_options"])
    assert next(iter(options)) in message and "settings" in message


@pytest.mark.parametrize("options, ok", [
    ({"timeout": 60, "use_load": False}, True),
    ({"fallback_to_sacctmgr": True, "token_lifespan": 300}, True),
    ({"timeout": "60"}, False),
    ({"timeout": 0}, False),
    ({"use_load": 1}, False),
    (["timeout"], False),
])
def test_harmless_options_with_the_right_kind_pass(options, ok):
    assert (backend_options_problems(options) == []) is ok


def test_a_row_written_before_is_ignored_by_the_run_and_flagged(settings):
    settings.AIF_SLURM_BACKEND = ""
    settings.AIF_SLURM_CONF = "/etc/slurm/slurm.conf"
    settings.AIF_SLURM_COMMAND_PREFIX = ["sudo", "-u", "slurmadm"]
    site = Site(code="old", name="Old", slurm_cluster="old", slurm_backend=SlurmBackendKind.SACCTMGR,
                backend_options={"sacctmgr": "/tmp/evil", "command_prefix": ["sh", "-c"], "env": {"A": "1"},
                                 "timeout": 30})
    Site.objects.bulk_create([site])  # bypasses the validator, as rows from before it did
    site = Site.objects.get(code="old")
    backend = backend_for(site)
    assert backend.sacctmgr == "sacctmgr" and backend.env == {}
    assert backend.command_prefix == ("sudo", "-u", "slurmadm")
    assert backend.slurm_conf == "/etc/slurm/slurm.conf" and backend.timeout == 30
    messages = check_site_backend_options(databases=["default"])
    assert [m.id for m in messages] == ["allocations.E001"] * 3
    assert all(m.obj == site for m in messages)
    assert check_site_backend_options(databases=None) == []


def test_slurmrestd_url_key_and_user_come_from_settings(settings, tmp_path):
    key = tmp_path / "jwt.key"
    key.write_bytes(b"k" * 32)
    settings.AIF_SLURM_BACKEND = ""
    settings.AIF_SLURMRESTD_URL = "http://127.0.0.1:6820"
    settings.AIF_SLURM_JWT_KEY = str(key)
    settings.AIF_SLURMRESTD_USER = "aifportal"
    site = Site(code="rest", name="Rest", slurm_cluster="rest", slurm_backend=SlurmBackendKind.SLURMRESTD,
                backend_options={"base_url": "https://attacker.example", "user": "root", "token_lifespan": 120})
    Site.objects.bulk_create([site])
    backend = backend_for(Site.objects.get(code="rest"))
    assert backend.base_url == "http://127.0.0.1:6820" and backend.user == "aifportal"


def test_a_directory_site_with_incomplete_or_clear_text_settings_is_warned(settings):
    site = Site.objects.create(code="dir", name="Dir", slurm_cluster="dir", identity_backend="directory")
    settings.AIF_DIRECTORY_URL = ""
    messages = check_site_backend_options(databases=["default"])
    assert {m.id for m in messages} == {"allocations.W001"} and all(m.obj == site for m in messages)
    settings.AIF_DIRECTORY_URL = "ldap://directory.example.org"
    settings.AIF_DIRECTORY_BIND_DN = "cn=portal,dc=example,dc=org"
    settings.AIF_DIRECTORY_BIND_PASSWORD = "secret"
    settings.AIF_DIRECTORY_USERS_DN = "ou=people,dc=example,dc=org"
    settings.AIF_DIRECTORY_GROUPS_DN = "ou=groups,dc=example,dc=org"
    assert ["in clear" in m.msg for m in check_site_backend_options(databases=["default"])] == [True]
    settings.AIF_DIRECTORY_URL = "ldaps://directory.example.org"
    assert check_site_backend_options(databases=["default"]) == []
