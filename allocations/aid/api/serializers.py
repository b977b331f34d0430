"""The aid register as the API returns it (the same fields as the CSV and JSON downloads)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from allocations.aid.choices import LegalBasis


def _period_fields(fields: dict) -> dict:
    """"from" is a Python keyword: the period's fields are named here rather than as class attributes."""
    return {"from": serializers.DateField(help_text="First date of grant (YYYY-MM-DD)."),
            "to": serializers.DateField(help_text="Last date of grant, inclusive (YYYY-MM-DD)."), **fields}


class RegisterQuerySerializer(serializers.Serializer):
    basis = serializers.ChoiceField(choices=LegalBasis.choices, required=False, default="", allow_blank=True,
                                    help_text="Only the lines of this legal basis (de_minimis for the central "
                                              "register).")

    def get_fields(self):
        return _period_fields(super().get_fields())

    def validate(self, attrs):
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": _("The end of the period comes before its start.")})
        return attrs


class RegisterLineSerializer(serializers.Serializer):
    beneficiary = serializers.CharField()
    vat_number = serializers.CharField()
    single_undertaking = serializers.CharField(help_text="The beneficiary and the enterprises linked to it on the "
                                                         "date of grant, each with its VAT number.")
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    legal_basis_label = serializers.CharField()
    legal_basis_article = serializers.CharField(allow_blank=True)
    granted_on = serializers.DateField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True,
                                     help_text="Negative for a correction that takes value away.")
    currency = serializers.CharField()
    granting_site = serializers.CharField()
    kind = serializers.CharField(help_text="grant, top_up or correction.")
    kind_label = serializers.CharField()
    allocation = serializers.CharField()
    line = serializers.IntegerField()
    corrects = serializers.IntegerField(allow_null=True, help_text="The line a correction corrects.")


class RegisterSerializer(serializers.Serializer):
    currency = serializers.CharField()
    lines = RegisterLineSerializer(many=True)

    def get_fields(self):
        return _period_fields(super().get_fields())
