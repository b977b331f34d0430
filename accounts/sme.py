"""The EU SME definition (Commission Recommendation 2003/361/EC, Annex, Article 2).

A category requires the staff headcount ceiling AND either the turnover or the balance-sheet
ceiling. Public bodies are never SMEs (Annex, Article 3(4): 25 % or more public control).
Partner and linked enterprises are not aggregated here: the applicant declares consolidated
figures."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class SMEClass(models.TextChoices):
    MICRO = "micro", _("Micro enterprise")
    SMALL = "small", _("Small enterprise")
    MEDIUM = "medium", _("Medium-sized enterprise")
    NOT_SME = "not_sme", _("Not an SME")


# (class, headcount below, turnover at most, balance-sheet total at most), smallest first.
THRESHOLDS = [
    (SMEClass.MICRO, 10, Decimal("2000000"), Decimal("2000000")),
    (SMEClass.SMALL, 50, Decimal("10000000"), Decimal("10000000")),
    (SMEClass.MEDIUM, 250, Decimal("50000000"), Decimal("43000000")),
]


def sme_class(*, headcount: int, turnover: Decimal, balance_sheet: Decimal, public_body: bool = False) -> str:
    if public_body:
        return SMEClass.NOT_SME
    for klass, staff_below, turnover_max, balance_max in THRESHOLDS:
        if headcount < staff_below and (turnover <= turnover_max or balance_sheet <= balance_max):
            return klass
    return SMEClass.NOT_SME
