"""Training-compute estimate for the AI Act GPAI thresholds.

Pure functions only: the estimate is shown to applicants and reviewers next to a compute request
and fed to the classifier, so it must be reproducible from the stored inputs alone. The peak
performance of each GPU type is data (gpus.yaml, with the source of each figure), read once.

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
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

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

#: Dense BF16 peaks in FLOP/s per GPU type, with the source of each figure: data, in gpus.yaml.
GPU_DATA_FILE = Path(__file__).resolve().parent / "gpus.yaml"


def _load_gpus() -> tuple[Mapping[str, float], Mapping[str, str]]:
    raw = yaml.safe_load(GPU_DATA_FILE.read_text(encoding="utf-8"))["gpus"]
    peaks = {model: float(entry["peak_flops"]) for model, entry in raw.items()}
    sources = {model: str(entry["source"]) for model, entry in raw.items()}
    for model, peak in peaks.items():
        if not (0 < peak <= UPPER_BOUNDS["gpu_peak_flops"]):
            raise ValueError(f"{GPU_DATA_FILE.name}: peak_flops of {model} must be in (0, 1e18], got {peak!r}")
    return MappingProxyType(peaks), MappingProxyType(sources)


#: Fallback thresholds, identical to the rule sets; the classifier passes the rule set's own.
DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "gpai_flop": 1e23,
    "systemic_flop": 1e25,
    "modifier_fraction": 1 / 3,
}

SECONDS_PER_HOUR = 3600
DEFAULT_UTILISATION = 0.4

GPU_PEAK_FLOPS, GPU_PEAK_SOURCES = _load_gpus()


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


#: How close to a threshold an estimate must be, on either side, to be flagged as uncertain.
NEAR_MARGIN = 0.10


@dataclass(frozen=True)
class ComputeWarning:
    """A threshold crossed or approached. Warnings state figures only: whether a threshold matters for
    this project (a non-generative model above 1e23 FLOP, a fine-tuned base that is no general-purpose
    model) is for the rule set's conclusions to say, so that a warning never contradicts them.

    ``message`` is the English text (command line, JSON); pages and reports word it from the other
    fields in the reader's language. ``basis`` says what the estimate rests on: ``hardware``
    (GPU-hours, peak FLOP/s, utilisation) or ``architecture`` (6 x parameters x tokens)."""

    code: str
    message: str
    figure: float | None = None
    threshold: float | None = None
    basis: str = ""


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
    """Estimate training compute and warn on crossing, or coming near, the GPAI, modifier and
    systemic thresholds.

    Thresholds are strict (``>``), as in Art. 51(2) ("greater than"). Near means within
    ``NEAR_MARGIN`` of the threshold on either side: the estimate is only as good as what it rests on.
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
    basis = "architecture" if architecture is not None and architecture >= hardware else "hardware"
    return ComputeEstimate(
        hardware_flop=hardware,
        architecture_flop=architecture,
        estimate_flop=estimate,
        cumulative_flop=cumulative,
        base_model_flop=inputs.base_model_flop,
        base_model_fraction=fraction,
        warnings=tuple(_warnings(cumulative, fraction, limits, basis)),
    )


_BASIS_TEXT = {
    "hardware": "GPU-hours, the GPU type's dense peak FLOP/s and an assumed utilisation",
    "architecture": "6 x parameters x training tokens",
}


def _warnings(cumulative: float, fraction: float | None, limits: Mapping[str, float],
              basis: str) -> list[ComputeWarning]:
    warnings: list[ComputeWarning] = []
    gpai, systemic, third = limits["gpai_flop"], limits["systemic_flop"], limits["modifier_fraction"]
    if cumulative > gpai:
        warnings.append(ComputeWarning(
            "gpai_threshold",
            f"Estimated cumulative training compute {cumulative:.3g} FLOP is above {gpai:.3g} FLOP, the compute "
            "criterion of the Commission guidelines for general-purpose AI models; whether it applies also "
            "depends on what the model can generate (see the conclusions).",
            cumulative, gpai, basis))
    if fraction is not None and fraction > third:
        warnings.append(ComputeWarning(
            "modifier_threshold",
            f"This training uses {fraction:.1%} of the base model's declared compute, more than one third: a "
            "downstream modifier of a general-purpose AI model is presumed to become its provider "
            "(see the conclusions).",
            fraction, third, basis))
    if cumulative > systemic:
        warnings.append(ComputeWarning(
            "systemic_threshold",
            f"Estimated cumulative training compute {cumulative:.3g} FLOP is above {systemic:.3g} FLOP: a "
            "general-purpose AI model with that compute is presumed to have systemic risk (Art. 51(2)); its "
            "provider notifies the Commission within two weeks (Art. 52), before training ends.",
            cumulative, systemic, basis))
    for code, figure, threshold in (("near_gpai_threshold", cumulative, gpai),
                                    ("near_modifier_threshold", fraction, third),
                                    ("near_systemic_threshold", cumulative, systemic)):
        if figure is not None and abs(figure - threshold) <= NEAR_MARGIN * threshold:
            shown = f"{figure:.1%} of the base model's compute" if code == "near_modifier_threshold" \
                else f"{figure:.3g} FLOP"
            limit = "one third" if code == "near_modifier_threshold" else f"{threshold:.3g} FLOP"
            warnings.append(ComputeWarning(
                code,
                f"The estimate ({shown}) is within {NEAR_MARGIN:.0%} of {limit}. It is an estimate resting on "
                f"{_BASIS_TEXT[basis]}: a different figure may put it on the other side.",
                figure, threshold, basis))
    return warnings
