"""Organisations and memberships. Views fetch through a selector and call one service."""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import privacy, selectors, services
from accounts.models import Invitation, Membership, MembershipRole, Organisation, OrganisationType
from accounts.permissions import is_owner
from portal.api.schema import LIST_ERRORS, responses
from portal.api.views import combine, validated

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
        data = validated(s.OrganisationCreateSerializer, request)
        org = services.organisation_create(actor=request.user, data=data)
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


class OrganisationUpdateApi(APIView):
    @extend_schema(tags=TAG, summary="Change one of the caller's organisations (owners only)",
                   description="Send only the fields that change. The same rules as registration apply "
                               "(the VAT or enterprise number is checked and normalised); every change is "
                               "audited, and a request that changes nothing writes nothing.",
                   request=s.OrganisationUpdateSerializer,
                   responses=responses({200: s.OrganisationSerializer}, 400, 404))
    def patch(self, request, pk):
        org = selectors.organisation_for_member(request.user, pk)
        data = validated(s.OrganisationUpdateSerializer, request, partial=True)
        services.organisation_update(actor=request.user, organisation=org, data=data)
        return Response(s.OrganisationSerializer(selectors.organisation_with_role(request.user, pk)).data)


OrganisationApi = combine("OrganisationApi", OrganisationDetailApi, OrganisationUpdateApi)


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


class MemberRoleApi(APIView):
    @extend_schema(tags=TAG, summary="Change a member's role (owners only)",
                   description="An organisation keeps at least one owner.",
                   request=s.MemberRoleSerializer, responses=responses({200: s.MemberSerializer}, 400, 404))
    def patch(self, request, pk, membership_pk):
        org = selectors.organisation_for_member(request.user, pk)
        membership = selectors.membership_in_organisation(org, membership_pk)
        data = validated(s.MemberRoleSerializer, request)
        membership = services.membership_set_role(actor=request.user, membership=membership,
                                                  role=data["role"])
        return Response(s.MemberSerializer(membership).data)


class MemberRemoveApi(APIView):
    @extend_schema(tags=TAG, summary="Remove a member (owners), or leave the organisation (any member)",
                   description="An organisation keeps at least one owner.",
                   responses=responses({204: None}, 400, 404))
    def delete(self, request, pk, membership_pk):
        org = selectors.organisation_for_member(request.user, pk)
        membership = selectors.membership_in_organisation(org, membership_pk)
        services.membership_remove(actor=request.user, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


MemberApi = combine("MemberApi", MemberRoleApi, MemberRemoveApi)


class InvitationListApi(ListAPIView):
    queryset = Invitation.objects.none()
    serializer_class = s.InvitationSerializer
    ordering_fields = ["created_at", "expires_at", "email"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        org = selectors.organisation_for_member(self.request.user, self.kwargs["pk"])
        if not is_owner(self.request.user, org):  # the page shows open invitations to owners only
            raise PermissionDenied(_("Only an owner of the organisation can see its invitations."))
        return selectors.organisation_open_invitations(org)

    @extend_schema(tags=TAG, summary="Open invitations of one of the caller's organisations (owners only)",
                   responses=responses({200: s.InvitationSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvitationCreateApi(APIView):
    @extend_schema(tags=TAG, summary="Invite someone by e-mail (owners only)",
                   description="The invitation link is e-mailed to the person; it is never returned here.",
                   request=s.InvitationCreateSerializer, responses=responses({201: s.InvitationSerializer}, 400, 404))
    def post(self, request, pk):
        org = selectors.organisation_for_member(request.user, pk)
        data = validated(s.InvitationCreateSerializer, request)
        invitation, _token = services.invitation_create(actor=request.user, organisation=org, **data)
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


InvitationsApi = combine("InvitationsApi", InvitationListApi, InvitationCreateApi)


class InvitationRevokeApi(APIView):
    @extend_schema(tags=TAG, summary="Revoke an invitation (owners only)",
                   description="Its link stops working. Revoking a revoked or accepted invitation changes nothing.",
                   request=None, responses=responses({200: s.InvitationSerializer}, 404))
    def post(self, request, pk, invitation_pk):
        org = selectors.organisation_for_member(request.user, pk)
        invitation = selectors.invitation_in_organisation(org, invitation_pk)
        invitation = services.invitation_revoke(actor=request.user, invitation=invitation)
        return Response(s.InvitationSerializer(invitation).data)


class InvitationAcceptApi(APIView):
    @extend_schema(tags=TAG, summary="Accept an invitation sent to the caller's e-mail address",
                   description="The token is the last part of the invitation link's path. It is a credential: "
                               "send it in the body (never in a URL), it is never returned nor logged.",
                   request=s.InvitationAcceptSerializer, responses=responses({200: s.OrganisationSerializer}, 400))
    def post(self, request):
        data = validated(s.InvitationAcceptSerializer, request)
        membership = services.invitation_accept(actor=request.user, token=data["token"])
        return Response(s.OrganisationSerializer(
            selectors.organisation_with_role(request.user, membership.organisation_id)).data)


class MeApi(APIView):
    @extend_schema(tags=["me"], summary="Who the caller is: roles and, with a token, its scopes",
                   responses=responses({200: s.MeSerializer}))
    def get(self, request):
        return Response(s.MeSerializer(request.user, context={"request": request}).data)


class PersonalDataExportApi(APIView):
    @extend_schema(tags=["me"], summary="Everything the portal holds about the caller (the My data download)",
                   description="The same JSON document as the download on /me/privacy/: profile, e-mail addresses, "
                               "authenticators, API tokens (never their secrets), memberships, invitations, the "
                               "caller's audit events, and what each part of the portal holds about them (team "
                               "memberships, applications, change requests, reviews written, decisions, ...).",
                   responses=responses({200: OpenApiResponse(OpenApiTypes.OBJECT,
                                                             description="The export, one key per kind of data.")}))
    def get(self, request):
        response = Response(privacy.user_export_data(user=request.user))
        response["Cache-Control"] = "no-store"
        return response
