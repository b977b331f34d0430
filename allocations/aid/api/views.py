from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import StaffMFA
from accounts.api.staff import BASE
from allocations.aid.api import serializers
from allocations.aid.export import register_rows
from allocations.aid.selectors import can_read_ledger
from portal.api.schema import COMMITTEE, responses


class CanReadLedger(BasePermission):
    message = _("Only allocation managers, ethics officers and operators read the aid register.")

    def has_permission(self, request, view):
        return can_read_ledger(request.user)


class AidRegisterApi(APIView):
    permission_classes = [*BASE, StaffMFA, CanReadLedger]

    @extend_schema(
        tags=COMMITTEE, summary="The aid register: the value of the free compute granted in a period",
        description="The lines of the aid ledger whose date of grant is in the period (both ends included), oldest "
                    "first; the same lines as the CSV and JSON downloads and `manage.py export_aid_register`. "
                    "A correction is a line of its own, dated like the grant it corrects. Not paginated.",
        parameters=[OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First date of grant."),
                    OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last date of grant."),
                    OpenApiParameter("basis", str, required=False, enum=[c for c, _l in
                                                                        serializers.LegalBasis.choices])],
        responses=responses({200: serializers.RegisterSerializer}, 400))
    def get(self, request):
        params = request.query_params
        query = serializers.RegisterQuerySerializer(data={"from": params.get("from"), "to": params.get("to"),
                                                          "basis": params.get("basis", "")})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = register_rows(start=data["from"], end=data["to"], basis=data["basis"])
        return Response(serializers.RegisterSerializer(
            {"from": data["from"], "to": data["to"], "currency": "EUR", "lines": rows}).data)
