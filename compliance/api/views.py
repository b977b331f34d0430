"""Ethics officers' queue and decisions, and the audit trail (ethics officers and administrators)."""

from __future__ import annotations

import django_filters
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.permissions import IsAuditReader, IsEthicsOfficer, StaffMFA
from allocations.applications.api.serializers import attachment_context
from compliance import selectors, services
from compliance.models import EthicsCondition, EthicsReview, EthicsStatus
from portal import audit
from portal.api.filters import BoundedIsoDateTimeFilter
from portal.api.pagination import Pagination
from portal.api.schema import LIST_ERRORS, responses
from portal.api.views import validated
from portal.models import AuditEvent

from . import serializers as s

BASE = list(api_settings.DEFAULT_PERMISSION_CLASSES)
ETHICS = ["staff: ethics"]
AUDIT = ["staff: audit"]


def ethics_reviews():
    return (EthicsReview.objects.select_related("application__organisation", "application__risk_assessment")
            .prefetch_related(Prefetch("conditions", queryset=EthicsCondition.objects.order_by("pk"))))


class EthicsReviewFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EthicsStatus.choices)

    class Meta:
        model = EthicsReview
        fields = ["status"]


class EthicsReviewListApi(ListAPIView):
    permission_classes = [*BASE, StaffMFA, IsEthicsOfficer]
    serializer_class = s.EthicsReviewSerializer
    filterset_class = EthicsReviewFilter
    ordering_fields = ["created_at", "decided_at"]
    ordering = ["created_at", "pk"]

    def get_queryset(self):
        return ethics_reviews()

    @extend_schema(tags=ETHICS, summary="Ethics reviews (status=pending: the queue)",
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
    object_type = django_filters.CharFilter(max_length=80, help_text="e.g. allocations.application")
    object_id = django_filters.CharFilter(max_length=64)
    action = django_filters.CharFilter(max_length=80, help_text="Exact action, e.g. application.status_changed")
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith", max_length=80,
                                              help_text="e.g. application. for every application event")
    actor = django_filters.NumberFilter(field_name="actor_id", min_value=1, max_value=10**12)
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["object_type", "object_id", "action"]


class AuditTrailPaginator(Paginator):
    """The unfiltered trail is counted from the ends of its `seq` index; a filtered list is counted."""

    @cached_property
    def count(self) -> int:
        if not self.object_list.query.where:
            return audit.event_count()
        return super().count


class AuditTrailPagination(Pagination):
    django_paginator_class = AuditTrailPaginator


class AuditEventListApi(ListAPIView):
    permission_classes = [*BASE, StaffMFA, IsAuditReader]
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = AuditTrailPagination
    ordering_fields = ["seq", "created_at"]
    ordering = ["-seq"]

    def get_queryset(self):
        return AuditEvent.objects.all()

    @extend_schema(tags=AUDIT, summary="The audit trail (append-only, hash-chained), newest first",
                   responses=responses({200: s.AuditEventSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
