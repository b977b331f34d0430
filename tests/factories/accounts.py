"""People, organisations, staff roles and API tokens.

Numbers are generated valid: Belgian enterprise numbers pass the mod-97 check, French VAT
numbers carry a Luhn-valid SIREN and the right key, so tests fail only for the reason they test."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from stdnum import luhn

from accounts.models import ApiTokenScope, Membership, MembershipRole, Organisation, OrganisationType, User
from accounts.roles import ROLE_GROUPS, Role
from accounts.services import api_token_create

DEFAULT_PASSWORD = "Correct-horse-battery-42"
# A fixed base32 secret, so a test (or a person) can compute the current code.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# A code is good for its 30-second period only (allauth's tolerance is 0): one computed in the period's last
# seconds could reach the portal in the next one and be refused.
TOTP_MARGIN_SECONDS = 3


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The current code of ``secret``, as an authenticator app shows it; near the end of a period it waits for
    the next one, so that the code is still good when the test (or the browser it drives) sends it."""
    left = 30 - time.time() % 30
    if left < TOTP_MARGIN_SECONDS:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def belgian_enterprise_number(base: int) -> str:
    """10 digits: a leading 0 or 1, seven more digits, then 97 - (first eight digits mod 97)."""
    if not 0 < base < 20_000_000:
        raise ValueError("base must fit in eight digits starting with 0 or 1")
    first8 = f"{base:08d}"
    return f"{first8}{97 - int(first8) % 97:02d}"


def format_belgian(number: str) -> str:
    """0403170701 -> '0403.170.701' (the form printed on invoices)."""
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


def french_vat_number(seq: int) -> str:
    """FR + 2-digit key + Luhn-valid SIREN."""
    siren8 = f"{30_000_000 + seq:08d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


# Far from the demo organisation's 0403.170.701 so seeded data never collides with factories.
_be_sequence = itertools.count(4_200_000)


def next_belgian_number() -> str:
    return belgian_enterprise_number(next(_be_sequence))


class UserFactory(factory.django.DjangoModelFactory):
    """An applicant with a verified, primary allauth e-mail address: able to sign in."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.eu")
    full_name = factory.Sequence(lambda n: f"Person Number{n}")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class OrganisationFactory(factory.django.DjangoModelFactory):
    """A Belgian micro SME. Created directly (no owner, no audit event): use the service when
    the test is about registration."""

    class Meta:
        model = Organisation

    legal_name = factory.Sequence(lambda n: f"Example Analytics {n} BV")
    country = "BE"
    org_type = OrganisationType.SME
    vat_number = factory.LazyFunction(lambda: "BE" + next_belgian_number())
    headcount = 8
    annual_turnover = Decimal("900000")
    balance_sheet_total = Decimal("700000")
    sectors = factory.LazyFunction(lambda: ["health"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = MembershipRole.MEMBER


class OwnerMembershipFactory(MembershipFactory):
    role = MembershipRole.OWNER


def activate_totp(user: User, secret: str = TOTP_SECRET) -> TOTP:
    return TOTP.activate(user, secret)


def _roles_hook(*default_roles: str) -> factory.PostGeneration:
    """Put the user in the role groups: `roles=[...]` when given, else the factory's default."""

    def hook(user, create, extracted, **kwargs):
        if not create:
            return
        for role in default_roles if extracted is None else extracted:
            group, _ = Group.objects.get_or_create(name=ROLE_GROUPS[role])
            user.groups.add(group)

    return factory.PostGeneration(hook)


class StaffUserFactory(UserFactory):
    """A staff member. `roles=[Role.REVIEWER, ...]` puts them in the role groups. Staff have an
    authenticator app with TOTP_SECRET, as the portal requires (staff roles hold only after a second
    factor); `totp=False` builds one who has not set it up yet."""

    roles = _roles_hook()

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            activate_totp(self)


class ReviewerFactory(StaffUserFactory):
    roles = _roles_hook(Role.REVIEWER)


class EthicsOfficerFactory(StaffUserFactory):
    roles = _roles_hook(Role.ETHICS_OFFICER)


class AllocationManagerFactory(StaffUserFactory):
    roles = _roles_hook(Role.ALLOCATION_MANAGER)


class OperatorFactory(StaffUserFactory):
    """Operators run the Django admin (DESIGN.md), so they have admin access."""

    roles = _roles_hook(Role.OPERATOR)
    is_staff = True


class AdminFactory(StaffUserFactory):
    is_staff = True
    is_superuser = True


STAFF_FACTORIES = {
    "reviewer": ReviewerFactory,
    "ethics_officer": EthicsOfficerFactory,
    "allocation_manager": AllocationManagerFactory,
    "operator": OperatorFactory,
    "admin": AdminFactory,
}


# One counter for every builder that numbers what it makes (addresses, titles), so names never collide.
sequence = itertools.count(1)


def applicant(organisation=None, *, domain: str | None = None, owner: bool = True) -> User:
    """A member of an organisation, with an address at the organisation's own domain."""
    n = next(sequence)
    organisation = organisation or OrganisationFactory()
    user = UserFactory(email=f"applicant{n}@{domain or f'org{organisation.pk}.example.com'}")
    Membership.objects.create(user=user, organisation=organisation,
                              role=MembershipRole.OWNER if owner else MembershipRole.MEMBER)
    return user


def other_organisation_user() -> User:
    """A member of a further organisation of their own."""
    user = UserFactory()
    MembershipFactory(user=user, organisation=OrganisationFactory())
    return user


def org_of(user) -> Organisation:
    """The first organisation `user` is a member of."""
    return Membership.objects.filter(user=user).first().organisation


def manager(totp=True) -> User:
    n = next(sequence)
    return AllocationManagerFactory(email=f"manager{n}@aif.example.be", totp=totp)


def give_role(user, role: str):
    user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[role])[0])
    user.__dict__.pop("_aif_roles", None)
    return user


# --- API tokens -----------------------------------------------------------------------------------

READ_WRITE = [ApiTokenScope.READ, ApiTokenScope.WRITE]


def token(user, scopes=READ_WRITE, name: str = "ci") -> str:
    """A token's secret for `user`, created through the service (as /me/tokens/ does)."""
    return api_token_create(actor=user, name=name, scopes=list(scopes))[1]


def auth(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {secret}"}
