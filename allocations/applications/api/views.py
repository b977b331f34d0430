"""The applicant's side: applications, their steps, the AI Act questionnaire, allocations and change
requests. Each class is one operation; it fetches through a scoping selector (404 for objects the
caller may not see) and calls one service. Staff endpoints are in staff_views.py."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import organisation_for_member
from allocations.applications import selectors, services
from allocations.applications.api import serializers
from allocations.applications.api.filters import ApplicationFilter
from allocations.applications.declaration import DECLARATION_VERSION, declaration_statements, declaration_text
from allocations.applications.models import Application
from allocations.catalogue import selectors as catalogue_selectors
from compliance import services as compliance_services
from compliance.ai_act import engine
from portal.api.errors import ServiceValidationError
from portal.api.schema import AI_ACT, APPS, LIST_ERRORS, responses
from portal.api.views import combine, validated


def application_detail_response(request, reference: str, code: int = status.HTTP_200_OK) -> Response:
    app = selectors.application_detail(request.user, reference)
    context = serializers.attachment_context(request, app)
    return Response(serializers.ApplicationDetailSerializer(app, context=context).data, status=code)


# ------------------------------------------------------------------------------------ applications

class ApplicationListApi(ListAPIView):
    queryset = Application.objects.none()  # for the schema; get_queryset scopes
    serializer_class = serializers.ApplicationListSerializer
    filterset_class = ApplicationFilter
    ordering_fields = ["created_at", "updated_at", "submitted_at", "reference", "decision_due"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        return selectors.application_list(self.request.user)

    @extend_schema(tags=APPS,
                   summary="Applications of the caller's organisations (every submitted one for staff with oversight)",
                   responses=responses({200: serializers.ApplicationListSerializer(many=True)}, *LIST_ERRORS))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ApplicationCreateApi(APIView):
    @extend_schema(tags=APPS, summary="Start a draft application for one of the caller's organisations",
                   request=serializers.ApplicationCreateSerializer,
                   responses=responses({201: serializers.ApplicationDetailSerializer}, 400, 404))
    def post(self, request):
        data = validated(serializers.ApplicationCreateSerializer, request)
        org = organisation_for_member(request.user, data["organisation"])
        app = services.application_create(actor=request.user, organisation=org, title=data["title"])
        return application_detail_response(request, app.reference, status.HTTP_201_CREATED)


ApplicationsApi = combine("ApplicationsApi", ApplicationListApi, ApplicationCreateApi)


class ApplicationDetailApi(APIView):
    @extend_schema(
        tags=APPS, summary="One application", responses=responses({200: serializers.ApplicationDetailSerializer}, 404)
    )
    def get(self, request, reference):
        return application_detail_response(request, reference)


class _StepApi(APIView):
    step = ""
    serializer = serializers.ProjectStepSerializer

    def patch(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(self.serializer, request)
        services.application_update_step(actor=request.user, application=app, step=self.step, data=data)
        return application_detail_response(request, reference)


STEP_RESPONSES = responses({200: serializers.ApplicationDetailSerializer}, 400, 404)


def step_schema(summary: str, serializer_class, **kwargs):
    return extend_schema(tags=APPS, summary=summary, request=serializer_class, responses=STEP_RESPONSES, **kwargs)


class ProjectStepApi(_StepApi):
    step, serializer = "project", serializers.ProjectStepSerializer

    @step_schema("Save project fields of a draft (only the fields sent)", serializers.ProjectStepSerializer)
    def patch(self, request, reference):
        return super().patch(request, reference)


class ModelStepApi(_StepApi):
    step, serializer = "model", serializers.ModelStepSerializer

    @step_schema("Save AI model fields of a draft (only the fields sent)", serializers.ModelStepSerializer)
    def patch(self, request, reference):
        return super().patch(request, reference)


class ResourcesStepApi(APIView):
    @step_schema(
        "Save access mode, call, dates and per-site requests of a draft",
        serializers.ResourcesStepSerializer,
        description="Fields not sent are kept. `resources`, when sent, replaces every per-site request; "
        "mode, dates and rows are saved together or not at all.",
    )
    def patch(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.ResourcesStepSerializer, request)
        fields = dict(data)
        rows = fields.pop("resources", None)
        if "call" in fields:
            fields["call"] = self._call(fields["call"], app)
        if rows is None:
            services.application_update_step(actor=request.user, application=app, step="resources", data=fields)
        else:
            services.application_save_resources(actor=request.user, application=app, data=fields, rows=rows)
        return application_detail_response(request, reference)

    @staticmethod
    def _call(call_id, app):
        if call_id is None:
            return None
        call = catalogue_selectors.calls_to_offer(app.call).filter(pk=call_id).first()
        if call is None:
            raise ServiceValidationError({"call": ["This call is not open."]})
        return call


class EthicsIssuesApi(APIView):
    @step_schema("Answer the ethics issues of a draft (the issues sent replace theirs)",
                 serializers.EthicsIssuesSerializer)
    def patch(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.EthicsIssuesSerializer, request)
        issues = {**(app.ethics_issues or {}), **{k: dict(v) for k, v in data.items()}}
        services.application_set_ethics_issues(actor=request.user, application=app, issues=issues)
        return application_detail_response(request, reference)


class TeamMemberAddApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Add a team member to a draft (they get an e-mail to confirm)",
        request=serializers.TeamMemberCreateSerializer,
        responses=responses({201: serializers.TeamMemberSerializer}, 400, 404),
    )
    def post(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.TeamMemberCreateSerializer, request)
        member = services.team_member_add(actor=request.user, application=app, **data)
        return Response(serializers.TeamMemberSerializer(member).data, status=status.HTTP_201_CREATED)


class TeamMemberRemoveApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Remove a team member from a draft",
        responses=responses({204: OpenApiResponse(description="Removed.")}, 400, 404),
    )
    def delete(self, request, reference, pk):
        app = selectors.application_for_member(request.user, reference)
        member = selectors.team_member_in(app, pk)
        services.team_member_remove(actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamConfirmApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Confirm taking part in an application's team, with the token mailed to the team member",
        description="The token is the last part of the confirmation link's path: it proves control of the "
                    "address, so send it in the body (never in a URL); it is neither returned nor logged. "
                    "Confirming again changes nothing, as on the page. Unknown token: 400.",
        request=serializers.TeamConfirmSerializer,
        responses=responses({200: serializers.TeamConfirmationSerializer}, 400),
    )
    def post(self, request):
        data = serializers.TeamConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.team_member_confirm(token=data.validated_data["token"], actor=request.user)
        return Response(serializers.TeamConfirmationSerializer(member).data)


class SubmissionCheckApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Every reason the draft cannot be submitted yet (empty: ready)",
        responses=responses({200: serializers.ProblemSerializer(many=True)}, 404),
    )
    def get(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        return Response(serializers.ProblemSerializer(services.validate_for_submission(app), many=True).data)


class DeclarationApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="The declaration of honour a submission of this application makes (current version and text)",
        description="In the language of the request (Accept-Language). Submit with its `version` as "
                    "`declaration_version`.",
        responses=responses({200: serializers.DeclarationSerializer}, 404),
    )
    def get(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        return Response(serializers.DeclarationSerializer({
            "version": DECLARATION_VERSION, "language": translation.get_language(),
            "text": declaration_text(app), "statements": declaration_statements(app)}).data)


class SubmitApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Submit a draft, with the declaration of honour",
        description="The body names the version of the declaration of honour made (`declaration_version`, from "
                    "…/declaration/); it is stored with the submission (who, when, the text) and audited. "
                    "On 400 the error lists every problem in `fields` and, with step and field, in `problems`; "
                    "a missing or outdated declaration is a 400 on `declaration_version`. Nothing changes on a 400.",
        request=serializers.SubmitSerializer,
        responses=responses({200: serializers.ApplicationDetailSerializer}, 400, 404, 409),
    )
    def post(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.SubmitSerializer, request)
        try:
            services.application_submit(actor=request.user, application=app,
                                        declaration_version=data["declaration_version"])
        except services.SubmissionIncomplete as exc:
            problems = serializers.ProblemSerializer(exc.problems, many=True).data
            fields: dict[str, list[str]] = {}
            for p in exc.problems:
                fields.setdefault(f"{p.step}.{p.field}" if p.field else p.step, []).append(p.message)
            raise ServiceValidationError(fields, extra={"problems": problems}) from exc
        return application_detail_response(request, reference)


class WithdrawApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Withdraw an application before a decision",
        request=serializers.WithdrawSerializer,
        responses=responses({200: serializers.ApplicationDetailSerializer}, 400, 404, 409),
    )
    def post(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.WithdrawSerializer, request)
        services.application_withdraw(actor=request.user, application=app, reason=data["reason"])
        return application_detail_response(request, reference)


class ReopenApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Take an application back into draft after a revision request",
        request=None,
        responses=responses({200: serializers.ApplicationDetailSerializer}, 400, 404, 409),
    )
    def post(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        services.application_reopen(actor=request.user, application=app)
        return application_detail_response(request, reference)


class AttachmentUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=APPS,
        summary="Attach a PDF to a draft (multipart: kind, file)",
        request={"multipart/form-data": serializers.AttachmentUploadSerializer},
        responses=responses({201: serializers.AttachmentSerializer}, 400, 404),
    )
    def post(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.AttachmentUploadSerializer, request)
        attachment = services.attachment_add(
            actor=request.user, application=app, kind=data["kind"], upload=data["file"]
        )
        context = serializers.attachment_context(request, app)
        return Response(serializers.AttachmentSerializer(attachment, context=context).data,
                        status=status.HTTP_201_CREATED)


class AttachmentDownloadApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Download an attachment (members; the allocation managers, ethics officers and assigned "
                "reviewers as the attachment rule allows; audited for staff)",
        responses=responses({(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)}, 404),
    )
    def get(self, request, reference, pk):
        app = selectors.application_for_attachment_reader(request.user, reference)
        attachment = selectors.attachment_in(app, pk)
        path = services.attachment_read(actor=request.user, attachment=attachment)
        if path is None:
            raise Http404
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=attachment.download_name, content_type="application/pdf"
        )


class AttachmentRemoveApi(APIView):
    @extend_schema(
        tags=APPS,
        summary="Remove an attachment from a draft",
        responses=responses({204: OpenApiResponse(description="Removed.")}, 400, 404),
    )
    def delete(self, request, reference, pk):
        app = selectors.application_for_member(request.user, reference)
        services.attachment_remove(actor=request.user, attachment=selectors.attachment_in(app, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


AttachmentApi = combine("AttachmentApi", AttachmentDownloadApi, AttachmentRemoveApi)


# ------------------------------------------------------------------------------------ AI Act

LANG = OpenApiParameter(
    "lang",
    OpenApiTypes.STR,
    enum=list(engine.LANGUAGES),
    required=False,
    description="Language of texts; default: the request's language (Accept-Language).",
)


def _language(request) -> str:
    return engine.supported_language(request.query_params.get("lang") or translation.get_language())


def _saved_answers(app) -> dict:
    assessment = selectors.risk_assessment_of(app)
    return dict(assessment.answers) if assessment else {}


class QuestionnaireApi(APIView):
    @extend_schema(
        tags=AI_ACT,
        summary="The AI Act questionnaire: visible questions with the saved answers",
        parameters=[LANG],
        responses=responses({200: serializers.QuestionnaireSerializer}, 404),
    )
    def get(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        language = _language(request)
        ruleset = engine.load_ruleset(engine.DEFAULT_RULESET)
        answers = _saved_answers(app)
        questions = [
            {
                "id": q.id,
                "type": str(q.type),
                "text": q.text[language],
                "help": q.help.get(language, ""),
                "article": q.article,
                "url": q.url,
                "answer": answers.get(q.id),
                "options": [
                    {"value": o.value, "label": o.label[language], "exclusive": o.exclusive} for o in q.options
                ],
            }
            for q in engine.visible_questions(ruleset, answers)
        ]
        return Response(
            serializers.QuestionnaireSerializer(
                {
                    "ruleset": ruleset.version,
                    "ruleset_sha256": ruleset.sha256,
                    "title": ruleset.title[language],
                    "language": language,
                    "questions": questions,
                    "missing": engine.missing_answers(ruleset, answers),
                }
            ).data
        )


def _result(app, language: str) -> dict:
    result, _missing = compliance_services.assessment_evaluate(
        application=app, answers=_saved_answers(app), language=language
    )
    return result


class AnswersApi(APIView):
    @extend_schema(
        tags=AI_ACT,
        summary="Save the AI Act answers of a draft (all of them; partial is fine)",
        description="Returns the result for the saved answers; `missing_answers` lists what is left.",
        parameters=[LANG],
        request=serializers.AnswersSerializer,
        responses=responses({200: serializers.AssessmentResultSerializer}, 400, 404),
    )
    def put(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        data = validated(serializers.AnswersSerializer, request)
        compliance_services.assessment_save(actor=request.user, application=app, answers=data["answers"])
        return Response(serializers.AssessmentResultSerializer(_result(app, _language(request))).data)


class ResultApi(APIView):
    @extend_schema(
        tags=AI_ACT,
        summary="The AI Act result for the saved answers (404 before any answer)",
        parameters=[LANG],
        responses=responses({200: serializers.AssessmentResultSerializer}, 404),
    )
    def get(self, request, reference):
        app = selectors.application_for_member(request.user, reference)
        if selectors.risk_assessment_of(app) is None:
            raise Http404
        return Response(serializers.AssessmentResultSerializer(_result(app, _language(request))).data)
