"""Large quantities as people read them: "2.9 × 10²¹ FLOP", with the active language's decimal mark."""

from __future__ import annotations

import math

from django.utils.formats import number_format

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value, unit: str = "", *, digits: int = 2) -> str:
    """``value`` with ``digits`` significant digits; powers of ten from 10⁶ up (and below 10⁻³) as "× 10ⁿ".

    "—" when unknown; the unit follows after a no-break space."""
    if value in (None, ""):
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    suffix = f"\u00a0{unit}" if unit else ""
    if not math.isfinite(number):
        return f"{number}{suffix}"
    if number == 0:
        return f"0{suffix}"
    exponent = math.floor(math.log10(abs(number)))
    if -3 <= exponent < 6:
        places = max(0, digits - 1 - exponent)
        rounded = round(number, places) if places else int(round(number))
        return f"{number_format(rounded, force_grouping=True)}{suffix}"
    mantissa = round(number / 10 ** exponent, digits - 1)
    if abs(mantissa) >= 10:  # 9.96 rounds up to 10.0
        mantissa, exponent = mantissa / 10, exponent + 1
    shown = number_format(mantissa, decimal_pos=digits - 1) if digits > 1 else str(int(mantissa))
    shown = shown.rstrip("0").rstrip(".,") if digits > 1 else shown
    return f"{shown} × 10{str(exponent).translate(SUPERSCRIPT)}{suffix}"
