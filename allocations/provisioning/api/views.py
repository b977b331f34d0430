"""The operator's provisioning endpoints: one class per operation, reads from the selectors, writes
through the same services as the HTML pages at /staff/provisioning/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.api.staff import OperatorApi
from allocations.catalogue.models import Site
from allocations.grants.models import Allocation
from allocations.provisioning import selectors, services
from allocations.provisioning.api import serializers
from allocations.provisioning.models import HandoverTask
from portal.api.schema import LIST_ERRORS, OPS, responses
from portal.api.views import validated


class SiteListApi(OperatorApi, ListAPIView):
    serializer_class = serializers.SiteSyncSerializer
    ordering_fields = ["name", "code"]
    ordering = ["name", "pk"]

    def get_queryset(self):
        return selectors.sites_for_operators()

    @extend_schema(tags=OPS, summary="Sites: allocations per sync state and the last full reconcile",
                   responses=responses({200: serializers.SiteSyncSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(selectors.site_sync(page), many=True).data)


class SiteDriftApi(OperatorApi):
    @extend_schema(tags=OPS, summary="Desired against actual on one site, compared by the planner (one read)",
                   description="The same desired state, read and comparison as a full reconcile: `changes` is "
                               "what a reconcile would do now, `rows` every compared setting.",
                   responses=responses({200: serializers.SiteDriftSerializer}, 404))
    def get(self, request, code):
        site = get_object_or_404(Site, code=code)
        return Response(serializers.SiteDriftSerializer(selectors.site_drift(site)).data)


class SiteReconcileApi(OperatorApi):
    @extend_schema(tags=OPS, summary="Queue a full reconcile of the site",
                   description="The task records its attempt; follow it in the site list (`last_full_reconcile`).",
                   request=None, responses=responses({202: serializers.QueuedSerializer}, 400, 404))
    def post(self, request, code):
        site = get_object_or_404(Site, code=code)
        services.provisioning_reconcile_site(actor=request.user, site=site)
        message = _("A full reconcile of %(site)s was queued.") % {"site": site.name}
        return Response(serializers.QueuedSerializer({"message": message}).data, status=status.HTTP_202_ACCEPTED)


class AllocationRerunApi(OperatorApi):
    @extend_schema(tags=OPS, summary="Queue the provisioning of one allocation again",
                   description="Refused (400) when no quota of the allocation is on an active, directly "
                               "provisioned site.",
                   request=None, responses=responses({202: serializers.QueuedSerializer}, 400, 404))
    def post(self, request, reference):
        allocation = get_object_or_404(Allocation, reference=reference)
        services.provisioning_rerun_allocation(actor=request.user, allocation=allocation)
        message = _("Provisioning of %(ref)s was queued.") % {"ref": allocation.reference}
        return Response(serializers.QueuedSerializer({"message": message}).data, status=status.HTTP_202_ACCEPTED)


class HandoverListApi(OperatorApi, ListAPIView):
    serializer_class = serializers.HandoverTaskSerializer
    ordering_fields = ["created_at"]
    ordering = ["created_at", "pk"]

    def get_queryset(self):
        return selectors.open_handovers()

    @extend_schema(tags=OPS, summary="Open hand-over tasks: what operators must set up by hand on remote sites",
                   responses=responses({200: serializers.HandoverTaskSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class HandoverDoneApi(OperatorApi):
    @extend_schema(tags=OPS, summary="Record a hand-over task as done (idempotent)",
                   request=serializers.HandoverDoneSerializer,
                   responses=responses({200: serializers.HandoverTaskSerializer}, 400, 404))
    def post(self, request, pk):
        task = get_object_or_404(HandoverTask, pk=pk)
        data = validated(serializers.HandoverDoneSerializer, request)
        task = services.handover_done(actor=request.user, task=task, note=data["note"])
        return Response(serializers.HandoverTaskSerializer(task).data)
