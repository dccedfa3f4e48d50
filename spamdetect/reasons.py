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

# A group counts as a reason when it moves the page's farm log-odds by at least this much.
MIN_CONTRIBUTION = 0.5
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


def explain(values: Values, contributions: dict[str, float], *, farm: bool,
            details: dict[str, Callable[[], str]] | None = None) -> list[str]:
    """Reasons for one page: the groups that drove P(farm) up, strongest first, in words.

    ``details``: per group, a function giving text to add to its sentence (the text channel's
    farm-like words on this page); called only for a group that is reported.
    """
    out: list[str] = []
    # On a page judged trustworthy only a strong pull towards farm is worth a sentence.
    floor = MIN_CONTRIBUTION if farm else 2 * MIN_CONTRIBUTION
    for group, weight in sorted(contributions.items(), key=lambda kv: -kv[1]):
        if weight < floor or len(out) >= MAX_REASONS:
            break
        sentence = DESCRIBERS[group](values)
        extra = details[group]() if sentence and details and group in details else ""
        if extra:
            sentence += f"; {extra}"
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


def _sentence(lead: str, parts: list[str], most: int = 3) -> str | None:
    """'Lead: a; b; c' with the first ``most`` parts (the strongest are listed first)."""
    if not parts:
        return None
    more = f" (+{len(parts) - most} more)" if len(parts) > most else ""
    return f"{lead}: " + "; ".join(parts[:most]) + more


def _link_lists(v: Values) -> str | None:
    n, unrelated = _n(v, "link_lists.n_headlines"), _n(v, "link_lists.n_unrelated")
    parts = []
    if n and unrelated:
        parts.append(f"{unrelated} of {n} headlines unrelated to the story")
    if (_v(v, "link_lists.farm_label_share") or 0) > 0:
        parts.append("lists labelled like farm templates (Ranking, Don't Miss, Recommendation)")
    if (_v(v, "link_lists.offsite_share") or 0) >= 0.5:
        parts.append(f"{_v(v, 'link_lists.offsite_share'):.0%} of list links point to other sites")
    if (_v(v, "link_lists.script_mismatch") or 0) > 0:
        parts.append("headlines in another language than the story")
    return _sentence("Link lists", parts)


def _author(v: Values) -> str | None:
    parts = _fired(v, {
        "author.info_block": "an 'Author information' block",
        "author.my_name_is": "a 'My name is ..., I am a ... person' intro",
        "author.writer_phrase": "stock 'loves writing' phrases",
        "author.odd_job_title": "a generated job title",
        "author.honorific_name": "an honorific name",
        "author.hobby_list": "a hobby list",
        "author.counters": "view/rating counters",
    })
    if (_v(v, "author.generated_bio_score") or 0) > 0 and ((_v(v, "author.street_address") or 0) > 0
                                                          or (_v(v, "author.phone") or 0) > 0):
        parts.append("street address or phone in the bio")
    if _n(v, "author.profile_fields") >= 3:
        parts.insert(0, f"{_n(v, 'author.profile_fields')} profile fields (name, address, phone, job, hobby)")
    if _v(v, "author.byline_consistent") == 0:
        parts.append("the visible byline differs from the declared author")
    if not parts and _v(v, "author.byline_present") == 0:
        return "No byline or declared author"
    return _sentence("Author profile looks generated", parts)


def _headline(v: Values) -> str | None:
    parts = _fired(v, {
        "headline.year_suffix": "title ends with a year tag like '(2024)'",
        "headline.site_suffix_mismatch": "the site name in the title does not match the domain",
        "headline.template_leak": "template text leaked into the title",
        "headline.clickbait": "clickbait wording",
    })
    spun = _n(v, "headline.spinner_in_title")
    per_1k = _v(v, "headline.spinner_per_1k") or 0.0
    if spun or per_1k:
        where = [f"{spun} in the title"] if spun else []
        where += [f"{per_1k:.1f} per 1,000 words of story"] if per_1k else []
        parts.append(f"spun wording ({', '.join(where)})")
    overlaps = [x for x in (_v(v, "headline.title_h1_jaccard"), _v(v, "headline.title_og_jaccard")) if x is not None]
    if overlaps and min(overlaps) < 0.5:
        parts.append(f"title, h1 and og:title disagree ({min(overlaps):.0%} word overlap)")
    return _sentence("Headline", parts)


