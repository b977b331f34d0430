"""Organisations and memberships. Views fetch through a selector and call one service."""

from __future__ import annotations

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Membership, MembershipRole, Organisation, OrganisationType
from portal.api.schema import LIST_ERRORS, responses
from portal.api.views import combine

from . import serializers as s

TAG = ["organisations"]


class OrganisationFilter(django_filters.FilterSet):
    org_type = django_filters.ChoiceFilter(choices=OrganisationType.choices)
    q = django_filters.CharFilter(field_name="legal_name", lookup_expr="icontains", max_length=100)

    class Meta:
        model = Organisation
        fields = ["org_type", "country"]


class OrganisationListApi(ListAPIView):
    queryset = Organisation.objects.none()  # for the schema; get_queryset scopes
    serializer_class = s.OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["legal_name", "created_at"]
    ordering = ["legal_name", "pk"]

    def get_queryset(self):
        return selectors.organisations_with_role(self.request.user)

    @extend_schema(tags=TAG, summary="The caller's organisations",
                   responses=responses({200: s.OrganisationSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrganisationCreateApi(APIView):
    @extend_schema(tags=TAG, summary="Register an organisation (the caller becomes its owner)",
                   request=s.OrganisationCreateSerializer,
                   responses=responses({201: s.OrganisationSerializer}, 400))
    def post(self, request):
        data = s.OrganisationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = services.organisation_create(actor=request.user, data=data.validated_data)
        org.my_role = MembershipRole.OWNER
        return Response(s.OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)


OrganisationsApi = combine("OrganisationsApi", OrganisationListApi, OrganisationCreateApi)


class OrganisationDetailApi(APIView):
    @extend_schema(tags=TAG, summary="One of the caller's organisations",
                   responses=responses({200: s.OrganisationSerializer}, 404))
    def get(self, request, pk):
        org = selectors.organisations_with_role(request.user).filter(pk=pk).first()
        if org is None:
            raise Http404
        return Response(s.OrganisationSerializer(org).data)


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=MembershipRole.choices)

    class Meta:
        model = Membership
        fields = ["role"]


class MemberListApi(ListAPIView):
    queryset = Membership.objects.none()
    serializer_class = s.MemberSerializer
    filterset_class = MemberFilter
    ordering_fields = ["joined_at", "role", "user__email"]
    ordering = ["user__email", "pk"]

    def get_queryset(self):
        org = selectors.organisation_for_member(self.request.user, self.kwargs["pk"])
        return selectors.organisation_members(org)

    @extend_schema(tags=TAG, summary="Members of one of the caller's organisations",
                   responses=responses({200: s.MemberSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvitationCreateApi(APIView):
    @extend_schema(tags=TAG, summary="Invite someone by e-mail (owners only)",
                   description="The invitation link is e-mailed to the person; it is never returned here.",
                   request=s.InvitationCreateSerializer, responses=responses({201: s.InvitationSerializer}, 400, 404))
    def post(self, request, pk):
        org = selectors.organisation_for_member(request.user, pk)
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(actor=request.user, organisation=org, **data.validated_data)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class MeApi(APIView):
    @extend_schema(tags=["me"], summary="Who the caller is: roles and, with a token, its scopes",
                   responses=responses({200: s.MeSerializer}))
    def get(self, request):
        return Response(s.MeSerializer(request.user, context={"request": request}).data)
