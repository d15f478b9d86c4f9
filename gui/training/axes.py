"""Plot axes in human units: no SI-prefix scaling, log ticks that never overlap.

pyqtgraph's default axis rescales values by an SI prefix ("loss (×1e+12)", epochs "200…500
(×0.001)") and, on a log axis spanning few decades, labels every 2×…9× tick, which overlap in a
short plot. :class:`Axis` keeps the numbers as they are; in log mode it labels decades
("10⁻³, 10⁻², …", thinned to what fits the axis's length) and, when fewer than three decades are
in view, 2× and 5× steps in plain decimals ("0.2, 0.5, 1"); the remaining decades are unlabelled
tick marks. ``percent=True`` writes fractions as percentages.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtGui import QFont

LABEL_PX = {"left": 20, "right": 20, "bottom": 44, "top": 44}  # room one tick label needs
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
PLAIN = (1e-3, 1e4)  # values written as plain decimals when every label lies in this range


def log_ticks(lo: float, hi: float, max_labels: int) -> tuple[list[float], list[float]]:
    """Labelled and unlabelled tick positions (log10 values) for a log axis over [lo, hi].

    Decades first, every k-th so that at most ``max_labels`` fit (k a multiple that keeps the
    labels on round exponents); with fewer than three decades in view, 2× and 5× steps too.
    """
    lo, hi = sorted((lo, hi))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    max_labels = max(2, max_labels)
    decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
    if len(decades) >= 3:
        every = next(k for k in (1, 2, 3, 5, 10, 20, 50, 100, 1000) if len(decades) / k <= max_labels
                     or k == 1000)
        labelled = [float(d) for d in decades if d % every == 0]
        return labelled, [float(d) for d in decades if d % every]
    steps = [d + math.log10(m) for d in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
    inside = [v for v in steps if lo - 1e-9 <= v <= hi + 1e-9]
    if len(inside) > max_labels:  # keep 1× and 5×
        inside = [v for v in inside if abs(v - math.floor(v + 1e-9) - math.log10(2)) > 1e-9]
    if len(inside) < 2:  # less than a 1-2-5 step in view: round values, evenly spaced
        inside = [math.log10(v) for v in _linear_ticks(10 ** lo, 10 ** hi, min(max_labels, 4))]
    return inside[:max_labels], []


def _linear_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About ``count`` round values (1, 2 or 5 × 10ⁿ apart) in [lo, hi], for positive lo."""
    raw = (hi - lo) / max(1, count)
    if not raw > 0:
        return [lo]
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 5, 10) if m * base >= raw)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1) if first + k * step > 0]


def log_label(value: float, plain: bool) -> str:
    """The label of the tick at log10 value ``value``: "0.02" when ``plain``, else "10⁻³"/"2·10⁻³"."""
    if plain:
        return f"{float(f'{10 ** value:.3g}'):g}"
    exponent = math.floor(value + 1e-9)
    mantissa = round(10 ** (value - exponent), 1)
    if mantissa >= 10:
        exponent, mantissa = exponent + 1, 1
    mantissa_text = f"{mantissa:g}"
    power = f"10{str(exponent).translate(SUPERSCRIPT)}"
    return power if mantissa == 1 else f"{mantissa_text}·{power}"


class Axis(pg.AxisItem):
    """An axis that keeps human units (see the module docstring)."""

    def __init__(self, orientation: str, percent: bool = False, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.percent = percent
        self._labelled: set[float] = set()
        self._plain = True
        font = QFont()
        font.setPointSizeF(8)
        self.setStyle(tickFont=font, tickTextOffset=3)
        self.setTextPen("#333")
        self.label.setFont(font)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:  # noqa: N802,N803
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        labelled, minor = log_ticks(minVal, maxVal, int(size // LABEL_PX[self.orientation]))
        self._labelled = {round(v, 9) for v in labelled}
        self._plain = all(PLAIN[0] <= 10 ** v <= PLAIN[1] for v in labelled)
        return [(1.0, labelled), (None, minor)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.logMode:
            return [log_label(v, self._plain) if round(v, 9) in self._labelled else "" for v in values]
        if self.percent:
            return [f"{100 * v:.0f}%" for v in values]
        return super().tickStrings(values, scale, spacing)


def log_axis_ticks(lo: float, hi: float, pixels: float, orientation: str = "left") -> list[tuple[float, str]]:
    """Explicit ``(log10 value, label)`` ticks for an axis whose values are log10 already."""
    labelled, _minor = log_ticks(lo, hi, int(pixels // LABEL_PX[orientation]))
    plain = all(PLAIN[0] <= 10 ** v <= PLAIN[1] for v in labelled)
    return [(v, log_label(v, plain)) for v in labelled]


def axes(percent: bool = False) -> dict[str, Axis]:
    """Left and bottom axes for a new PlotItem."""
    return {"left": Axis("left", percent=percent), "bottom": Axis("bottom")}