def _dates(v: Values) -> str | None:
    parts = []
    stamp, latest = _date_str(_v(v, "dates.stamp_ordinal")), _v(v, "dates.story_latest_year")
    gap = _v(v, "dates.stamp_minus_story_year")
    if stamp and latest is not None and gap is not None and gap >= 1:
        parts.append(f"stamped {stamp} but the story's latest year is {int(latest)}")
    ahead = _v(v, "dates.stamp_days_ahead")
    if ahead is not None and ahead > 1:
        parts.append(f"dated {int(ahead)} days after the page was crawled")
    spread = _v(v, "dates.published_spread_days")
    if spread is not None and spread > 30:
        parts.append(f"publication dates on the page disagree by {int(spread)} days")
    url_gap = _v(v, "dates.stamp_url_gap_days")
    if url_gap is not None and abs(url_gap) > 30:
        parts.append(f"stamp is {int(abs(url_gap))} days off the date in the URL")
    if not parts and _v(v, "dates.has_stamp") == 0:
        return "Dates: no publication date anywhere on the page"
    return _sentence("Dates", parts)


def _template(v: Values) -> str | None:
    leaks = sum(_n(v, f"template.{k}") for k in ("path_leaks", "placeholder_leaks", "shortcode_leaks",
                                                 "spintax", "lorem_ipsum", "null_lines"))
    parts = [f"{leaks} template leftovers (placeholders, spintax, file paths)"] if leaks else []
    counted = {
        "template.share_walls": "share-button walls",
        "template.fake_ratings": "fake ratings",
        "template.donation_appeals": "donation appeals",
        "template.originally_appeared": "'originally appeared on' notices",
        "template.source_foreign": "'Source:' credits to other sites",
        "template.faq_blocks": "FAQ blocks",
        "template.pagination": "pagination remnants",
        "template.affiliate_links": "affiliate links",
        "template.ai_refusals": "chatbot boilerplate",
    }
    parts += [f"{_n(v, k)} {label}" for k, label in counted.items() if _n(v, k) > 0]
    if (_v(v, "template.top_word_share") or 0) > 0.08:
        parts.append(f"keyword stuffing (top word is {_v(v, 'template.top_word_share'):.0%} of content words)")
    if (_v(v, "template.ai_style_per_1000w") or 0) > 2:
        parts.append(f"{_v(v, 'template.ai_style_per_1000w'):.1f} stock AI phrases per 1,000 words")
    return _sentence("Template", parts)


def _text_quality(v: Values) -> str | None:
    parts = []
    for name, label, cut in (("text_quality.dup_line_frac", "duplicate lines", 0.2),
                             ("text_quality.dup_5gram_char_frac", "of the story in repeated 5-grams", 0.2),
                             ("text_quality.short_line_share", "short lines", 0.8)):
        if (_v(v, name) or 0) > cut:
            parts.append(f"{_v(v, name):.0%} {label}")
    ratio = _v(v, "text_quality.main_text_ratio")
    if ratio is not None and ratio < 0.25:
        parts.append(f"the story is only {ratio:.0%} of the page text")
    words = _v(v, "text_quality.main_word_count")
    if words is not None and words < 80:
        parts.append(f"only {int(words)} words of story")
    return _sentence("Text", parts) or "Text statistics unlike typical publisher pages"


def _domain(v: Values) -> str | None:
    parts = _fired(v, {
        "domain.cheap_tld": "a spam-heavy top-level domain",
        "domain.in_farm_list": "listed on a public content-farm blocklist",
        "domain.in_unreliable_list": "listed as an unreliable source",
        "domain.host_is_ip": "a bare IP address",
    })
    digits, hyphens = _n(v, "domain.label_digits"), _n(v, "domain.label_hyphens")
    if digits or hyphens >= 2:
        counts = [f"{n} {what}" for n, what in ((digits, "digits"), (hyphens, "hyphens")) if n]
        parts.append(" and ".join(counts) + " in the name")
    match = _v(v, "domain.site_name_match")
    if match is not None and match < 0.5:
        parts.append("the site's own name does not match its domain")
    return _sentence("Domain", parts)


def _text_model(v: Values) -> str | None:
    p = _v(v, "text_model.farm_score")
    # the score after the colon: the part before it names the kind of reason (summaries group by it)
    return None if p is None else f"Wording closer to farm pages than to publishers': text model {p:.2f}"


def _date_str(ordinal: float | None) -> str | None:
    if ordinal is None:
        return None
    try:
        return date.fromordinal(int(ordinal)).isoformat()
    except (ValueError, OverflowError):
        return None


DESCRIBERS: dict[str, Callable[[Values], str | None]] = {
    "link_lists": _link_lists, "author": _author, "headline": _headline, "dates": _dates,
    "template": _template, "text_quality": _text_quality, "domain": _domain, "text_model": _text_model,
}
