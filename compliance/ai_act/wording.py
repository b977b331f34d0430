"""Compute warnings worded in the reader's language, for pages and PDF reports.

A warning carries its figures (``figure``, ``threshold``, ``basis``); the English ``message`` is for
the command line and the JSON. Results stored before warnings carried figures keep their message.
Like ``risk``, this module only uses Django's translation machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _


def _basis(code: str) -> str:
    if code == "architecture":
        return _("6 × parameters × training tokens")
    return _("GPU-hours, the GPU type's dense peak FLOP/s and an assumed utilisation")


WORDED_CODES = frozenset({"gpai_threshold", "systemic_threshold", "modifier_threshold", "near_gpai_threshold",
                          "near_systemic_threshold", "near_modifier_threshold"})


def is_worded(warning: Mapping[str, Any]) -> bool:
    """Whether the warning is worded here (in the reader's language), not shown as its stored English message."""
    return (warning.get("code") in WORDED_CODES and warning.get("figure") is not None
            and warning.get("threshold") is not None)


def compute_warning_text(warning: Mapping[str, Any]) -> str:
    """The warning in the active language; its stored English message when it carries no figures."""
    code, figure, threshold = warning.get("code"), warning.get("figure"), warning.get("threshold")
    if figure is None or threshold is None:
        return str(warning.get("message", ""))
    flop = {"figure": f"{figure:.3g}", "threshold": f"{threshold:.3g}"}
    if code == "gpai_threshold":
        return _("Estimated cumulative training compute %(figure)s FLOP is above %(threshold)s FLOP, the compute "
                 "criterion of the Commission guidelines for general-purpose AI models; whether it applies also "
                 "depends on what the model can generate (see the conclusions).") % flop
    if code == "systemic_threshold":
        return _("Estimated cumulative training compute %(figure)s FLOP is above %(threshold)s FLOP: a "
                 "general-purpose AI model with that compute is presumed to have systemic risk (Art. 51(2)); its "
                 "provider notifies the Commission within two weeks (Art. 52), before training ends.") % flop
    if code == "modifier_threshold":
        return _("This training uses %(share)s of the base model's declared compute, more than one third: a "
                 "downstream modifier of a general-purpose AI model is presumed to become its provider (see the "
                 "conclusions).") % {"share": f"{figure:.1%}"}
    if code in ("near_gpai_threshold", "near_systemic_threshold"):
        return _("The estimate (%(figure)s FLOP) is within 10 %% of %(threshold)s FLOP. It is an estimate resting on "
                 "%(basis)s: a different figure may put it on the other side.") % (
            flop | {"basis": _basis(warning.get("basis", ""))})
    if code == "near_modifier_threshold":
        return _("The estimate (%(share)s of the base model's compute) is within 10 %% of one third. It is an "
                 "estimate resting on %(basis)s: a different figure may put it on the other side.") % {
            "share": f"{figure:.1%}", "basis": _basis(warning.get("basis", ""))}
    return str(warning.get("message", ""))
