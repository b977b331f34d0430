from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiTokenScope, Membership, MembershipRole, Organisation, OrganisationType, Sector
from accounts.roles import Role, roles_of

from ..countries import EU_COUNTRIES


class OrganisationSerializer(serializers.ModelSerializer):
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = ["id", "legal_name", "country", "org_type", "vat_number", "headcount", "annual_turnover",
                  "balance_sheet_total", "sectors", "sme_class", "created_at", "my_role"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=MembershipRole.choices, allow_null=True))
    def get_my_role(self, org) -> str | None:
        """The caller's role, from the annotation of the list/detail selector (no query per row)."""
        return getattr(org, "my_role", None)


class OrganisationCreateSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    country = serializers.ChoiceField(choices=EU_COUNTRIES)
    org_type = serializers.ChoiceField(choices=OrganisationType.choices)
    vat_number = serializers.CharField(max_length=20)
    headcount = serializers.IntegerField(min_value=0, max_value=2_147_483_647)
    annual_turnover = serializers.DecimalField(max_digits=15, decimal_places=2, min_value=0)
    balance_sheet_total = serializers.DecimalField(max_digits=15, decimal_places=2, min_value=0)
    sectors = serializers.ListField(child=serializers.ChoiceField(choices=Sector.choices), required=False,
                                    max_length=len(Sector.choices))


class OrganisationUpdateSerializer(OrganisationCreateSerializer):
    """The fields an owner may change (PATCH: send only those that change)."""


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "joined_at"]
        read_only_fields = fields


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=MembershipRole.choices, default=MembershipRole.MEMBER)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MembershipRole.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, write_only=True, trim_whitespace=True,
                                  help_text="The token from the invitation link (the last part of its path). "
                                            "Send it in the body, never in a URL.")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    roles = serializers.SerializerMethodField()
    token_scopes = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)))
    def get_roles(self, user) -> list[str]:
        return sorted(roles_of(user))

    def get_token_scopes(self, user) -> list[str] | None:
        token = self.context["request"].auth
        return list(token.scopes) if hasattr(token, "scopes") else None


SCOPE_CHOICES = ApiTokenScope.choices
