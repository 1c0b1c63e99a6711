"""Numbers formatted to fit a metric or a caption: 153.7, 12,346, 3.067e+09."""

from __future__ import annotations

import math


def si(value: float, digits: int = 4) -> str:
    """At most `digits` significant digits, scientific past 10^6 or below 10^-3, so nothing is ever cut off."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if not 1e-3 <= abs(value) < 1e6:
        return f"{value:.{digits - 1}e}"
    text = f"{value:,.{max(0, digits - 1 - math.floor(math.log10(abs(value))))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
