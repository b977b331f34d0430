"""How a review's scores read: each criterion under its translated name, each level explained.

The rubric is data (an access mode's ``rubric``: code, label, weight, scale); the labels of the rubrics the
portal ships are listed here so that they are translated. The levels follow the scoring scale of Horizon
Europe evaluations, which reviewers of European programmes know."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

# The criteria of the shipped rubrics (allocations/migrations/0002_reference_data.py), for the catalogues.
SHIPPED_CRITERIA = (
    gettext_noop("Technical feasibility and readiness"), gettext_noop("Justification of the requested resources"),
    gettext_noop("Team capacity"), gettext_noop("Excellence and innovation"),
    gettext_noop("Impact for the European AI ecosystem"), gettext_noop("Quality of implementation and resources"),
)

# Level -> (name, what it means), on a scale of 5.
LEVELS = {
    1: (gettext_lazy("Poor"), gettext_lazy("The criterion is addressed inadequately, or there are serious "
                                           "inherent weaknesses.")),
    2: (gettext_lazy("Fair"), gettext_lazy("The criterion is broadly addressed, but there are significant "
                                           "weaknesses.")),
    3: (gettext_lazy("Good"), gettext_lazy("The criterion is addressed well, but a number of shortcomings are "
                                           "present.")),
    4: (gettext_lazy("Very good"), gettext_lazy("The criterion is addressed very well, with a small number of "
                                                "shortcomings.")),
    5: (gettext_lazy("Excellent"), gettext_lazy("Every relevant aspect of the criterion is addressed; any "
                                                "shortcoming is minor.")),
}


def criterion_label(criterion: dict[str, Any]) -> str:
    """The criterion's name in the active language (a label the catalogues do not know stays as written)."""
    label = criterion.get("label") or criterion.get("code", "")
    return _(label) if label else ""


def level(value: int, scale: int) -> tuple[str, str]:
    """(name, meaning) of a score: the five levels, spread over another scale when the rubric has one."""
    step = round(1 + (int(value) - 1) * 4 / (int(scale) - 1)) if int(scale) > 1 else 5
    name, meaning = LEVELS[min(max(step, 1), 5)]
    return str(name), str(meaning)


def levels(scale: int) -> list[dict[str, Any]]:
    """Every level of a scale, for the rubric shown with the form and the review."""
    return [{"value": v, "name": level(v, scale)[0], "meaning": level(v, scale)[1]} for v in range(1, int(scale) + 1)]


def rubric_scale(rubric: list[dict[str, Any]] | None) -> int:
    """The scale the rubric scores on (the largest of its criteria's; 5 when it says nothing)."""
    return max((int(c.get("scale", 5)) for c in rubric or []), default=5)


def score_rows(rubric: list[dict[str, Any]], scores: dict[str, Any]) -> list[tuple[str, Any, int]]:
    """(criterion's name, score, scale) in the rubric's order; a score of a criterion since removed, last."""
    known = {c["code"]: c for c in rubric}
    rows = [(criterion_label(c), scores[c["code"]], int(c.get("scale", 5))) for c in rubric if c["code"] in scores]
    rows += [(code.replace("_", " ").capitalize(), value, 5) for code, value in scores.items() if code not in known]
    return rows


def score_text(weighted: Decimal | float | None) -> str:
    """A weighted score as people read it: "88 / 100"."""
    if weighted is None:
        return "—"
    return _("%(score)s / 100") % {"score": int(Decimal(str(weighted)).quantize(Decimal("1")))}
