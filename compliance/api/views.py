"""Ethics officers' queue and decisions, and the audit trail (ethics officers and administrators)."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.permissions import IsAuditReader, IsEthicsOfficer, StaffMFA
from allocations.applications.api.serializers import attachment_context
from compliance import selectors, services
from compliance.lists import AUDIT_LIST, ETHICS_LIST
from compliance.models import EthicsCondition, EthicsReview
from portal.api.filters import BoundedIsoDateTimeFilter
from portal.api.pagination import Pagination
from portal.api.schema import LIST_ERRORS, responses
from portal.api.views import ListSpecMixin, list_parameters, validated
from portal.models import AuditEvent
from portal.paging import AuditTrailPaginator

from . import serializers as s

BASE = list(api_settings.DEFAULT_PERMISSION_CLASSES)
ETHICS = ["staff: ethics"]
AUDIT = ["staff: audit"]


CONDITIONS = Prefetch("conditions", queryset=EthicsCondition.objects.order_by("pk"))


def ethics_reviews():
    return (EthicsReview.objects.select_related("application__organisation", "application__risk_assessment")
            .prefetch_related(CONDITIONS))


class EthicsReviewListApi(ListSpecMixin, ListAPIView):
    permission_classes = [*BASE, StaffMFA, IsEthicsOfficer]
    serializer_class = s.EthicsReviewSerializer
    list_spec = ETHICS_LIST

    def get_queryset(self):
        return self.list_queryset().prefetch_related(CONDITIONS)

    @extend_schema(tags=ETHICS, summary="Ethics reviews (status=pending: the queue)",
                   description="Filtered, searched and sorted with the parameters of /staff/ethics/ (whose "
                               "address without parameters is the queue, status=pending).",
                   parameters=list_parameters(ETHICS_LIST),
                   responses=responses({200: s.EthicsReviewSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EthicsReviewDetailApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsEthicsOfficer]

    @extend_schema(tags=ETHICS, summary="One ethics review, with the application's ethics answers and documents",
                   description="As the ethics review page: each document's `download_url` is given while the "
                               "officers may read it (the review pending, or decided by an officer), else null.",
                   responses=responses({200: s.EthicsReviewDetailSerializer}, 404))
    def get(self, request, reference):
        app = selectors.application_for_ethics(reference)
        review = ethics_reviews().prefetch_related("application__attachments").get(application=app)
        return Response(s.EthicsReviewDetailSerializer(review, context=attachment_context(request, app)).data)


class EthicsDecisionApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsEthicsOfficer]

    @extend_schema(tags=ETHICS, summary="Clear, clear with conditions, or refuse",
                   request=s.EthicsDecisionSerializer,
                   responses=responses({200: s.EthicsReviewSerializer}, 400, 404, 409))
    def post(self, request, reference):
        app = selectors.application_for_ethics(reference)
        data = validated(s.EthicsDecisionSerializer, request)
        services.ethics_decide(actor=request.user, application=app, **data)
        return Response(s.EthicsReviewSerializer(ethics_reviews().get(application=app)).data)


class EthicsWorkspaceApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsEthicsOfficer]

    @extend_schema(tags=ETHICS, summary="The ethics workspace's counts: queues, risk classes, sectors",
                   responses=responses({200: s.EthicsWorkspaceSerializer}))
    def get(self, request):
        return Response(s.EthicsWorkspaceSerializer({
            "pending": selectors.ethics_pending().count(),
            "conditions_awaiting_acknowledgement": selectors.conditions_awaiting_acknowledgement().count(),
            "by_risk_class": selectors.counts_by_risk_class(),
            "by_sector": selectors.counts_by_sector()}).data)


class AuditEventFilter(django_filters.FilterSet):
    """The trail's parameters for scripts, beside the list's (action, actor, date_from, date_to, q, sort)."""

    object_type = django_filters.CharFilter(max_length=80, help_text="e.g. allocations.application")
    object_id = django_filters.CharFilter(max_length=64)
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith", max_length=80,
                                              help_text="e.g. application. for every application event")
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id"]


class AuditTrailPagination(Pagination):
    django_paginator_class = AuditTrailPaginator


class AuditEventListApi(ListSpecMixin, ListAPIView):
    permission_classes = [*BASE, StaffMFA, IsAuditReader]
    serializer_class = s.AuditEventSerializer
    list_spec = AUDIT_LIST
    filter_backends = [DjangoFilterBackend]  # the script parameters, on top of the list's
    filterset_class = AuditEventFilter
    pagination_class = AuditTrailPagination

    def get_queryset(self):
        return self.list_queryset()

    @extend_schema(tags=AUDIT, summary="The audit trail (append-only, hash-chained), newest first",
                   description="Filtered, searched and sorted with the parameters of /staff/audit/.",
                   parameters=list_parameters(AUDIT_LIST),
                   responses=responses({200: s.AuditEventSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
