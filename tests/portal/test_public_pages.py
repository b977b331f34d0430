"""The front door: the home page says who runs the service, who may apply and the access modes from their data;
the contact page, legal notice, privacy notice and accessibility statement are public and linked from every page."""

import re

import pytest
from django.core.checks import Warning
from django.test import override_settings
from django.urls import reverse

from allocations.catalogue.models import AccessMode
from portal.checks import check_public_details

pytestmark = pytest.mark.django_db

NOTICES = ["contact", "privacy_notice", "accessibility_statement", "legal_notice"]
PUBLIC_PAGES = ["home", *NOTICES, "account_login", "account_signup", "account_reset_password"]


def html(response):
    return response.content.decode()


def footer_links(page):
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', page, re.S).group(1)
    return re.findall(r'<a href="([^"]+)">', footer)


def title(page):
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_public_page_links_the_notices_from_its_footer(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert footer_links(html(response)) == [reverse(notice) for notice in NOTICES]


def test_signed_in_pages_have_the_same_footer(member_client, app_draft):
    for url in [reverse("dashboard"), reverse("applications:step_project", args=[app_draft.reference]),
                reverse("accounts:privacy")]:
        assert footer_links(html(member_client.get(url))) == [reverse(notice) for notice in NOTICES], url


def test_each_notice_has_its_own_title(client):
    titles = [title(html(client.get(reverse(name)))) for name in ["home", *NOTICES]]
    assert len(set(titles)) == len(titles), titles


# --- the home page ----------------------------------------------------------------------------------------------


def mode_row(page, name):
    row = re.search(rf'<tr><th scope="row">{name}</th>(.*?)</tr>', page, re.S)
    assert row, f"no row for {name}"
    return re.findall(r"<td data-label=\"[^\"]*\">(.*?)</td>", row.group(1))


def test_the_home_page_shows_the_access_modes_from_their_data(client):
    page = html(client.get(reverse("home")))
    assert mode_row(page, "Playground")[:3] == ["up to 2,000 GPU-hours", "1, 2 or 3 months", "within 2 working days"]
    assert mode_row(page, "Large Scale")[:4] == ["more than 50,000 GPU-hours", "3, 6 or 12 months",
                                                 "within 10 working days after the call&#x27;s cut-off",
                                                 "to a call, before its cut-off"]
    assert mode_row(page, "Fast Lane")[4] == "SME, Start-up, Research organisation, Public body"


def test_a_change_to_a_mode_shows_on_the_home_page(client):
    AccessMode.objects.filter(code="fast_lane").update(max_gpu_hours=60_000, sla_working_days=5,
                                                        allowed_durations=[2, 4])
    AccessMode.objects.filter(code="playground").update(is_active=False)
    AccessMode.objects.create(code="sovereign", name="Sovereign Lane", max_gpu_hours=8_000, allowed_durations=[1],
                              sla_working_days=1, eligible_org_types=["public_body"], order=9)
    page = html(client.get(reverse("home")))
    assert mode_row(page, "Fast Lane")[:3] == ["up to 60,000 GPU-hours", "2 or 4 months", "within 5 working days"]
    assert mode_row(page, "Sovereign Lane") == ["up to 8,000 GPU-hours", "1 month", "within 1 working day",
                                                "at any time", "Public body"]
    assert "Playground" not in page


def test_the_home_page_says_who_runs_it_and_how_to_apply(client):
    with override_settings(AIF_OPERATOR_NAME="Example Supercomputing Centre", AIF_CONTACT_EMAIL="hello@hpc.example"):
        page = html(client.get(reverse("home")))
    assert "Example Supercomputing Centre runs this portal and hosts the AI Factory" in page
    assert "Run by Example Supercomputing Centre." in page  # the footer
    assert "Zellik <span class=\"muted\">(NVIDIA H100 SXM)</span>" in page
    assert "Charleroi <span class=\"muted\">(NVIDIA H200)</span>" in page
    steps = re.search(r'<ol class="process">(.*?)</ol>', page, re.S).group(1)
    assert steps.count("<li>") == 6 and "declaration of honour" in steps
    assert f'href="{reverse("privacy_notice")}"' in page
    assert 'href="mailto:hello@hpc.example"' in page


def test_signed_in_people_go_to_their_dashboard(member_client):
    response = member_client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("dashboard")


# --- the notices ---------------------------------------------------------------------------------------------


@override_settings(AIF_OPERATOR_NAME="Example Supercomputing Centre",
                   AIF_OPERATOR_ADDRESS="Rue de l'Exemple 1\n6000 Charleroi",
                   AIF_OPERATOR_ENTERPRISE_NUMBER="0123.456.789", AIF_CONTACT_EMAIL="hello@hpc.example",
                   AIF_PRIVACY_EMAIL="dpo@hpc.example", AIF_ACCESSIBILITY_EMAIL="a11y@hpc.example",
                   AIF_ACCESSIBILITY_CHECKED="2026-11-30")
def test_the_notices_show_the_operators_details(client):
    contact = html(client.get(reverse("contact")))
    for address in ("hello@hpc.example", "dpo@hpc.example", "a11y@hpc.example"):
        assert f'<a href="mailto:{address}">{address}</a>' in contact
    assert "6000 Charleroi" in contact
    legal = html(client.get(reverse("legal_notice")))
    assert "Example Supercomputing Centre" in legal and "0123.456.789" in legal
    privacy = html(client.get(reverse("privacy_notice")))
    assert "The controller is Example Supercomputing Centre" in privacy
    assert 'href="mailto:dpo@hpc.example"' in privacy
    accessibility = html(client.get(reverse("accessibility_statement")))
    assert "partially compliant with the Web Content Accessibility Guidelines (WCAG) 2.1, level AA" in accessibility
    assert "The portal was last checked on 30 November 2026." in accessibility
    assert 'href="mailto:a11y@hpc.example?subject=Accessibility%20barrier%20on%20the%20AI%20Factory%20portal"' \
        in accessibility
    assert "Directive (EU) 2016/2102" in accessibility


def test_the_privacy_notice_links_my_data_for_someone_signed_in(member_client):
    page = html(member_client.get(reverse("privacy_notice")))
    assert f'href="{reverse("accounts:privacy")}"' in page


def test_the_public_pages_name_no_placeholder_in_production():
    with override_settings(DEBUG=False):
        warnings = check_public_details()
    assert [w.id for w in warnings] == ["portal.W006"] and isinstance(warnings[0], Warning)
    assert "AIF_OPERATOR_NAME" in warnings[0].msg and "AIF_CONTACT_EMAIL" in warnings[0].msg
    with override_settings(DEBUG=False, AIF_OPERATOR_NAME="Example Supercomputing Centre",
                           AIF_CONTACT_EMAIL="a@hpc.example", AIF_PRIVACY_EMAIL="b@hpc.example",
                           AIF_ACCESSIBILITY_EMAIL="c@hpc.example"):
        assert check_public_details() == []
    with override_settings(DEBUG=False, AIF_OPERATOR_NAME="Example Supercomputing Centre",
                           AIF_CONTACT_EMAIL="a@hpc.example", AIF_PRIVACY_EMAIL="b@hpc.example",
                           AIF_ACCESSIBILITY_EMAIL="c@hpc.example", AIF_ACCESSIBILITY_CHECKED="last week"):
        assert "AIF_ACCESSIBILITY_CHECKED" in check_public_details()[0].msg

