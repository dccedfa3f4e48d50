"""Turning signal values into words: the one place where reasons are written.

The model says how much each reason group (a signal family) raised P(farm) for a page
(``TrustModel.contributions``); this module picks the groups that mattered and describes
them with the page's own numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import numpy as np

# A group counts as a reason when occluding it lowers P(farm) by at least this much.
MIN_CONTRIBUTION = 0.03
MAX_REASONS = 5

Values = dict[str, float]


def groups_for(feature_names: list[str]) -> dict[str, np.ndarray]:
    """Reason groups (one per signal family) as column indices into the feature vector."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(feature_names):
        family = name.split(".", 1)[0]
        if family in DESCRIBERS:
            groups.setdefault(family, []).append(i)
    return {k: np.asarray(v) for k, v in groups.items()}


def explain(values: Values, contributions: dict[str, float], *, farm: bool) -> list[str]:
    """Reasons for one page: the groups that drove P(farm) up, strongest first, in words."""
    out: list[str] = []
    for group, weight in sorted(contributions.items(), key=lambda kv: -kv[1]):
        if weight < MIN_CONTRIBUTION or len(out) >= MAX_REASONS:
            break
        sentence = DESCRIBERS[group](values)
        if sentence:
            out.append(sentence)
    if not out:
        out.append("no strong content-farm signs" if not farm else "several weak content-farm signs together")
    return out


def _v(values: Values, name: str) -> float | None:
    v = values.get(name)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _n(values: Values, name: str) -> int:
    v = _v(values, name)
    return int(round(v)) if v is not None else 0


def _fired(values: Values, labels: dict[str, str], threshold: float = 0.0) -> list[str]:
    """Labels of the named features whose value is above ``threshold``."""
    return [label for name, label in labels.items() if (_v(values, name) or 0.0) > threshold]


def _describe_generic(family: str) -> Callable[[Values], str | None]:
    def describe(values: Values) -> str | None:
        fired = [k.split(".", 1)[1].replace("_", " ") for k, v in values.items()
                 if k.startswith(family + ".") and v and not math.isnan(v)]
        return f"{family.replace('_', ' ')}: " + ", ".join(fired[:4]) if fired else None
    return describe


def _date_str(ordinal: float | None) -> str | None:
    if ordinal is None:
        return None
    try:
        return date.fromordinal(int(ordinal)).isoformat()
    except (ValueError, OverflowError):
        return None


DESCRIBERS: dict[str, Callable[[Values], str | None]] = {
    fam: _describe_generic(fam)
    for fam in ("link_lists", "author", "headline", "dates", "template", "text_quality", "domain")
}
