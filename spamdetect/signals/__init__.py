"""Signal families: each module is pure, ``features(page) -> {"family.name": float}``.

Contract for every family module:
- ``FEATURES``: the tuple of feature names it returns, in a fixed order, each ``"<family>.<name>"``;
- ``features(page, **thresholds) -> dict[str, float]``: exactly those keys; ``nan`` where the page
  cannot tell (text mode has no meta tags, a page without a URL has no domain);
- thresholds are keyword arguments with published defaults, never module globals read at call time.
"""

from __future__ import annotations

from collections.abc import Callable

from spamdetect.page import Page
from spamdetect.signals import author, dates, domain, headline, link_lists, template, text_quality

FAMILIES: dict[str, object] = {
    "link_lists": link_lists,
    "author": author,
    "headline": headline,
    "dates": dates,
    "template": template,
    "text_quality": text_quality,
    "domain": domain,
}


def feature_names(families: list[str] | None = None) -> list[str]:
    """All feature names of the given families (default: all), in the fixed model order."""
    names: list[str] = []
    for fam in families or list(FAMILIES):
        names.extend(FAMILIES[fam].FEATURES)
    return names


def family_functions(families: list[str] | None = None) -> list[Callable[[Page], dict[str, float]]]:
    return [FAMILIES[fam].features for fam in families or list(FAMILIES)]


def page_features(page: Page, families: list[str] | None = None, domain_lists: bool = False) -> dict[str, float]:
    """Every feature of the chosen families for one page (a dict in the fixed order)."""
    out: dict[str, float] = {}
    for fam in families or list(FAMILIES):
        module = FAMILIES[fam]
        if fam == "domain":
            out.update(module.features(page, use_lists=domain_lists))
        else:
            out.update(module.features(page))
    return out
