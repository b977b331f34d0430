"""Registering organisations: numbers, duplicates, figures, the derived EU SME class."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import Membership, MembershipRole, Organisation
from accounts.sme import SMEClass, sme_class
from portal.models import AuditEvent
from tests.factories import UserFactory, belgian_enterprise_number, format_belgian, french_vat_number

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("accounts:organisation_create")


def form_data(**overrides):
    data = {
        "legal_name": "Brussels Vision Labs SRL",
        "country": "BE",
        "org_type": "startup",
        "vat_number": "0403.170.701",
        "headcount": "12",
        "annual_turnover": "1500000",
        "balance_sheet_total": "900000",
        "sectors": ["health", "research"],
    }
    data.update(overrides)
    return data


def service_data(**overrides):
    data = form_data(**overrides)
    data["headcount"] = int(data["headcount"])
    data["annual_turnover"] = Decimal(data["annual_turnover"])
    data["balance_sheet_total"] = Decimal(data["balance_sheet_total"])
    return data


def counts():
    return (Organisation.objects.count(), Membership.objects.count(), AuditEvent.objects.count())


# --- creation --------------------------------------------------------------------------------------


def test_create_with_valid_belgian_enterprise_number(client, user):
    client.force_login(user)
    response = client.post(CREATE_URL, form_data(vat_number="0403.170.701"))
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    org = Organisation.objects.get()
    assert org.vat_number == "BE0403170701"  # stored compact, with the country prefix
    assert org.sme_class == SMEClass.SMALL
    assert org.sectors == ["health", "research"]
    membership = Membership.objects.get()
    assert (membership.user, membership.organisation, membership.role) == (user, org, MembershipRole.OWNER)
    event = AuditEvent.objects.get()
    assert event.action == "organisation.created"
    assert event.actor_id == user.pk
    assert event.object_id == str(org.pk)
    assert event.changes["vat_number"] == "BE0403170701"
    assert event.changes["sme_class"] == "small"
    # The new organisation is on the dashboard.
    assert "Brussels Vision Labs SRL" in client.get(reverse("dashboard")).content.decode()


def test_create_with_generated_belgian_numbers(user):
    for base in (1_234_567, 10_000_001, 19_999_999):
        number = belgian_enterprise_number(base)
        org = services.organisation_create(actor=user, data=service_data(vat_number=format_belgian(number),
                                                                          legal_name=f"Org {base}"))
        assert org.vat_number == f"BE{number}"


def test_create_with_valid_french_vat_number(client, user):
    client.force_login(user)
    number = french_vat_number(7)
    spaced = f"{number[:4]} {number[4:7]} {number[7:10]} {number[10:]}"  # "FR83 300 000 007"
    response = client.post(CREATE_URL, form_data(legal_name="Lyon Robotics SAS", country="FR", vat_number=spaced))
    assert response.status_code == 302
    assert Organisation.objects.get().vat_number == number


def test_french_number_without_prefix_is_accepted(user):
    number = french_vat_number(8)
    org = services.organisation_create(actor=user, data=service_data(country="FR", vat_number=number[2:]))
    assert org.vat_number == number


@pytest.mark.parametrize(
    ("country", "number", "message"),
    [
        ("BE", "0403.170.702", "not a valid Belgian enterprise number"),  # wrong check digits
        ("BE", "2403.170.701", "not a valid Belgian enterprise number"),  # must start with 0 or 1
        ("BE", "12345", "not a valid Belgian enterprise number"),
        ("FR", "FR00300000007", "not a valid VAT number"),  # wrong key
        ("FR", "FR83300000008", "not a valid VAT number"),  # SIREN fails Luhn
        ("DE", "DE12345", "not a valid VAT number"),
    ],
)
def test_invalid_number_is_refused_with_a_clear_message(client, user, country, number, message):
    client.force_login(user)
    before = counts()
    response = client.post(CREATE_URL, form_data(country=country, vat_number=number))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["vat_number"])
    assert message in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("second_format", ["0403170701", "BE 0403.170.701", "BE0403170701", "403.170.701"])
def test_duplicate_number_is_refused_in_any_format(client, user, second_format):
    services.organisation_create(actor=user, data=service_data(vat_number="BE 0403.170.701"))
    client.force_login(UserFactory())
    before = counts()
    response = client.post(CREATE_URL, form_data(legal_name="Copycat BV", vat_number=second_format))
    assert response.status_code == 200
    assert "already registered" in " ".join(response.context["form"].errors["vat_number"])
    assert counts() == before


def test_duplicate_number_refused_by_the_service(user):
    services.organisation_create(actor=user, data=service_data(vat_number="0403170701"))
    with pytest.raises(ValidationError) as excinfo:
        services.organisation_create(actor=user, data=service_data(vat_number="BE 0403.170.701"))
    assert "vat_number" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"),
    [("headcount", "-1"), ("annual_turnover", "-0.01"), ("balance_sheet_total", "-5000")],
)
def test_negative_figures_through_the_view_write_nothing(client, user, field, value):
    client.force_login(user)
    before = counts()
    response = client.post(CREATE_URL, form_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert "greater than or equal to 0" in errors[field][0]
    assert counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("headcount", -1), ("annual_turnover", Decimal("-1")), ("balance_sheet_total", Decimal("-1"))],
)
def test_negative_figures_through_the_service_write_nothing(user, field, value):
    before = counts()
    data = service_data()
    data[field] = value
    with pytest.raises(ValidationError) as excinfo:
        services.organisation_create(actor=user, data=data)
    assert field in excinfo.value.message_dict
    assert counts() == before


def test_edit_keeps_the_sme_class_derived_and_audits_the_change(owner_client, owner, organisation):
    url = reverse("accounts:organisation_edit", args=[organisation.pk])
    data = form_data(legal_name=organisation.legal_name, vat_number=organisation.vat_number,
                     headcount="120", annual_turnover="30000000", balance_sheet_total="30000000")
    response = owner_client.post(url, data)
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.sme_class == SMEClass.MEDIUM
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.changes["headcount"] == [8, 120]
    assert event.changes["sme_class"] == ["micro", "medium"]


def test_edit_to_another_organisations_number_is_refused(owner_client, organisation):
    other = services.organisation_create(actor=UserFactory(), data=service_data(vat_number="0403170701"))
    url = reverse("accounts:organisation_edit", args=[organisation.pk])
    response = owner_client.post(url, form_data(vat_number="BE 0403 170 701"))
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    organisation.refresh_from_db()
    assert organisation.vat_number != other.vat_number


# --- the EU SME class at every threshold edge ------------------------------------------------------

M = Decimal(1_000_000)


@pytest.mark.parametrize(
    ("headcount", "turnover", "balance", "expected"),
    [
        # micro: fewer than 10 staff AND (turnover <= 2 M OR balance sheet <= 2 M)
        (0, Decimal(0), Decimal(0), "micro"),
        (9, 2 * M, 2 * M, "micro"),
        (9, 2 * M + Decimal("0.01"), 2 * M, "micro"),  # balance sheet alone suffices
        (9, 2 * M, 2 * M + Decimal("0.01"), "micro"),  # turnover alone suffices
        (9, 2 * M + Decimal("0.01"), 2 * M + Decimal("0.01"), "small"),
        (10, Decimal(0), Decimal(0), "small"),  # 10 staff is not micro
        # small: fewer than 50 AND (turnover <= 10 M OR balance <= 10 M)
        (49, 10 * M, 10 * M, "small"),
        (49, 10 * M + Decimal("0.01"), 10 * M, "small"),
        (49, 10 * M + Decimal("0.01"), 10 * M + Decimal("0.01"), "medium"),
        (50, Decimal(0), Decimal(0), "medium"),
        # medium: fewer than 250 AND (turnover <= 50 M OR balance <= 43 M)
        (249, 50 * M, 43 * M, "medium"),
        (249, 50 * M + Decimal("0.01"), 43 * M, "medium"),
        (249, 50 * M, 43 * M + Decimal("0.01"), "medium"),
        (249, 50 * M + Decimal("0.01"), 43 * M + Decimal("0.01"), "not_sme"),
        (250, Decimal(0), Decimal(0), "not_sme"),
        (10_000, 900 * M, 900 * M, "not_sme"),
    ],
)
def test_sme_class_at_each_threshold_edge(user, headcount, turnover, balance, expected):
    assert sme_class(headcount=headcount, turnover=turnover, balance_sheet=balance) == expected
    # ...and the stored class, computed by the model when the service saves it.
    org = services.organisation_create(actor=user, data=service_data(
        vat_number=belgian_enterprise_number(1_000_000 + headcount), headcount=headcount,
        annual_turnover=turnover, balance_sheet_total=balance, org_type="sme"))
    assert org.sme_class == expected
    assert Organisation.objects.get(pk=org.pk).sme_class == expected


@pytest.mark.parametrize("headcount", [0, 9, 49, 249])
def test_public_body_is_never_an_sme(user, headcount):
    assert sme_class(headcount=headcount, turnover=Decimal(0), balance_sheet=Decimal(0), public_body=True) \
        == "not_sme"
    org = services.organisation_create(actor=user, data=service_data(
        org_type="public_body", headcount=headcount, annual_turnover=Decimal(0), balance_sheet_total=Decimal(0)))
    assert org.sme_class == SMEClass.NOT_SME


def test_sme_class_cannot_be_typed_in(client, user):
    client.force_login(user)
    client.post(CREATE_URL, form_data(headcount="500", sme_class="micro"))
    assert Organisation.objects.get().sme_class == SMEClass.NOT_SME
