"""Base classes of the staff API views: every one requires a second factor (StaffMFA) and the role."""

from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.api.permissions import IsAllocationManager, IsOperator, IsReviewer, StaffMFA

BASE = list(api_settings.DEFAULT_PERMISSION_CLASSES)


class ReviewerApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsReviewer]


class ManagerApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsAllocationManager]


class OperatorApi(APIView):
    permission_classes = [*BASE, StaffMFA, IsOperator]
