"""Demo data for a first run: one account per role and a demo SME. Idempotent."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, MembershipRole, Organisation, User
from accounts.roles import ROLE_GROUPS, Role
from accounts.services import organisation_create
from portal.demo import extra_seeders

# Staff demo accounts share one TOTP secret so a person can sign in with `oathtool`.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

DEMO_USERS = [
    # email, full name, roles, superuser
    ("applicant@demo-vision.example", "Ada Applicant", [], False),
    ("member@demo-vision.example", "Milo Member", [], False),
    ("reviewer@demo.aifactory.eu", "Rita Reviewer", [Role.REVIEWER], False),
    ("reviewer2@demo.aifactory.eu", "Ravi Reviewer", [Role.REVIEWER], False),
    ("ethics@demo.aifactory.eu", "Elena Ethics", [Role.ETHICS_OFFICER], False),
    ("manager@demo.aifactory.eu", "Marc Manager", [Role.ALLOCATION_MANAGER], False),
    ("operator@demo.aifactory.eu", "Olga Operator", [Role.OPERATOR], False),
    ("admin@demo.aifactory.eu", "Adam Admin", [], True),
]

DEMO_ORG = {
    "legal_name": "Demo Vision Analytics BV",
    "country": "BE",
    "org_type": "sme",
    "vat_number": "0403.170.701",
    "headcount": 18,
    "annual_turnover": "2500000",
    "balance_sheet_total": "1800000",
    "sectors": ["health", "manufacturing"],
}


class Command(BaseCommand):
    help = "Load demo accounts (one per role) and a demo organisation. Safe to run repeatedly."

    def handle(self, *args, **options):
        call_command("setup_roles", verbosity=0, stdout=self.stdout)
        password = settings.AIF_DEMO_PASSWORD
        with transaction.atomic():
            users = {}
            for email, name, roles, superuser in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    maker = User.objects.create_superuser if superuser else User.objects.create_user
                    user = maker(email=email, password=password, full_name=name)
                EmailAddress.objects.update_or_create(
                    user=user, email=email, defaults={"verified": True, "primary": True})
                for role in roles:
                    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
                if Role.OPERATOR in roles and not user.is_staff:
                    user.is_staff = True  # operators work in the Django admin (DESIGN.md)
                    user.save(update_fields=["is_staff"])
                if (roles or superuser) and not Authenticator.objects.filter(
                        user=user, type=Authenticator.Type.TOTP).exists():
                    TOTP.activate(user, DEMO_TOTP_SECRET)
                users[email] = user
            applicant = users["applicant@demo-vision.example"]
            org = Organisation.objects.filter(legal_name=DEMO_ORG["legal_name"]).first()
            if org is None:
                org = organisation_create(actor=applicant, data=DEMO_ORG)
            Membership.objects.get_or_create(user=users["member@demo-vision.example"], organisation=org,
                                             defaults={"role": MembershipRole.MEMBER})
            for seeder in extra_seeders():
                seeder(users=users, organisation=org, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(users)} accounts (password: {password}), organisation {org.legal_name}"))
