"""Numbers formatted to fit a metric or a caption: 153.7, 12,346, 3.067e+09, 2nd, 40 s."""

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


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def duration(seconds: float) -> str:
    """'40 s', '12 min', '2.5 h': a wait in the unit a person reads at a glance."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def share(fraction: float) -> str:
    """A share as a percentage a caption can state: '95%', '0.4%' (never '0%' for something there), '100%'."""
    percent = 100 * fraction
    if 0 < percent < 1:
        return f"{percent:.1f}%"
    if 99 < percent < 100:
        return f"{math.floor(percent * 10) / 10:g}%"  # 99.96% is not all of them
    return f"{percent:.0f}%"


def written(value: float, spec: str = ",.0f") -> str:
    """A number as prose writes it: '−2,849', with a true minus sign (U+2212), not a hyphen."""
    return format(value, spec).replace("-", "\u2212")


def signed(value: float, spec: str = "g") -> str:
    """'+2', '−1.5', '0': a sign always, and a true minus sign."""
    return written(value, "+" + spec) if value else format(0, spec)


def article(word: str) -> str:
    """'a' or 'an' before a word, by its first sound: 'an ellipse', 'a square', 'a 3', 'an MLP' (an initialism is
    read letter by letter)."""
    first = word.split(" ", 1)[0]
    if first.isalpha() and first.isupper():
        return "an" if first[0] in "AEFHILMNORSX" else "a"
    return "an" if word[:1].lower() in "aeiou8" or word in ("11", "18") else "a"
