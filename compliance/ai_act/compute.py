"""Training-compute estimate for the AI Act GPAI thresholds.

Pure functions only: the estimate is shown to applicants and reviewers next to a compute request
and fed to the classifier, so it must be reproducible from the stored inputs alone.

Two independent estimates are made and the larger one is kept, because applicants tend to
under-state one of them (the hardware figure ignores restarts, the architecture figure ignores
ablations and failed runs):

* hardware: GPU-hours x 3600 x dense peak FLOP/s x utilisation (MFU);
* architecture (dense transformers): 6 x parameters x training tokens.

Art. 51(2) counts cumulative compute, so earlier allocations for the same model lineage are
added. For a model modified from someone else's base model, ``base_model_flop`` is only used for
the "more than one third" provider test; include the base model's compute in
``prior_lineage_flop`` when the cumulative figure of the modified model is wanted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

#: Dense BF16 peaks in FLOP/s (not the 2:4-sparsity marketing figures).
GPU_PEAK_FLOPS: Mapping[str, float] = {
    "A100": 312e12,
    "H100": 989e12,
    "H200": 989e12,
    "MI300X": 1307e12,
}

#: Fallback thresholds, identical to the rule sets; the classifier passes the rule set's own.
DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "gpai_flop": 1e23,
    "systemic_flop": 1e25,
    "modifier_fraction": 1 / 3,
}

SECONDS_PER_HOUR = 3600
DEFAULT_UTILISATION = 0.4

#: The largest figure a declaration may hold. Past these a figure is a typing error, not a plan: the
#: bounds keep every product below finite (1e300 GPU-hours times a peak in FLOP/s is infinity, which
#: JSON cannot carry). They are wider than the fields of the application form and API, so that an
#: application the portal stored always passes.
UPPER_BOUNDS: Mapping[str, float] = {
    "gpu_hours": 1e12,
    "gpu_peak_flops": 1e18,
    "parameters": 1e19,
    "training_tokens": 1e19,
    "base_model_flop": 1e40,
    "prior_lineage_flop": 1e45,
}


@dataclass(frozen=True)
class ComputeInputs:
    """What an applicant declares; ``gpu_peak_flops`` is dense BF16 FLOP/s per GPU."""

    gpu_hours: float
    gpu_peak_flops: float
    utilisation: float = DEFAULT_UTILISATION
    parameters: int | None = None
    training_tokens: int | None = None
    base_model_flop: float | None = None
    prior_lineage_flop: float = 0.0

    def __post_init__(self) -> None:
        # Reject nonsense early: a negative or NaN figure would silently defeat the thresholds.
        for name in ("gpu_hours", "gpu_peak_flops", "prior_lineage_flop"):
            _require_non_negative(name, getattr(self, name))
        for name in ("parameters", "training_tokens", "base_model_flop"):
            value = getattr(self, name)
            if value is not None:
                _require_non_negative(name, value)
        if self.base_model_flop is not None and self.base_model_flop == 0:
            raise ValueError("base_model_flop must be greater than zero when given")
        if not (0 < self.utilisation <= 1):
            raise ValueError(f"utilisation must be in (0, 1], got {self.utilisation!r}")


@dataclass(frozen=True)
class ComputeWarning:
    code: str
    message: str


@dataclass(frozen=True)
class ComputeEstimate:
    """The two estimates, the retained one, the cumulative lineage figure and threshold warnings."""

    hardware_flop: float
    architecture_flop: float | None
    estimate_flop: float
    cumulative_flop: float
    base_model_flop: float | None = None
    base_model_fraction: float | None = None
    warnings: tuple[ComputeWarning, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = [asdict(w) for w in self.warnings]
        return data


def _require_non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if value > UPPER_BOUNDS[name]:
        raise ValueError(f"{name} must be at most {UPPER_BOUNDS[name]:g}, got {value!r}")


def hardware_flop(gpu_hours: float, gpu_peak_flops: float, utilisation: float) -> float:
    return gpu_hours * SECONDS_PER_HOUR * gpu_peak_flops * utilisation


def architecture_flop(parameters: int, training_tokens: int) -> float:
    # Integer product first so that exact inputs give an exactly rounded result.
    return float(6 * parameters * training_tokens)


def estimate_compute(
    inputs: ComputeInputs, thresholds: Mapping[str, float] | None = None
) -> ComputeEstimate:
    """Estimate training compute and warn on crossing the GPAI, modifier and systemic thresholds.

    Thresholds are strict (``>``), as in Art. 51(2) ("greater than").
    """
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    hardware = hardware_flop(inputs.gpu_hours, inputs.gpu_peak_flops, inputs.utilisation)
    architecture = (
        architecture_flop(inputs.parameters, inputs.training_tokens)
        if inputs.parameters is not None and inputs.training_tokens is not None
        else None
    )
    estimate = max(hardware, architecture or 0.0)
    cumulative = estimate + inputs.prior_lineage_flop
    fraction = estimate / inputs.base_model_flop if inputs.base_model_flop else None

    warnings: list[ComputeWarning] = []
    if cumulative > limits["gpai_flop"]:
        warnings.append(
            ComputeWarning(
                "gpai_threshold",
                f"Cumulative training compute {cumulative:.3g} FLOP exceeds {limits['gpai_flop']:.3g} FLOP, "
                "the indicative criterion for a general-purpose AI model.",
            )
        )
    if fraction is not None and fraction > limits["modifier_fraction"]:
        warnings.append(
            ComputeWarning(
                "modifier_threshold",
                f"This training uses {fraction:.1%} of the base model's compute (more than "
                f"{limits['modifier_fraction']:.1%}): the modifier is presumed to become the provider.",
            )
        )
    if cumulative > limits["systemic_flop"]:
        warnings.append(
            ComputeWarning(
                "systemic_threshold",
                f"Cumulative training compute {cumulative:.3g} FLOP exceeds {limits['systemic_flop']:.3g} "
                "FLOP: systemic risk is presumed (Art. 51(2)); notify the Commission within two weeks "
                "(Art. 52), before training ends.",
            )
        )
    return ComputeEstimate(
        hardware_flop=hardware,
        architecture_flop=architecture,
        estimate_flop=estimate,
        cumulative_flop=cumulative,
        base_model_flop=inputs.base_model_flop,
        base_model_fraction=fraction,
        warnings=tuple(warnings),
    )
