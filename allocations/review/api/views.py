"""Staff endpoints under /api/v1/staff/: reviewers (their own assignments) and the access committee
(allocation managers). Every class requires a second factor (StaffMFA) and the role."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.staff import ManagerApi, ReviewerApi
from accounts.models import User
from allocations.applications.api import serializers as applications_serializers
from allocations.applications.selectors import application_for_member
from allocations.grants.api.serializers import split_by_site_id
from allocations.grants.api.views import AllocationDetailSerializer, allocation_response
from allocations.review import selectors, services
from allocations.review.api import serializers
from allocations.review.lists import APPLICATION_LIST, ASSIGNMENT_LIST
from allocations.review.models import ReviewAssignment
from allocations.review.permissions import can_read_assignment_content
from allocations.review.selectors import assignments_for_manager
from allocations.review.services import applicant_reply
from compliance.services import approval_blockers
from portal.api.errors import ServiceValidationError
from portal.api.schema import APPS, COMMITTEE, LIST_ERRORS, REVIEWS, responses
from portal.api.views import ListSpecMixin, list_parameters, validated


def feedback_response(user, reference: str, code: int = status.HTTP_200_OK) -> Response:
    app = application_for_member(user, reference)
    return Response(serializers.FeedbackSerializer(selectors.application_feedback(app)).data, status=code)


class FeedbackApi(APIView):
    @extend_schema(tags=APPS, summary="The reviewers' comments (anonymous), the decisions and the reply",
                   responses=responses({200: serializers.FeedbackSerializer}, 404))
    def get(self, request, reference):
        return feedback_response(request.user, reference)


class ReplyApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Reply to the reviews before the decision (modes with a right to reply)",
        request=serializers.ReplySerializer,
        responses=responses({201: serializers.FeedbackSerializer}, 400, 404),
    )
    def post(self, request, reference):
        app = application_for_member(request.user, reference)
        data = validated(serializers.ReplySerializer, request)
        applicant_reply(actor=request.user, application=app, text=data["text"])
        return feedback_response(request.user, reference, status.HTTP_201_CREATED)


# ------------------------------------------------------------------------------------ reviewers


class AssignmentListApi(ReviewerApi, ListSpecMixin, ListAPIView):
    queryset = ReviewAssignment.objects.none()  # for the schema; get_queryset scopes
    serializer_class = serializers.AssignmentSerializer
    list_spec = ASSIGNMENT_LIST

    def get_queryset(self):
        return self.list_queryset(reviewer=self.request.user)

    @extend_schema(
        tags=REVIEWS,
        summary="The caller's review assignments",
        description="Filtered, searched and sorted with the parameters of /staff/reviews/. The search reads "
                    "the title only of the applications whose content the caller may read.",
        parameters=list_parameters(ASSIGNMENT_LIST),
        responses=responses({200: serializers.AssignmentSerializer(many=True)}, *LIST_ERRORS),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def assignment_response(request, a, code: int = status.HTTP_200_OK) -> Response:
    content = None
    if can_read_assignment_content(a):
        app = a.application
        extra = selectors.application_content(app, viewer=request.user)
        assessment = extra["assessment"]
        content = {
            **{
                f: getattr(app, f)
                for f in (
                    "title",
                    "abstract",
                    "public_summary",
                    "sector",
                    "start_date",
                    "duration_months",
                    "model_activity",
                    "parameter_count",
                    "training_tokens",
                )
            },
            "access_mode": app.access_mode.code if app.access_mode else None,
            "resources": applications_serializers.ResourceSerializer(extra["resources"], many=True).data,
            "team_size": len(extra["team"]),
            "ai_act_classification": assessment.classification if assessment else None,
            "ethics_issues": app.ethics_issues or {},
            "attachments": applications_serializers.AttachmentSerializer(
                extra["attachments"], many=True,
                context={"request": request, "can_read_attachments": extra["can_read_attachments"]}).data,
            "rubric": (app.access_mode.rubric if app.access_mode else []) or [],
        }
    return Response(serializers.AssignmentDetailSerializer(a, context={"content": content}).data, status=code)


class AssignmentDetailApi(ReviewerApi):
    @extend_schema(
        tags=REVIEWS,
        summary="One assignment: the content once no conflict is declared",
        responses=responses({200: serializers.AssignmentDetailSerializer}, 404),
    )
    def get(self, request, pk):
        return assignment_response(request, selectors.assignment_for_reviewer(request.user, pk))


def reviewer_action(request, pk: int, serializer_class, service, code: int = status.HTTP_200_OK) -> Response:
    """Fetch the caller's assignment, validate the body and call the one service with its fields; the
    service checks the workflow (409) and the content (400). The assignment is read again to answer."""
    a = selectors.assignment_for_reviewer(request.user, pk)
    service(actor=request.user, assignment=a, **validated(serializer_class, request))
    return assignment_response(request, selectors.assignment_for_reviewer(request.user, pk), code)


class DeclarationApi(ReviewerApi):
    @extend_schema(
        tags=REVIEWS,
        summary="Declare a conflict of interest, or that there is none",
        request=serializers.DeclarationSerializer,
        responses=responses({200: serializers.AssignmentDetailSerializer}, 400, 404, 409),
    )
    def post(self, request, pk):
        return reviewer_action(request, pk, serializers.DeclarationSerializer, services.reviewer_declare)


class ReviewSubmitApi(ReviewerApi):
    @extend_schema(
        tags=REVIEWS,
        summary="Submit the review (scores against the mode's rubric)",
        request=serializers.ReviewSubmitSerializer,
        responses=responses({201: serializers.AssignmentDetailSerializer}, 400, 404, 409),
    )
    def post(self, request, pk):
        return reviewer_action(request, pk, serializers.ReviewSubmitSerializer, services.review_submit,
                               status.HTTP_201_CREATED)


# ------------------------------------------------------------------------------------ committee


class ManagerApplicationListApi(ManagerApi, ListSpecMixin, ListAPIView):
    serializer_class = applications_serializers.ApplicationListSerializer
    list_spec = APPLICATION_LIST

    def get_queryset(self):
        return self.list_queryset()

    @extend_schema(
        tags=COMMITTEE,
        summary="Every application but drafts",
        description="Filtered, searched and sorted with the parameters of /staff/applications/.",
        parameters=list_parameters(APPLICATION_LIST),
        responses=responses({200: applications_serializers.ApplicationListSerializer(many=True)}, *LIST_ERRORS),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def manager_application_response(request, reference: str, code: int = status.HTTP_200_OK) -> Response:
    app = selectors.application_for_manager(reference)
    context = {"assignments": assignments_for_manager(app), "blockers": approval_blockers(app),
               **applications_serializers.attachment_context(request, app)}
    return Response(serializers.ManagerApplicationSerializer(app, context=context).data, status=code)


class ManagerApplicationDetailApi(ManagerApi):
    @extend_schema(
        tags=COMMITTEE,
        summary="One application with its assignments and approval blockers",
        responses=responses({200: serializers.ManagerApplicationSerializer}, 404),
    )
    def get(self, request, reference):
        return manager_application_response(request, reference)


def committee_action(request, reference: str, serializer_class, service) -> Response:
    """Fetch as a manager, validate the body and call the one service with its fields; the service
    checks the workflow table (409), the role and the content (400), and writes the audit event."""
    app = selectors.application_for_manager(reference)
    service(actor=request.user, application=app, **validated(serializer_class, request))
    return manager_application_response(request, reference)


def committee_schema(summary: str, serializer_class):
    return extend_schema(tags=COMMITTEE, summary=summary, request=serializer_class,
                         responses=responses({200: serializers.ManagerApplicationSerializer}, 400, 404, 409))


class EligibilityApi(ManagerApi):
    @committee_schema("Eligibility check: eligible -> in review; not eligible -> rejected",
                      serializers.EligibilitySerializer)
    def post(self, request, reference):
        return committee_action(request, reference, serializers.EligibilitySerializer,
                                services.application_check_eligibility)


class AssignReviewerApi(ManagerApi):
    @extend_schema(
        tags=COMMITTEE,
        summary="Assign a reviewer (pools and conflict-of-interest checks apply)",
        request=serializers.AssignReviewerSerializer,
        responses=responses({201: serializers.ManagerApplicationSerializer}, 400, 404, 409),
    )
    def post(self, request, reference):
        app = selectors.application_for_manager(reference)
        data = validated(serializers.AssignReviewerSerializer, request)
        reviewer = User.objects.filter(pk=data["reviewer"], is_active=True).first()
        if reviewer is None:
            raise ServiceValidationError({"reviewer": [_("This person is not a reviewer.")]})
        services.reviewer_assign(
            actor=request.user, application=app, reviewer=reviewer, kind=data["kind"]
        )
        return manager_application_response(request, reference, status.HTTP_201_CREATED)


class CandidatesApi(ManagerApi):
    @extend_schema(
        tags=COMMITTEE,
        summary="The reviewers who could take one kind of review: pools, likely conflicts, open reviews",
        description="The assignment panel of /staff/applications/{ref}/reviewers/: every member of the eligible "
                    "pools, the assignable ones first (no likely conflict, a conflict declared on this application "
                    "included; not assigned; fewer open reviews than the limit), the least loaded first. Not "
                    "paginated: one entry per pool member.",
        parameters=[serializers.CandidateQuerySerializer],
        responses=responses({200: serializers.CandidateSerializer(many=True)}, 400, 404),
    )
    def get(self, request, reference):
        app = selectors.application_for_manager(reference)
        query = serializers.CandidateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        candidates = selectors.reviewer_candidates(app, query.validated_data["kind"])
        return Response(serializers.CandidateSerializer(candidates, many=True).data)


class ApproveApi(ManagerApi):
    @extend_schema(
        tags=COMMITTEE,
        summary="Approve with per-site quotas: creates the allocation",
        request=serializers.ApproveSerializer,
        responses=responses({201: AllocationDetailSerializer}, 400, 404, 409),
    )
    def post(self, request, reference):
        app = selectors.application_for_manager(reference)
        data = validated(serializers.ApproveSerializer, request)
        quotas = {
            row["site"].pk: {k: row[k] for k in ("gpu_hours", "cpu_core_hours", "storage_tb")}
            for row in data["quotas"]
        }
        allocation = services.application_approve(
            actor=request.user, application=app, quotas=quotas, reasons=data["reasons"],
            aid_confirmed=data["aid_confirmed"], split=split_by_site_id(data["split"]),
        )
        return allocation_response(allocation.reference, status.HTTP_201_CREATED)


class RejectApi(ManagerApi):
    @committee_schema("Reject, with reasons for the applicant", serializers.RejectSerializer)
    def post(self, request, reference):
        return committee_action(request, reference, serializers.RejectSerializer, services.application_reject)


class RevisionApi(ManagerApi):
    @committee_schema("Ask the applicant for a revision", serializers.RevisionSerializer)
    def post(self, request, reference):
        return committee_action(request, reference, serializers.RevisionSerializer,
                                services.application_request_revision)


# ------------------------------------------------------------------------------------ deadlines
# The deadlines board (/staff/deadlines/) as two paginated lists, from the page's selectors. They are
# lists computed in order (working days need the calendar), so there is no filter or ordering parameter.

class ApplicationsDueApi(ManagerApi, ListAPIView):
    serializer_class = serializers.ApplicationDueSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.applications_due(today=timezone.localdate())

    @extend_schema(tags=COMMITTEE, summary="Decisions overdue or due within one working day (the deadlines board)",
                   responses=responses({200: serializers.ApplicationDueSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AssignmentsOverdueApi(ManagerApi, ListAPIView):
    serializer_class = serializers.AssignmentOverdueSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.assignments_overdue(today=timezone.localdate())

    @extend_schema(tags=COMMITTEE, summary="Reviews past their due date (the deadlines board)",
                   responses=responses({200: serializers.AssignmentOverdueSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
