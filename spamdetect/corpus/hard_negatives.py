"""Hard negatives: real pages given legitimate features that look farm-like on the surface.

Local papers run wire copy with credit lines, real sites have on-topic related links, short
journalist bios and a few share buttons, nonprofits ask for support, and Creative-Commons outlets
republish with a note. These augmentations keep label 0 (variant "legit_aug") so the model learns
the difference between such signs and farm signs, not their mere presence. They use the same
class-name pools and markup helpers as the farm operations, so markup is no tell either.
"""

from __future__ import annotations

import random
import re
from html import escape

from bs4 import BeautifulSoup

from spamdetect.corpus import fakes
from spamdetect.corpus import phrases as ph
from spamdetect.corpus.operations import Ctx, _heading, _share_block, cls_attr, fragment, place, story_elements
from spamdetect.corpus.story import Story


def _agency(rng: random.Random, lang: str) -> str:
    return rng.choice(ph.AGENCIES.get(lang) or ph.AGENCIES["en"])


def add_wire_credit(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """'WASHINGTON (AP) — ' dateline on the first paragraph and/or a wire tail line."""
    lang = ctx.lang
    agency = _agency(rng, lang)
    evidence = []
    form = rng.choice(["dateline", "tail", "both"])
    if form in ("dateline", "both"):
        p = story_elements(ctx)[0]
        city = rng.choice(ph.CITIES.get(lang) or ph.CITIES["en"])
        prefix = ph.pick(lang, "wire_credit", rng).format(agency=agency, city=city)
        p.insert(0, prefix)
        evidence.append(prefix.strip(" —-–"))
    if form in ("tail", "both"):
        tail = ph.pick(lang, "wire_tail", rng).format(
            agency=ph.AGENCY_LONG.get(agency, agency) if rng.random() < 0.5 else agency, agency2=_agency(rng, lang),
            name=fakes.person_name(rng, lang), name2=fakes.person_name(rng, lang), year=story.year or 2020,
            outlet=fakes.outlet_name(rng, lang))
        tag = rng.choice(["p", "em", "p", "div"])
        place(fragment(f'<{tag}{cls_attr(ctx, "credit", rng)}>{escape(tail)}</{tag}>'), rng, ctx, {"body_end": 4, "after_body": 1})
        evidence.append(tail)
    return {"agency": agency, "form": form, "evidence": evidence}


def on_topic_headlines(story: Story, rng: random.Random, k: int) -> list[str]:
    """Headline-like strings from the story's own sentences and topic words (a real site's follow-ups)."""
    sents = [s.strip() for p in story.paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if 30 < len(s) < 400]
    rng.shuffle(sents)
    topic = fakes.topic_phrase(story.title, story.paragraphs, rng)
    out = []
    for s in sents[:k]:
        w = s.rstrip(".!?").split()
        cut = w[: rng.randint(6, 12)]
        head = " ".join(cut)
        out.append(head if rng.random() < 0.6 else f"{topic}: {head}")
    return out


def add_on_topic_related(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict | None:
    """A short related list whose headlines come from this story's own topic."""
    heads = on_topic_headlines(story, rng, rng.randint(2, 5))
    if len(heads) < 2:
        return None
    label = ph.pick(ctx.lang, rng.choice(["more_on", "related"]), rng).format(site=story.site_name or ctx.site_name)
    base = f"https://{ctx.domain}" if ctx.domain else ""
    items = "".join(f'<li><a href="{base}/{fakes.slug_ascii(h) or fakes.random_token(rng)}">{escape(h)}</a></li>' for h in heads)
    block = fragment(f'<div{cls_attr(ctx, "related", rng)}>{_heading(rng, ctx, label)}<ul>{items}</ul></div>')
    where = place(block, rng, ctx, {"after_body": 3, "body_end": 2, "body_mid": 1})
    return {"label": label, "n": len(heads), "where": where, "evidence": [label, heads[0]]}


def add_journalist_bio(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A short, plain journalist bio: name, beat, outlet e-mail; no honorifics, hobbies or street address."""
    lang = ctx.lang
    name = fakes.person_name(rng, lang)
    email = f"{fakes.slug_ascii(name, '.') or 'redaktion'}@{ctx.domain or 'example.org'}"
    text = ph.pick(lang, "j_bio", rng).format(name=name, site=story.site_name or ctx.site_name,
                                              beat=ph.pick(lang, "beats", rng), email=email,
                                              year0=(story.year or 2018) - rng.randint(2, 20))
    block = fragment(f'<div{cls_attr(ctx, "bio", rng)}><p>{escape(text)}</p></div>')
    where = place(block, rng, ctx, {"after_body": 3, "body_end": 2})
    return {"name": name, "text": text, "where": where, "evidence": [text]}


def add_few_share_buttons(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """Two to five share buttons, as most news sites have."""
    block, shown, style = _share_block(rng, ctx, rng.randint(2, 5), label_prob=0.6)
    where = place(block, rng, ctx, {"before_body": 2, "after_body": 2})
    return {"style": style, "where": where, "evidence": shown[:1]}


def add_republish_note(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A legitimate syndication note (Creative Commons republication)."""
    outlet = rng.choice(["The Conversation", "ProPublica", "Kaiser Health News", "Global Voices", "CalMatters"]) \
        if ctx.lang == "en" else fakes.outlet_name(rng, ctx.lang)
    text = rng.choice([f"This article is republished from {outlet} under a Creative Commons license.",
                       f"This story was produced by {outlet} and is republished with permission."]) \
        if ctx.lang == "en" else ph.pick(ctx.lang, "wire_tail", rng).format(agency=outlet, agency2=outlet, name="", name2="",
                                                                           year=story.year or 2020, outlet=outlet)
    place(fragment(f'<p{cls_attr(ctx, "credit", rng)}><em>{escape(text)}</em></p>'), rng, ctx, {"body_end": 3, "body_start": 1})
    return {"outlet": outlet, "evidence": [text]}


def add_support_appeal(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A newsroom's membership appeal (Guardian/NPR style): real sites ask for support too."""
    text = ph.pick(ctx.lang, "legit_donate", rng).format(site=story.site_name or ctx.site_name)
    place(fragment(f'<aside{cls_attr(ctx, "donate", rng)}><p>{escape(text)}</p><a href="/support">{escape(ph.pick(ctx.lang, "donate_btn", rng))}</a></aside>'),
          rng, ctx, {"after_body": 3, "sidebar": 1})
    return {"evidence": [text]}


HARD_NEGATIVES = {
    "add_wire_credit": (add_wire_credit, 0.45),
    "add_on_topic_related": (add_on_topic_related, 0.45),
    "add_journalist_bio": (add_journalist_bio, 0.35),
    "add_few_share_buttons": (add_few_share_buttons, 0.45),
    "add_republish_note": (add_republish_note, 0.08),
    "add_support_appeal": (add_support_appeal, 0.08),
}


def run_hard_negatives(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> list[dict]:
    """One to three hard-negative augmentations (never none)."""
    names = [n for n, (_, p) in HARD_NEGATIVES.items() if rng.random() < p]
    if not names:
        names = [rng.choice(list(HARD_NEGATIVES)[:4])]
    names = names[:3]
    done = []
    for name in names:
        rec = HARD_NEGATIVES[name][0](soup, story, rng, ctx)
        if rec is not None and rec.get("evidence"):
            done.append({"op": name, **rec})
    return done
