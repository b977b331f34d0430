"""portal/checks.py: each check fails on its bad combination and is silent on the good one."""

from __future__ import annotations

import pytest
from django.core.checks import Error, Warning, run_checks
from django.core.checks.registry import registry
from django.test import override_settings

from allocations.catalogue.models import ProvisioningMode, Site, SlurmBackendKind
from portal import checks

PRODUCTION = {"DEBUG": False, "ALLOWED_HOSTS": ["portal.aifactory.example"],
              "PORTAL_BASE_URL": "https://portal.aifactory.example", "SECURE_SSL_REDIRECT": True}


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.fixture
def slurm_conf(tmp_path):
    path = tmp_path / "slurm.conf"
    path.write_text("ClusterName=zellik\n")
    return str(path)


@pytest.fixture
def jwt_key(tmp_path):
    path = tmp_path / "jwt_hs256.key"
    path.write_bytes(b"k" * 32)
    return str(path)


@pytest.fixture
def sacctmgr_on_path(tmp_path, monkeypatch):
    """A stand-in sacctmgr executable, alone on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "sacctmgr"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return str(exe)


@pytest.fixture
def empty_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))


# --- AIF_SLURM_BACKEND --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["", "record", "handover"])
def test_backends_without_configuration_pass(kind):
    with override_settings(AIF_SLURM_BACKEND=kind, AIF_SLURM_CONF="", AIF_SLURMRESTD_URL="", AIF_SLURM_JWT_KEY=""):
        assert checks.check_slurm_backend_setting() == []


def test_unknown_backend_is_an_error():
    with override_settings(AIF_SLURM_BACKEND="sacctmgrr"):
        messages = checks.check_slurm_backend_setting()
    assert ids(messages) == ["portal.E001"]
    assert isinstance(messages[0], Error)


def test_sacctmgr_with_its_configuration_passes(slurm_conf, sacctmgr_on_path):
    with override_settings(AIF_SLURM_BACKEND="sacctmgr", AIF_SLURM_CONF=slurm_conf):
        assert checks.check_slurm_backend_setting() == []


def test_sacctmgr_without_slurm_conf_path_is_a_warning(sacctmgr_on_path):
    with override_settings(AIF_SLURM_BACKEND="sacctmgr", AIF_SLURM_CONF=""):
        messages = checks.check_slurm_backend_setting()
    assert ids(messages) == ["portal.W001"]
    assert isinstance(messages[0], Warning) and not isinstance(messages[0], Error)


def test_sacctmgr_with_missing_slurm_conf_is_an_error(tmp_path, sacctmgr_on_path):
    with override_settings(AIF_SLURM_BACKEND="sacctmgr", AIF_SLURM_CONF=str(tmp_path / "missing.conf")):
        assert ids(checks.check_slurm_backend_setting()) == ["portal.E002"]


def test_sacctmgr_not_on_path_is_an_error(slurm_conf, empty_path):
    with override_settings(AIF_SLURM_BACKEND="sacctmgr", AIF_SLURM_CONF=slurm_conf):
        assert ids(checks.check_slurm_backend_setting()) == ["portal.E003"]


def test_slurmrestd_with_its_configuration_passes(jwt_key):
    with override_settings(AIF_SLURM_BACKEND="slurmrestd", AIF_SLURMRESTD_URL="https://slurm.example:6820",
                           AIF_SLURM_JWT_KEY=jwt_key):
        assert checks.check_slurm_backend_setting() == []


def test_slurmrestd_without_url_is_a_warning(jwt_key):
    with override_settings(AIF_SLURM_BACKEND="slurmrestd", AIF_SLURMRESTD_URL="", AIF_SLURM_JWT_KEY=jwt_key):
        assert ids(checks.check_slurm_backend_setting()) == ["portal.W002"]


def test_slurmrestd_without_jwt_key_is_an_error():
    with override_settings(AIF_SLURM_BACKEND="slurmrestd", AIF_SLURMRESTD_URL="https://slurm.example:6820",
                           AIF_SLURM_JWT_KEY=""):
        assert ids(checks.check_slurm_backend_setting()) == ["portal.E004"]


def test_slurmrestd_with_unreadable_jwt_key_is_an_error(tmp_path):
    with override_settings(AIF_SLURM_BACKEND="slurmrestd", AIF_SLURMRESTD_URL="https://slurm.example:6820",
                           AIF_SLURM_JWT_KEY=str(tmp_path / "missing.key")):
        assert ids(checks.check_slurm_backend_setting()) == ["portal.E005"]


# --- site rows (check --database default) -------------------------------------------------------


def _site(**fields) -> Site:
    defaults = {"code": "checked", "name": "Checked", "slurm_cluster": "checked"}
    return Site.objects.create(**defaults | fields)


@pytest.mark.django_db
@override_settings(AIF_SLURM_BACKEND="", AIF_SLURM_CONF="", AIF_SLURMRESTD_URL="", AIF_SLURM_JWT_KEY="")
def test_site_rows_are_only_checked_with_a_database(empty_path):
    site = _site(slurm_backend=SlurmBackendKind.SACCTMGR)
    assert checks.check_site_backends(databases=None) == []
    messages = checks.check_site_backends(databases=["default"])
    assert ids(messages) == ["portal.W001", "portal.E003"]
    assert all(message.obj == site for message in messages)


@pytest.mark.django_db
@override_settings(AIF_SLURM_BACKEND="", AIF_SLURM_CONF="", AIF_SLURMRESTD_URL="", AIF_SLURM_JWT_KEY="")
def test_site_options_cannot_stand_in_for_the_settings(slurm_conf, sacctmgr_on_path):
    site = Site(code="checked", name="Checked", slurm_cluster="checked", slurm_backend=SlurmBackendKind.SACCTMGR,
                backend_options={"slurm_conf": slurm_conf})
    Site.objects.bulk_create([site])  # a row written before the field refused such options
    assert ids(checks.check_site_backends(databases=["default"])) == ["portal.W001"]
    with override_settings(AIF_SLURM_CONF=slurm_conf):
        assert checks.check_site_backends(databases=["default"]) == []


@pytest.mark.django_db
@override_settings(AIF_SLURM_BACKEND="", AIF_SLURMRESTD_URL="", AIF_SLURM_JWT_KEY="")
def test_slurmrestd_site_without_key_is_an_error():
    _site(slurm_backend=SlurmBackendKind.SLURMRESTD)
    with override_settings(AIF_SLURMRESTD_URL="https://slurm.example:6820"):
        assert ids(checks.check_site_backends(databases=["default"])) == ["portal.E004"]


@pytest.mark.django_db
@override_settings(AIF_SLURM_BACKEND="", AIF_SLURMRESTD_URL="https://slurm.example:6820")
def test_slurmrestd_site_with_settings_key_passes(jwt_key):
    _site(slurm_backend=SlurmBackendKind.SLURMRESTD)
    with override_settings(AIF_SLURM_JWT_KEY=jwt_key):
        assert checks.check_site_backends(databases=["default"]) == []


@pytest.mark.django_db
@override_settings(AIF_SLURM_BACKEND="", AIF_SLURM_CONF="", AIF_SLURMRESTD_URL="", AIF_SLURM_JWT_KEY="")
def test_handover_inactive_and_overridden_sites_are_not_checked(empty_path):
    _site(slurm_backend=SlurmBackendKind.SACCTMGR, provisioning_mode=ProvisioningMode.HANDOVER)
    _site(code="old", slurm_backend=SlurmBackendKind.SLURMRESTD, is_active=False)
    assert checks.check_site_backends(databases=["default"]) == []
    _site(code="direct", slurm_backend=SlurmBackendKind.SACCTMGR)
    with override_settings(AIF_SLURM_BACKEND="record"):  # every direct site uses the override instead
        assert checks.check_site_backends(databases=["default"]) == []


# --- PORTAL_BASE_URL ----------------------------------------------------------------------------


@override_settings(**PRODUCTION)
def test_base_url_on_an_allowed_host_passes():
    assert checks.check_portal_base_url() == []
    with override_settings(ALLOWED_HOSTS=[".aifactory.example"]):
        assert checks.check_portal_base_url() == []


@override_settings(**PRODUCTION)
def test_base_url_on_a_refused_host_is_an_error():
    with override_settings(PORTAL_BASE_URL="https://portal.aifactory.example.org"):
        assert ids(checks.check_portal_base_url()) == ["portal.E007"]
    with override_settings(PORTAL_BASE_URL="https://127.0.0.1:8000"):
        assert ids(checks.check_portal_base_url()) == ["portal.E007"]


def test_base_url_host_is_not_checked_in_debug():
    with override_settings(**PRODUCTION | {"DEBUG": True, "PORTAL_BASE_URL": "http://elsewhere.example"}):
        assert checks.check_portal_base_url() == []


@pytest.mark.parametrize("url", ["portal.aifactory.example", "https://portal.aifactory.example/", "ftp://x"])
def test_malformed_base_url_is_an_error(url):
    with override_settings(**PRODUCTION | {"PORTAL_BASE_URL": url}):
        assert ids(checks.check_portal_base_url()) == ["portal.E006"]


@override_settings(**PRODUCTION)
def test_plain_http_base_url_with_https_redirect_is_a_warning():
    with override_settings(PORTAL_BASE_URL="http://portal.aifactory.example"):
        assert ids(checks.check_portal_base_url()) == ["portal.W003"]
    with override_settings(PORTAL_BASE_URL="http://portal.aifactory.example", SECURE_SSL_REDIRECT=False):
        assert checks.check_portal_base_url() == []


# --- MFA, Celery, single sign-on ----------------------------------------------------------------


def test_staff_mfa_off_in_production_is_an_error():
    with override_settings(DEBUG=False, AIF_REQUIRE_MFA_FOR_STAFF=False):
        assert ids(checks.check_staff_mfa()) == ["portal.E008"]
    with override_settings(DEBUG=False, AIF_REQUIRE_MFA_FOR_STAFF=True):
        assert checks.check_staff_mfa() == []
    with override_settings(DEBUG=True, AIF_REQUIRE_MFA_FOR_STAFF=False):
        assert checks.check_staff_mfa() == []


def test_eager_celery_in_production_is_an_error():
    with override_settings(DEBUG=False, CELERY_TASK_ALWAYS_EAGER=True):
        assert ids(checks.check_celery_eager()) == ["portal.E009"]
    with override_settings(DEBUG=False, CELERY_TASK_ALWAYS_EAGER=False):
        assert checks.check_celery_eager() == []


def test_half_configured_single_sign_on_is_a_warning():
    with override_settings(OIDC_CLIENT_ID="portal", OIDC_SERVER_URL=""):
        assert ids(checks.check_oidc()) == ["portal.W004"]
    with override_settings(OIDC_CLIENT_ID="", OIDC_SERVER_URL="https://proxy.myaccessid.org"):
        assert ids(checks.check_oidc()) == ["portal.W004"]
    with override_settings(OIDC_CLIENT_ID="portal", OIDC_SERVER_URL="https://proxy.myaccessid.org"):
        assert checks.check_oidc() == []


def test_trusting_the_provider_s_mfa_with_no_acr_value_is_a_warning():
    with override_settings(AIF_TRUST_IDP_MFA=True, AIF_IDP_MFA_ACR_VALUES=[]):
        assert ids(checks.check_idp_mfa()) == ["portal.W005"]
    with override_settings(AIF_TRUST_IDP_MFA=True, AIF_IDP_MFA_ACR_VALUES=["https://refeds.org/profile/mfa"]):
        assert checks.check_idp_mfa() == []
    with override_settings(AIF_TRUST_IDP_MFA=False, AIF_IDP_MFA_ACR_VALUES=[]):
        assert checks.check_idp_mfa() == []


def test_a_body_limit_below_the_attachment_limit_is_an_error():
    with override_settings(ATTACHMENT_MAX_BYTES=20 * 1024 * 1024, UPLOAD_MAX_BODY_BYTES=20 * 1024 * 1024):
        assert ids(checks.check_upload_limits()) == ["portal.E010"]
    with override_settings(ATTACHMENT_MAX_BYTES=20 * 1024 * 1024, UPLOAD_MAX_BODY_BYTES=21 * 1024 * 1024):
        assert checks.check_upload_limits() == []


# --- registration -------------------------------------------------------------------------------


def test_deployment_checks_are_registered_as_such():
    normal = registry.get_checks(include_deployment_checks=False)
    everything = registry.get_checks(include_deployment_checks=True)
    assert checks.check_staff_mfa in everything and checks.check_staff_mfa not in normal
    assert checks.check_celery_eager in everything and checks.check_celery_eager not in normal
    assert "security" in checks.check_staff_mfa.tags
    assert "database" in checks.check_site_backends.tags
    for check in (checks.check_slurm_backend_setting, checks.check_portal_base_url, checks.check_oidc,
                  checks.check_idp_mfa, checks.check_upload_limits):
        assert check in normal


def test_the_test_settings_pass_every_check(db):
    assert [m for m in run_checks(include_deployment_checks=False, databases=["default"])
            if m.id.startswith("portal.")] == []
