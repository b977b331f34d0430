from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.staff import ManagerApi
from allocations.grants import selectors, services
from allocations.grants.api import serializers
from allocations.grants.api.filters import AllocationFilter, ChangeRequestFilter
from allocations.grants.lists import ALLOCATION_LIST, CHANGE_REQUEST_LIST
from allocations.grants.models import Allocation, ChangeRequest
from allocations.grants.selectors import (
    allocation_conditions,
    change_requests_of,
    with_provisioning,
)
from allocations.grants.services import change_request_submit
from compliance import services as compliance_services
from portal.api.schema import ALLOCS, COMMITTEE, LIST_ERRORS, responses
from portal.api.views import ListSpecMixin, combine, list_parameters, validated

# ------------------------------------------------------------------------------------ allocations

class AllocationListApi(ListAPIView):
    queryset = Allocation.objects.none()
    serializer_class = serializers.AllocationSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["start_date", "end_date", "created_at", "reference"]
    ordering = ["-start_date", "-pk"]

    def get_queryset(self):
        return with_provisioning(selectors.allocations_of_member(self.request.user))

    @extend_schema(tags=ALLOCS, summary="The caller's organisations' allocations: quotas, provisioning, usage",
                   responses=responses({200: serializers.AllocationSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def allocation_of_member(user, reference: str):
    selectors.allocation_of_member(user, reference)  # the scoping rule: 404 for anyone else
    return with_provisioning(selectors.allocations_of_member(user)).get(reference=reference)


class AllocationDetailSerializer(serializers.AllocationSerializer):
    conditions = serializers.ConditionSerializer(many=True, read_only=True, source="conditions_list")

    class Meta(serializers.AllocationSerializer.Meta):
        fields = serializers.AllocationSerializer.Meta.fields + ["conditions"]
        read_only_fields = fields


class AllocationDetailApi(APIView):
    @extend_schema(tags=ALLOCS, summary="One allocation, with its ethics conditions",
                   responses=responses({200: AllocationDetailSerializer}, 404))
    def get(self, request, reference):
        alloc = allocation_of_member(request.user, reference)
        alloc.conditions_list = selectors.allocation_conditions(alloc)
        return Response(AllocationDetailSerializer(alloc).data)


class ConditionAcknowledgeApi(APIView):
    @extend_schema(tags=ALLOCS, summary="Acknowledge an ethics condition of the allocation", request=None,
                   responses=responses({200: serializers.ConditionSerializer}, 404))
    def post(self, request, reference, pk):
        alloc = selectors.allocation_of_member(request.user, reference)
        condition = selectors.condition_of_allocation(alloc, pk)
        condition = compliance_services.condition_acknowledge(actor=request.user, condition=condition)
        return Response(serializers.ConditionSerializer(condition).data)


class ChangeRequestListApi(ListAPIView):
    queryset = ChangeRequest.objects.none()
    serializer_class = serializers.ChangeRequestSerializer
    filterset_class = ChangeRequestFilter
    ordering_fields = ["requested_at", "decided_at"]
    ordering = ["-requested_at", "-pk"]

    def get_queryset(self):
        return change_requests_of(selectors.allocation_of_member(self.request.user, self.kwargs["reference"]))

    @extend_schema(tags=ALLOCS, summary="Change requests of an allocation",
                   responses=responses({200: serializers.ChangeRequestSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ChangeRequestSubmitApi(APIView):
    @extend_schema(tags=ALLOCS, summary="Ask for an extension, a quota top-up or new team members",
                   request=serializers.ChangeRequestCreateSerializer,
                   responses=responses({201: serializers.ChangeRequestSerializer}, 400, 404))
    def post(self, request, reference):
        alloc = selectors.allocation_of_member(request.user, reference)
        data = serializers.ChangeRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cr = change_request_submit(actor=request.user, allocation=alloc, kind=data.validated_data["kind"],
                                   payload=data.payload(), justification=data.validated_data["justification"])
        return Response(serializers.ChangeRequestSerializer(cr).data, status=status.HTTP_201_CREATED)


class ChangeRequestWithdrawApi(APIView):
    @extend_schema(tags=ALLOCS, summary="Withdraw a change request the managers have not decided yet",
                   description="Withdrawing one that is already withdrawn changes nothing.", request=None,
                   responses=responses({200: serializers.ChangeRequestSerializer}, 404, 409))
    def post(self, request, reference, pk):
        alloc = selectors.allocation_of_member(request.user, reference)
        cr = selectors.change_request_of_allocation(alloc, pk)
        cr = services.change_request_withdraw(actor=request.user, change_request=cr)
        return Response(serializers.ChangeRequestSerializer(cr).data)


ChangeRequestsApi = combine("ChangeRequestsApi", ChangeRequestListApi, ChangeRequestSubmitApi)


class ManagerAllocationListApi(ManagerApi, ListSpecMixin, ListAPIView):
    serializer_class = serializers.AllocationSerializer
    list_spec = ALLOCATION_LIST

    def get_queryset(self):
        return with_provisioning(self.list_queryset())

    @extend_schema(tags=COMMITTEE, summary="Every allocation, with quotas, provisioning and usage",
                   description="Filtered, searched and sorted with the parameters of /staff/allocations/.",
                   parameters=list_parameters(ALLOCATION_LIST),
                   responses=responses({200: serializers.AllocationSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def allocation_response(reference: str, code: int = status.HTTP_200_OK) -> Response:
    alloc = selectors.allocation_for_manager(reference)  # 404 when unknown
    return allocation_detail_response(alloc.pk, code)


def allocation_detail_response(pk: int, code: int = status.HTTP_200_OK) -> Response:
    alloc = with_provisioning(selectors.allocation_overview()).get(pk=pk)
    alloc.conditions_list = allocation_conditions(alloc)
    return Response(AllocationDetailSerializer(alloc).data, status=code)


class ManagerAllocationDetailApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="One allocation",
                   responses=responses({200: AllocationDetailSerializer}, 404))
    def get(self, request, reference):
        return allocation_response(reference)


def change_allocation_status(request, reference: str, service) -> Response:
    """Fetch as a manager, validate the reason's shape, call the one service; the service checks the
    workflow table (409), the role and the reason (400), and writes the audit event."""
    alloc = selectors.allocation_for_manager(reference)
    data = validated(serializers.AllocationStatusChangeSerializer, request)
    service(actor=request.user, allocation=alloc, reason=data["reason"])
    return allocation_detail_response(alloc.pk)


def status_change_schema(summary: str, description: str):
    return extend_schema(tags=COMMITTEE, summary=summary, description=description,
                         request=serializers.AllocationStatusChangeSerializer,
                         responses=responses({200: AllocationDetailSerializer}, 400, 404, 409))


class AllocationSuspendApi(ManagerApi):
    @status_change_schema("Suspend an active allocation (reason required)",
                          "Jobs are blocked on the clusters within minutes and the organisation is told why. "
                          "Suspending a suspended allocation changes nothing.")
    def post(self, request, reference):
        return change_allocation_status(request, reference, services.allocation_suspend)


class AllocationResumeApi(ManagerApi):
    @status_change_schema("Resume a suspended allocation",
                          "Jobs may run again within minutes. Resuming an active allocation changes nothing.")
    def post(self, request, reference):
        return change_allocation_status(request, reference, services.allocation_resume)


class AllocationRevokeApi(ManagerApi):
    @status_change_schema("Revoke an allocation for good (reason required)",
                          "The allocation ends now and the organisation is told why. Revoking a revoked "
                          "allocation changes nothing.")
    def post(self, request, reference):
        return change_allocation_status(request, reference, services.allocation_revoke)


class ManagerChangeRequestListApi(ManagerApi, ListSpecMixin, ListAPIView):
    serializer_class = serializers.ChangeRequestSerializer
    list_spec = CHANGE_REQUEST_LIST

    def get_queryset(self):
        return self.list_queryset()

    @extend_schema(tags=COMMITTEE, summary="Change requests (filter status=submitted for the open ones)",
                   description="Filtered, searched and sorted with the parameters of /staff/change-requests/ "
                               "(whose address without parameters lists the open ones, status=submitted).",
                   parameters=list_parameters(CHANGE_REQUEST_LIST),
                   responses=responses({200: serializers.ChangeRequestSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ChangeDecisionApi(ManagerApi):
    @extend_schema(
        tags=COMMITTEE,
        summary="Approve or reject a change request",
        request=serializers.ChangeDecisionSerializer,
        responses=responses({200: serializers.ChangeRequestSerializer}, 400, 404, 409),
    )
    def post(self, request, pk):
        cr = selectors.change_request_for_manager(pk)
        data = validated(serializers.ChangeDecisionSerializer, request)
        data["split"] = serializers.split_by_site_id(data["split"])
        cr = services.change_request_decide(actor=request.user, change_request=cr, **data)
        return Response(serializers.ChangeRequestSerializer(cr).data)


# ------------------------------------------------------------------------------------ capacity

class CapacityApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Capacity per site and quarter of one year: committed, used, free",
                   description="The figures of the capacity page (/staff/capacity/). At most four quarters a year, "
                               "one row per site: not paginated.",
                   parameters=[serializers.CapacityQuerySerializer],
                   responses=responses({200: serializers.CapacitySerializer}, 400))
    def get(self, request):
        query = serializers.CapacityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        return Response(serializers.CapacitySerializer({
            "year": year, "years": selectors.capacity_years(),
            "quarters": selectors.capacity_by_quarter(year=year)}).data)
