"""Staff endpoints under /api/v1/staff/: reviewers (their own assignments) and the access committee
(allocation managers). Every class requires a second factor (StaffMFA) and the role."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.permissions import IsAllocationManager, IsReviewer, StaffMFA
from accounts.models import User
from allocations.models import ReviewAssignment
from allocations.permissions import can_read_assignment_content
from allocations.services import decisions, lifecycle, reviews
from allocations.staff import selectors as staff_selectors
from compliance.services import approval_blockers
from portal.api.errors import ServiceValidationError
from portal.api.schema import LIST_ERRORS, responses

from . import serializers as s
from .filters import AllocationFilter, ApplicationFilter, AssignmentFilter, ChangeRequestFilter
from .selectors import assignments_for_manager, change_requests_for_manager, with_provisioning
from .views import AllocationDetailSerializer

REVIEWS = ["staff: reviews"]
COMMITTEE = ["staff: access committee"]
BASE = list(api_settings.DEFAULT_PERMISSION_CLASSES)


class ReviewerApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsReviewer]


class ManagerApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsAllocationManager]


# ------------------------------------------------------------------------------------ reviewers

class AssignmentListApi(ReviewerApi, ListAPIView):
    queryset = ReviewAssignment.objects.none()  # for the schema; get_queryset scopes
    serializer_class = s.AssignmentSerializer
    filterset_class = AssignmentFilter
    ordering_fields = ["due_date", "assigned_at"]
    ordering = ["due_date", "pk"]

    def get_queryset(self):
        return staff_selectors.assignments_of(self.request.user)

    @extend_schema(tags=REVIEWS, summary="The caller's review assignments",
                   responses=responses({200: s.AssignmentSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def assignment_response(a, code: int = status.HTTP_200_OK) -> Response:
    content = None
    if can_read_assignment_content(a):
        app = a.application
        extra = staff_selectors.application_content(app)
        assessment = extra["assessment"]
        content = {
            **{f: getattr(app, f) for f in ("title", "abstract", "public_summary", "sector", "start_date",
                                           "duration_months", "model_activity", "parameter_count",
                                           "training_tokens")},
            "access_mode": app.access_mode.code if app.access_mode else None,
            "resources": s.ResourceSerializer(extra["resources"], many=True).data,
            "team_size": len(extra["team"]),
            "ai_act_classification": assessment.classification if assessment else None,
            "rubric": (app.access_mode.rubric if app.access_mode else []) or [],
        }
    return Response(s.AssignmentDetailSerializer(a, context={"content": content}).data, status=code)


class AssignmentDetailApi(ReviewerApi):
    @extend_schema(tags=REVIEWS, summary="One assignment: the content once no conflict is declared",
                   responses=responses({200: s.AssignmentDetailSerializer}, 404))
    def get(self, request, pk):
        return assignment_response(staff_selectors.assignment_for_reviewer(request.user, pk))


class DeclarationApi(ReviewerApi):
    @extend_schema(tags=REVIEWS, summary="Declare a conflict of interest, or that there is none",
                   request=s.DeclarationSerializer, responses=responses({200: s.AssignmentDetailSerializer}, 400, 404))
    def post(self, request, pk):
        a = staff_selectors.assignment_for_reviewer(request.user, pk)
        data = s.DeclarationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reviews.reviewer_declare(actor=request.user, assignment=a, **data.validated_data)
        return assignment_response(staff_selectors.assignment_for_reviewer(request.user, pk))


class ReviewSubmitApi(ReviewerApi):
    @extend_schema(tags=REVIEWS, summary="Submit the review (scores against the mode's rubric)",
                   request=s.ReviewSubmitSerializer,
                   responses=responses({201: s.AssignmentDetailSerializer}, 400, 404))
    def post(self, request, pk):
        a = staff_selectors.assignment_for_reviewer(request.user, pk)
        data = s.ReviewSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reviews.review_submit(actor=request.user, assignment=a, **data.validated_data)
        return assignment_response(staff_selectors.assignment_for_reviewer(request.user, pk), status.HTTP_201_CREATED)


# ------------------------------------------------------------------------------------ committee

class ManagerApplicationListApi(ManagerApi, ListAPIView):
    serializer_class = s.ApplicationListSerializer
    filterset_class = ApplicationFilter
    ordering_fields = ["submitted_at", "decision_due", "reference", "created_at"]
    ordering = ["-submitted_at", "-pk"]

    def get_queryset(self):
        return staff_selectors.application_overview()

    @extend_schema(tags=COMMITTEE, summary="Every application but drafts",
                   responses=responses({200: s.ApplicationListSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def manager_application_response(reference: str, code: int = status.HTTP_200_OK) -> Response:
    app = staff_selectors.application_for_manager(reference)
    context = {"assignments": assignments_for_manager(app), "blockers": approval_blockers(app)}
    return Response(s.ManagerApplicationSerializer(app, context=context).data, status=code)


class ManagerApplicationDetailApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="One application with its assignments and approval blockers",
                   responses=responses({200: s.ManagerApplicationSerializer}, 404))
    def get(self, request, reference):
        return manager_application_response(reference)


class EligibilityApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Eligibility check: eligible -> in review; not eligible -> rejected",
                   request=s.EligibilitySerializer,
                   responses=responses({200: s.ManagerApplicationSerializer}, 400, 404, 409))
    def post(self, request, reference):
        app = staff_selectors.application_for_manager(reference)
        data = s.EligibilitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reviews.application_check_eligibility(actor=request.user, application=app, **data.validated_data)
        return manager_application_response(reference)


class AssignReviewerApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Assign a reviewer (pools and conflict-of-interest checks apply)",
                   request=s.AssignReviewerSerializer,
                   responses=responses({201: s.ManagerApplicationSerializer}, 400, 404))
    def post(self, request, reference):
        app = staff_selectors.application_for_manager(reference)
        data = s.AssignReviewerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reviewer = User.objects.filter(pk=data.validated_data["reviewer"], is_active=True).first()
        if reviewer is None:
            raise ServiceValidationError({"reviewer": [_("This person is not a reviewer.")]})
        reviews.reviewer_assign(actor=request.user, application=app, reviewer=reviewer,
                                kind=data.validated_data["kind"])
        return manager_application_response(reference, status.HTTP_201_CREATED)


class ApproveApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Approve with per-site quotas: creates the allocation",
                   request=s.ApproveSerializer, responses=responses({201: AllocationDetailSerializer}, 400, 404, 409))
    def post(self, request, reference):
        app = staff_selectors.application_for_manager(reference)
        data = s.ApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quotas = {row["site"].pk: {k: row[k] for k in ("gpu_hours", "cpu_core_hours", "storage_tb")}
                  for row in data.validated_data["quotas"]}
        allocation = decisions.application_approve(actor=request.user, application=app, quotas=quotas,
                                                   reasons=data.validated_data["reasons"])
        return allocation_response(allocation.reference, status.HTTP_201_CREATED)


class RejectApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Reject, with reasons for the applicant", request=s.RejectSerializer,
                   responses=responses({200: s.ManagerApplicationSerializer}, 400, 404, 409))
    def post(self, request, reference):
        app = staff_selectors.application_for_manager(reference)
        data = s.RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decisions.application_reject(actor=request.user, application=app, reasons=data.validated_data["reasons"])
        return manager_application_response(reference)


class RevisionApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Ask the applicant for a revision", request=s.RevisionSerializer,
                   responses=responses({200: s.ManagerApplicationSerializer}, 400, 404, 409))
    def post(self, request, reference):
        app = staff_selectors.application_for_manager(reference)
        data = s.RevisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decisions.application_request_revision(actor=request.user, application=app,
                                               comments=data.validated_data["comments"])
        return manager_application_response(reference)


class ManagerAllocationListApi(ManagerApi, ListAPIView):
    serializer_class = s.AllocationSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["start_date", "end_date", "created_at", "reference"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        return with_provisioning(staff_selectors.allocation_overview())

    @extend_schema(tags=COMMITTEE, summary="Every allocation, with quotas, provisioning and usage",
                   responses=responses({200: s.AllocationSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def allocation_response(reference: str, code: int = status.HTTP_200_OK) -> Response:
    alloc = staff_selectors.allocation_for_manager(reference)  # 404 when unknown
    alloc = with_provisioning(staff_selectors.allocation_overview()).get(pk=alloc.pk)
    from allocations.selectors_lifecycle import allocation_conditions

    alloc.conditions_list = allocation_conditions(alloc)
    return Response(AllocationDetailSerializer(alloc).data, status=code)


class ManagerAllocationDetailApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="One allocation",
                   responses=responses({200: AllocationDetailSerializer}, 404))
    def get(self, request, reference):
        return allocation_response(reference)


class ManagerChangeRequestListApi(ManagerApi, ListAPIView):
    serializer_class = s.ChangeRequestSerializer
    filterset_class = ChangeRequestFilter
    ordering_fields = ["requested_at", "decided_at"]
    ordering = ["requested_at", "pk"]

    def get_queryset(self):
        return change_requests_for_manager()

    @extend_schema(tags=COMMITTEE, summary="Change requests (filter status=submitted for the open ones)",
                   responses=responses({200: s.ChangeRequestSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ChangeDecisionApi(ManagerApi):
    @extend_schema(tags=COMMITTEE, summary="Approve or reject a change request", request=s.ChangeDecisionSerializer,
                   responses=responses({200: s.ChangeRequestSerializer}, 400, 404))
    def post(self, request, pk):
        cr = staff_selectors.change_request_for_manager(pk)
        data = s.ChangeDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cr = lifecycle.change_request_decide(actor=request.user, change_request=cr, **data.validated_data)
        return Response(s.ChangeRequestSerializer(cr).data)
