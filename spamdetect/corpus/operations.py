"""Farm operations: each edits a BeautifulSoup document the way content farms do.

Signature: ``op(soup, story, rng, ctx) -> dict | None``. The dict records what was done and always
has ``evidence``: visible strings the operation put on the page (tests check they survive
rendering). ``None`` means the operation could not apply (e.g. no year to restamp).

Every operation randomises wording (per language, ``phrases``), markup, position and class names
(``ClassNamer``), so no single string, tag or class gives a simulated farm away.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from bs4 import BeautifulSoup, NavigableString, Tag

from spamdetect.corpus import fakes
from spamdetect.corpus import phrases as ph
from spamdetect.corpus.story import Story
from spamdetect.page import normalize_space

# ----- class names ------------------------------------------------------------------------------

ROLE_WORDS: dict[str, list[str]] = {
    "related": ["related-posts", "related", "rel-posts", "more-news", "you-may-like", "post-related", "jp-relatedposts",
                "crp_related", "yarpp-related", "td-related-row", "related-articles", "also-read", "more-stories",
                "widget-posts", "recommended", "post-list", "news-list", "article-list", "teaser-list", "links"],
    "ranking": ["ranking", "most-read", "popular-posts", "top-list", "widget_top_posts", "hot-list", "numbered-list",
                "trending-list", "most-popular", "rank-list"],
    "bio": ["author-box", "about-author", "author-bio", "post-author", "author-info", "saboxplugin-wrap", "td-author",
            "author-card", "profile", "writer-box", "byline-box", "author-details"],
    "share": ["share-buttons", "social-share", "sharedaddy", "share-bar", "addtoany", "ssba", "social-icons",
              "sharing", "share-links", "post-share", "heateor_sss", "social"],
    "faq": ["faq", "faq-section", "rank-math-faq", "schema-faq", "accordion", "qa-block", "wp-block-yoast-faq-block",
            "questions"],
    "rating": ["post-ratings", "star-rating", "kk-star-ratings", "rating", "rate", "review-score", "votes", "post-views"],
    "donate": ["donate", "donation-box", "support-us", "bmc-btn", "paypal-box", "cta-box", "support"],
    "credit": ["source", "post-source", "credit", "originally-published", "via", "entry-footer", "article-source"],
    "tags": ["tags", "post-tags", "tagcloud", "tag-links", "keywords", "entry-tags", "seo-tags"],
    "note": ["note", "notice", "info-box", "callout", "alert", "summary", "intro", "lead"],
    "date": ["date", "post-date", "entry-date", "published", "updated", "meta-date", "timestamp", "posted-on"],
    "widget": ["widget", "sidebar-widget", "widget-area", "block", "box", "panel", "module", "card"],
    "content": ["entry-content", "post-content", "article-body", "story-body", "td-post-content", "post-body",
                "content", "article-content", "single-content", "text", "body-text", "richtext"],
    "ad": ["ad", "ads", "adsbygoogle", "ad-slot", "advert", "banner", "sponsored", "ad-container", "dfp"],
}
PREFIXES = ["td", "jeg", "tie", "mvp", "elementor", "wp-block", "c", "o", "sc", "ct", "gh", "nv", "blog", "site"]
UTIL = ["mt-4", "mb-2", "my-6", "px-4", "py-2", "text-sm", "text-lg", "font-bold", "font-semibold", "flex", "grid",
        "gap-4", "rounded", "shadow", "border", "bg-gray-100", "w-full", "items-center", "space-y-2", "md:w-1/3"]


class ClassNamer:
    """Plausible class names in one site-wide style (WordPress words, BEM, hashed CSS-modules, utilities)."""

    def __init__(self, rng: random.Random):
        self.style = rng.choices(["wp", "bem", "hashed", "utility", "plain"], [0.4, 0.15, 0.15, 0.1, 0.2])[0]
        self.prefix = rng.choice(PREFIXES)
        self.none_prob = rng.uniform(0.05, 0.3)

    def __call__(self, role: str, rng: random.Random) -> str | None:
        if rng.random() < self.none_prob:
            return None
        word = rng.choice(ROLE_WORDS.get(role, ROLE_WORDS["widget"]))
        if self.style == "hashed":
            return rng.choice([f"css-{fakes.random_token(rng, 6)}", f"sc-{fakes.random_token(rng, 6)} {fakes.random_token(rng, 6)}",
                               f"_{fakes.random_token(rng, 5)}", f"{word.split('-')[0]}_{fakes.random_token(rng, 5)}"])
        if self.style == "utility":
            return " ".join(rng.sample(UTIL, rng.randint(2, 5)))
        if self.style == "bem":
            return f"{self.prefix}-{word.split('-')[0]}__{rng.choice(['list', 'box', 'wrap', 'inner', 'items'])}"
        if self.style == "wp" and rng.random() < 0.4:
            return f"{self.prefix}-{word}" if rng.random() < 0.5 else f"{word} {self.prefix}_{word.split('-')[0]}"
        return word


def cls_attr(ctx: "Ctx", role: str, rng: random.Random) -> str:
    c = ctx.namer(role, rng)
    return f' class="{c}"' if c else ""


# ----- headline pool -------------------------------------------------------------------------------

@dataclass
class HeadlinePool:
    """Headlines of the whole corpus by language, for unrelated link lists."""

    by_lang: dict[str, list[tuple[str, str]]]  # lang -> [(group, headline)]
    all: list[tuple[str, str]]

    @classmethod
    def from_items(cls, items: list[tuple[str, str | None, str]]) -> "HeadlinePool":
        by_lang: dict[str, list[tuple[str, str]]] = {}
        all_ = []
        for group, lang, title in items:
            if not title or len(title) < 20 or len(title.split()) < 3 and len(title) < 30:
                continue  # site names and stubs are no headlines (CJK titles have no spaces: length decides)
            by_lang.setdefault(lang or "", []).append((group, title))
            all_.append((group, title))
        return cls(by_lang, all_)

    def sample(self, rng: random.Random, k: int, lang: str | None, exclude: str, same_lang_prob: float = 0.75) -> list[str]:
        pool = self.by_lang.get(lang or "", [])
        if len(pool) < 3 * k or rng.random() > same_lang_prob:
            pool = self.all
        out: list[str] = []
        for _ in range(6 * k):
            if len(out) >= k or not pool:
                break
            g, t = pool[rng.randrange(len(pool))]
            if g != exclude and t not in out:
                out.append(t)
        return out


# ----- context ---------------------------------------------------------------------------------

@dataclass
class Ctx:
    """Where to put things and in whose name: one per generated document."""

    lang: str  # boilerplate language
    site_name: str
    domain: str
    namer: ClassNamer
    pool: HeadlinePool | None
    group: str
    body: Tag  # element holding the story paragraphs
    outlet: str  # where the story really comes from
    main: Tag | None = None
    sidebar: Tag | None = None
    footer: Tag | None = None
    header: Tag | None = None
    in_place: bool = False
    stamp: datetime | None = None  # set by restamp_date
    extra: dict = field(default_factory=dict)

    @property
    def year(self) -> int:
        return self.stamp.year if self.stamp else self.extra.get("story_year") or 2020


def fragment(html: str) -> Tag:
    """Parse a small HTML snippet into one element (wrapped in a div if it has several roots)."""
    frag = BeautifulSoup(html, "html.parser")
    roots = [c for c in frag.contents if isinstance(c, Tag)]
    if len(roots) == 1:
        return roots[0].extract()
    div = frag.new_tag("div")
    for c in list(frag.contents):
        div.append(c.extract())
    return div


def story_elements(ctx: Ctx) -> list[Tag]:
    """The paragraph elements of the story (as located in the page), else the <p>s of ``ctx.body``."""
    els = [e for e in ctx.extra.get("story_els") or () if e.parent is not None]
    return els or ctx.body.find_all("p") or [ctx.body]


def place(block: Tag, rng: random.Random, ctx: Ctx, weights: dict[str, float]) -> str:
    """Insert ``block`` at one of the weighted positions that exist in this document; returns the position."""
    options = {k: w for k, w in weights.items() if w > 0 and _available(k, ctx)}
    if not options:
        options = {"body_end": 1.0}
    where = rng.choices(list(options), list(options.values()))[0]
    paras = story_elements(ctx)
    if where == "after_body":
        ctx.body.insert_after(block)
    elif where == "before_body":
        ctx.body.insert_before(block)
    elif where == "body_end":
        ctx.body.append(block)
    elif where == "body_start":
        ctx.body.insert(0, block)
    elif where == "body_mid":
        anchor = paras[rng.randrange(1, max(2, len(paras) - 1))] if len(paras) > 2 else paras[-1]
        anchor.insert_after(block)
    elif where == "after_first":
        paras[0].insert_after(block)
    elif where == "sidebar":
        ctx.sidebar.insert(rng.randint(0, len(ctx.sidebar.contents)), block)
    elif where == "footer":
        ctx.footer.insert_before(block)
    elif where == "header":
        ctx.header.insert_after(block)
    return where


def _available(where: str, ctx: Ctx) -> bool:
    if where == "sidebar":
        return ctx.sidebar is not None
    if where == "footer":
        return ctx.footer is not None and ctx.footer.parent is not None
    if where == "header":
        return ctx.header is not None and ctx.header.parent is not None
    if where in ("after_body", "before_body"):
        return ctx.body.parent is not None and ctx.body.name not in ("body", "html")
    return True


def _heading(rng: random.Random, ctx: Ctx, text: str, tags=("h2", "h3", "h3", "h4", "div", "span", "strong", "p")) -> str:
    tag = rng.choice(tags)
    c = ctx.namer("widget", rng) if tag in ("div", "span", "p") else None
    c = c or (rng.choice(["widget-title", "section-title", "block-title", "title", "heading"]) if rng.random() < 0.5 else None)
    cl = f' class="{c}"' if c else ""
    return f"<{tag}{cl}>{escape(text)}</{tag}>"


def _href(rng: random.Random, ctx: Ctx, headline: str) -> str:
    if rng.random() < 0.85:
        url = fakes.farm_url(rng, ctx.domain, headline)
        return url if rng.random() < 0.6 else re.sub(r"^https?://[^/]+", "", url)
    return fakes.farm_url(rng, fakes.farm_site(rng, ctx.lang)[1], headline)


def _spun_title(title: str, rng: random.Random, lang: str | None) -> str:
    spun, swaps = fakes.spin_text(title, rng, lang or "en", rate=0.8)
    return spun if swaps else f"{title} {rng.choice(['- update', '(video)', '| full story', ':) ', '!!'])}".strip()


# ----- operations ------------------------------------------------------------------------------------

def add_link_lists(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx, n_lists: int | None = None) -> dict:
    """Related / Ranking / Trending / Don't Miss lists of other corpus headlines, mostly unrelated."""
    n_lists = n_lists or rng.choices([1, 2, 3], [0.5, 0.35, 0.15])[0]
    lists, evidence = [], []
    for _ in range(n_lists):
        kind = rng.choices(["related", "ranking", "recent"], [0.65, 0.2, 0.15])[0]
        label = ph.pick(ctx.lang, kind, rng).format(site=ctx.site_name)
        k = rng.randint(3, 12)
        heads = ctx.pool.sample(rng, k, story.lang, ctx.group) if ctx.pool else []
        if len(heads) < 2:
            heads = [f"{fakes.topic_phrase(story.title, story.paragraphs, rng)} {i}" for i in range(k)]
        related = 0
        if rng.random() < 0.25:  # farms sometimes list a paraphrase of the story itself
            heads.insert(rng.randrange(len(heads) + 1), _spun_title(story.title, rng, story.lang))
            related = 1
        numbered = kind == "ranking" or rng.random() < 0.1
        markup = rng.choice(["ul", "ul", "ol", "cards", "divs", "table", "plain"])
        items = []
        for i, h in enumerate(heads, 1):
            text = f"{i}. {h}" if numbered and markup != "ol" and rng.random() < 0.7 else h
            a = f'<a href="{escape(_href(rng, ctx, h))}">{escape(text)}</a>'
            extra = ""
            if rng.random() < 0.2:
                extra = f" <span>{escape(fakes.view_count(rng, ctx.lang))}</span>"
            items.append((a, extra))
        if markup in ("ul", "ol"):
            inner = f"<{markup}>" + "".join(f"<li>{a}{x}</li>" for a, x in items) + f"</{markup}>"
        elif markup == "cards":
            inner = "".join(
                f'<div{cls_attr(ctx, "widget", rng)}><img src="/wp-content/uploads/{rng.randint(2015, 2025)}/'
                f'{fakes.random_token(rng, 8)}.jpg" alt=""><{(t := rng.choice(["h3", "h4", "h5", "p"]))}>{a}</{t}>{x}</div>'
                for a, x in items)
        elif markup == "divs":
            inner = "".join(f"<div>{a}{x}</div>" for a, x in items)
        elif markup == "table":
            inner = "<table><tbody>" + "".join(f"<tr><td>{a}{x}</td></tr>" for a, x in items) + "</tbody></table>"
        else:
            inner = "<p>" + "<br>".join(a for a, _ in items) + "</p>"
        show_label = rng.random() < 0.92
        head = _heading(rng, ctx, label) if show_label else ""
        wrap = rng.choice(["div", "section", "aside", "nav", "div"])
        block = fragment(f"<{wrap}{cls_attr(ctx, kind if kind != 'recent' else 'related', rng)}>{head}{inner}</{wrap}>")
        where = place(block, rng, ctx, {"after_body": 4, "body_end": 1.5, "sidebar": 3, "body_mid": 1, "footer": 1,
                                        "before_body": 0.5})
        lists.append({"kind": kind, "label": label if show_label else "", "n": len(heads), "numbered": numbered,
                      "markup": markup, "where": where, "self_related": related})
        evidence += ([label] if show_label else []) + [heads[0]]
    return {"lists": lists, "evidence": evidence}


def plant_bio(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A fake author profile: honorific name, nonsense job, address, phone, e-mail, hobbies, 'My name is X'."""
    lang = ctx.lang
    name = fakes.person_name(rng, lang, honorific_prob=0.6)
    topic = fakes.topic_phrase(story.title, story.paragraphs, rng)
    fields = {"job": rng.random() < 0.75, "address": rng.random() < 0.55, "phone": rng.random() < 0.5,
              "email": rng.random() < 0.6, "hobbies": rng.random() < 0.55, "bio": rng.random() < 0.85}
    if not any(fields.values()):
        fields["bio"] = True
    parts = [f'<img src="/avatars/{fakes.random_token(rng, 10)}.jpg" alt="{escape(name)}">' if rng.random() < 0.6 else "",
             _heading(rng, ctx, ph.pick(lang, "bio_head", rng), ("h3", "h4", "div", "span", "strong")) if rng.random() < 0.7 else ""]
    tag = rng.choice(["h4", "strong", "p", "div"])
    parts.append(f"<{tag}>{escape(name)}</{tag}>")
    evidence = [name]
    details: dict = {"name": name}
    label_style = rng.random() < 0.6
    def line(key: str, value: str) -> str:
        lab = ph.pick(lang, key, rng)
        return f"<p>{escape(lab)}: {escape(value)}</p>" if label_style else f"<p>{escape(value)}</p>"
    if fields["job"]:
        job = fakes.job_title(rng, lang)
        parts.append(f"<p>{escape(job)}</p>")
        details["job"] = job
    if fields["bio"]:
        bio = fakes.bio_text(rng, lang, name, topic)
        parts.append(f"<p>{escape(bio)}</p>")
        details["bio"] = bio
        evidence.append(bio)
    if fields["address"]:
        parts.append(line("address", fakes.street_address(rng, lang)))
    if fields["phone"]:
        parts.append(line("phone", fakes.phone_number(rng, lang)))
    if fields["email"]:
        parts.append(line("email", fakes.email_for(rng, name, ctx.domain)))
    if fields["hobbies"]:
        hb = fakes.hobbies(rng, lang)
        parts.append(line("hobbies", ", ".join(hb)) if rng.random() < 0.6 else
                     f"<p>{escape(ph.pick(lang, 'hobbies', rng))}:</p><ul>" + "".join(f"<li>{escape(h)}</li>" for h in hb) + "</ul>")
    details["fields"] = [k for k, v in fields.items() if v]
    wrap = rng.choice(["div", "section", "aside", "div"])
    block = fragment(f"<{wrap}{cls_attr(ctx, 'bio', rng)}>{''.join(parts)}</{wrap}>")
    details["where"] = place(block, rng, ctx, {"after_body": 4, "body_end": 2, "sidebar": 2, "before_body": 0.5})
    if rng.random() < 0.6:  # byline under the headline too
        byline = fragment(f'<p{cls_attr(ctx, "date", rng)}>{escape(ph.pick(lang, "by", rng))} <a href="/author/{fakes.slug_ascii(name) or "admin"}/">{escape(name)}</a></p>')
        _after_h1(soup, ctx, byline)
    if rng.random() < 0.5:
        _set_meta(soup, "author", name, attr="name")
    return {**details, "evidence": evidence}


def _after_h1(soup: BeautifulSoup, ctx: Ctx, block: Tag) -> None:
    h1 = soup.find("h1")
    if h1 is not None and h1.parent is not None:
        h1.insert_after(block)
    else:
        ctx.body.insert(0, block)


def _set_meta(soup: BeautifulSoup, key: str, value: str, attr: str = "property") -> None:
    head = soup.head or soup.find("html") or soup
    node = soup.find("meta", attrs={attr: key})
    if node is None:
        node = soup.new_tag("meta")
        node[attr] = key
        head.append(node)
    node["content"] = value


def _iso(d: datetime, rng: random.Random) -> str:
    return rng.choice([d.strftime("%Y-%m-%dT%H:%M:%S+00:00"), d.strftime("%Y-%m-%dT%H:%M:%SZ"), d.strftime("%Y-%m-%d"),
                       d.strftime("%Y-%m-%dT%H:%M:%S+02:00")])


def pick_stamp(story: Story, rng: random.Random) -> tuple[datetime, str] | None:
    """A date later than the story's year: a few years on, a recent year, or (flagged) after the crawl."""
    if not story.year:
        return None
    mode = rng.choices(["relative", "recent", "after_crawl"], [0.6, 0.25, 0.15])[0]
    if mode == "recent" and story.year < 2024:
        year = rng.choice([2024, 2025])
    else:
        mode = "relative" if mode == "recent" else mode
        year = story.year + rng.choice([1, 1, 2, 2, 3, 4, 5, 6])
    d = datetime(year, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
    return d, mode


def restamp_date(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict | None:
    """Stamp meta, JSON-LD and a visible line with a date later than the story's year."""
    chosen = pick_stamp(story, rng)
    if chosen is None:
        return None
    stamp, mode = chosen
    ctx.stamp = stamp
    visible = ph.format_date(stamp, ctx.lang, rng)
    label = ph.pick(ctx.lang, "published", rng)
    changed = []
    for key in ("article:published_time", "article:modified_time", "og:updated_time"):
        node = soup.find("meta", attrs={"property": key})
        if node is not None or rng.random() < 0.35:
            _set_meta(soup, key, _iso(stamp, rng))
            changed.append(key)
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or "")
        except (ValueError, TypeError):
            continue
        if _restamp_json(data, _iso(stamp, rng)):
            script.string = json.dumps(data, ensure_ascii=False)
            changed.append("json-ld")
    for t in soup.find_all("time")[:3]:
        t["datetime"] = _iso(stamp, rng)
        if t.string and rng.random() < 0.8:
            t.string = ph.format_date(stamp, ctx.lang, rng)
        changed.append("time")
    iso = stamp.strftime("%Y-%m-%dT%H:%M")
    markup = rng.choice([f'<time datetime="{iso}">{escape(visible)}</time>', escape(visible)])
    block = fragment(f'<div{cls_attr(ctx, "date", rng)}>{escape(label)} {markup}</div>')
    if rng.random() < 0.8:
        _after_h1(soup, ctx, block)
    else:
        place(block, rng, ctx, {"body_end": 1, "before_body": 1})
    return {"stamp": stamp.strftime("%Y-%m-%d"), "mode": mode, "story_year": story.year, "changed": changed,
            "after_crawl": mode == "after_crawl", "evidence": [visible]}


def _restamp_json(data, iso: str) -> bool:
    hit = False
    if isinstance(data, dict):
        for k in ("datePublished", "dateModified", "uploadDate"):
            if k in data:
                data[k] = iso
                hit = True
        for v in data.values():
            if isinstance(v, (dict, list)):
                hit |= _restamp_json(v, iso)
    elif isinstance(data, list):
        for v in data:
            hit |= _restamp_json(v, iso)
    return hit


CLICKBAIT = {"en": ["BREAKING:", "WATCH:", "Shocking:", "Just In:", "UPDATE:", "You won't believe:"],
             "de": ["EILMELDUNG:", "Schock:", "Unglaublich:", "Jetzt bekannt:"],
             "fr": ["URGENT :", "Incroyable :"], "es": ["ÚLTIMA HORA:", "Increíble:"]}


def spin_title(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """Rewrite <title>/<h1>/og:title: year suffix, mismatching site suffix, synonym swaps, template leak, clickbait."""
    title = story.title
    moves = rng.sample(["year", "site", "swap", "leak", "clickbait"], rng.choices([1, 2, 3], [0.5, 0.35, 0.15])[0])
    if "leak" in moves and rng.random() < 0.5:
        moves.remove("leak")
    if not moves:
        moves = ["year"]
    new = title
    if "swap" in moves:
        spun, swaps = fakes.spin_text(new, rng, story.lang or "en", rate=0.9, mangle_prob=0.3)
        new = spun if swaps else new
    if "clickbait" in moves:
        new = f"{rng.choice(CLICKBAIT.get(ctx.lang, CLICKBAIT['en']))} {new}"
    if "year" in moves:
        year = ctx.stamp.year if ctx.stamp else (story.year or 2020) + rng.choice([0, 1, 1, 2, 3])
        new = rng.choice([f"{new} ({year})", f"{new} [{year}]", f"{new} {year}", f"{new} – {year} Update", f"{new} in {year}"])
    if "leak" in moves:
        new = rng.choice([f"{new} %%sep%% %%sitename%%", f"{{{{title}}}} - {new}", f"{new} | {{site_name}}", f"{new} - [Updated]"])
    page_title = new
    if "site" in moves:
        other = rng.choice([ctx.site_name, fakes.outlet_name(rng, ctx.lang), fakes.farm_site(rng, ctx.lang)[0], story.site_name or ctx.site_name])
        page_title = f"{new}{rng.choice([' - ', ' | ', ' – ', ' :: '])}{other}"
    elif rng.random() < 0.6:
        page_title = f"{new}{rng.choice([' - ', ' | '])}{ctx.site_name}"
    head = soup.head or soup.find("html")
    t = soup.find("title")
    if t is None:
        t = soup.new_tag("title")
        head.insert(0, t)
    t.string = page_title
    h1 = soup.find("h1")
    h1_too = rng.random() < 0.7
    if h1 is not None and h1_too:
        h1.clear()
        h1.append(new)
    if soup.find("meta", attrs={"property": "og:title"}) is not None or rng.random() < 0.3:
        _set_meta(soup, "og:title", new)
    return {"moves": moves, "old": title, "new": new, "page_title": page_title, "h1": h1 is not None and h1_too,
            "evidence": [page_title]}


def spin_text(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict | None:
    """Synonym-swap the story paragraphs (some or all), mangling names on the way."""
    lang = story.lang or "en"
    if lang not in fakes.spinner_lexicon():
        return None
    rate = rng.uniform(0.3, 0.95)
    share = rng.uniform(0.4, 1.0)
    mangle = rng.choice([0.0, 0.2, 0.5])
    swaps: list[tuple[str, str]] = []
    spun_texts: list[str] = []
    n_par = 0
    for p in story_elements(ctx):
        if rng.random() > share:
            continue
        strings = [s for s in p.find_all(string=True) if type(s) is NavigableString and len(s) > 20]
        if not strings:
            continue
        n_par += 1
        for s in strings:
            new, sw = fakes.spin_text(str(s), rng, lang, rate=rate, mangle_prob=mangle)
            if sw:
                s.replace_with(new)
                swaps.extend(sw)
                spun_texts.append(new)
    # evidence: a replacement that survived later swaps (a name can be mangled after a synonym swap)
    final = normalize_space(" ".join(spun_texts))
    ev = [new for _, new in swaps if len(new) >= 4 and normalize_space(new) in final]
    if not ev:
        return None
    return {"rate": round(rate, 2), "paragraphs": n_par, "n_swaps": len(swaps),
            "examples": [list(x) for x in swaps[:8]], "evidence": [ev[0]]}


def add_faq(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """An auto-generated FAQ about the story's topic (sometimes with FAQPage JSON-LD)."""
    topic = fakes.topic_phrase(story.title, story.paragraphs, rng)
    sentences = [s for p in story.paragraphs[:10] for s in re.split(r"(?<=[.!?])\s+", p) if 40 < len(s) < 300]
    items = fakes.faq_items(rng, ctx.lang, topic, sentences, rng.randint(3, 6))
    heading = ph.pick(ctx.lang, "faq", rng)
    markup = rng.choice(["h3p", "dl", "details", "strongp"])
    if markup == "h3p":
        qa = "".join(f"<h3>{escape(q)}</h3><p>{escape(a)}</p>" for q, a in items)
    elif markup == "dl":
        qa = "<dl>" + "".join(f"<dt>{escape(q)}</dt><dd>{escape(a)}</dd>" for q, a in items) + "</dl>"
    elif markup == "details":
        qa = "".join(f"<details><summary>{escape(q)}</summary><p>{escape(a)}</p></details>" for q, a in items)
    else:
        qa = "".join(f"<p><strong>{escape(q)}</strong></p><p>{escape(a)}</p>" for q, a in items)
    block = fragment(f'<div{cls_attr(ctx, "faq", rng)}><h2>{escape(heading)}</h2>{qa}</div>'
                     if rng.random() < 0.8 else f'<section{cls_attr(ctx, "faq", rng)}>{_heading(rng, ctx, heading, ("h2", "h3", "strong"))}{qa}</section>')
    where = place(block, rng, ctx, {"after_body": 3, "body_end": 4, "body_mid": 0.5})
    if rng.random() < 0.4:
        ld = {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": [
            {"@type": "Question", "name": q, "acceptedAnswer": {"@type": "Answer", "text": a}} for q, a in items]}
        s = soup.new_tag("script", type="application/ld+json")
        s.string = json.dumps(ld, ensure_ascii=False)
        (soup.head or soup.find("html")).append(s)
    return {"heading": heading, "n": len(items), "markup": markup, "where": where, "topic": topic,
            "evidence": [heading, items[0][0]]}


def _share_block(rng: random.Random, ctx: Ctx, n: int, label_prob: float) -> tuple[Tag, list[str], str]:
    nets = fakes.share_networks(rng, n)
    page_url = fakes.farm_url(rng, ctx.domain, "x")
    base = {"Facebook": "https://www.facebook.com/sharer/sharer.php?u=", "Twitter": "https://twitter.com/intent/tweet?url=",
            "X": "https://x.com/intent/tweet?url=", "WhatsApp": "https://api.whatsapp.com/send?text=",
            "Pinterest": "https://pinterest.com/pin/create/button/?url=", "LinkedIn": "https://www.linkedin.com/shareArticle?url=",
            "Reddit": "https://reddit.com/submit?url=", "Telegram": "https://t.me/share/url?url=", "Email": "mailto:?body="}
    labelled = rng.random() < label_prob
    verb = rng.random() < 0.3
    links, shown = [], []
    for net in nets:
        href = base.get(net, f"https://{net.lower().replace(' ', '')}.com/share?url=") + page_url
        text = (f"Share on {net}" if verb and ctx.lang == "en" else net) if labelled else ""
        if text:
            shown.append(text)
        icon = f'<i class="fa fa-{net.lower().replace(" ", "-")}"></i>' if rng.random() < 0.5 else ""
        links.append(f'<a href="{escape(href)}" title="{escape(net)}" rel="nofollow noopener" target="_blank">{icon}{escape(text)}</a>')
    head = ""
    if not labelled or rng.random() < 0.5:
        head_text = ph.pick(ctx.lang, "share", rng)
        if rng.random() < 0.4:
            head_text = f"{fakes.share_count(rng)} {head_text}"
        head = f"<span>{escape(head_text)}</span>"
        shown.insert(0, head_text)
    inner = rng.choice(["".join(links), "<ul>" + "".join(f"<li>{a}</li>" for a in links) + "</ul>"])
    return fragment(f'<div{cls_attr(ctx, "share", rng)}>{head}{inner}</div>'), shown, "labelled" if labelled else "icons"


def add_share_wall(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A wall of 6-18 share buttons, above and/or below the story."""
    n = rng.randint(6, 18)
    block, shown, style = _share_block(rng, ctx, n, label_prob=0.7)
    where = [place(block, rng, ctx, {"before_body": 2, "after_body": 2, "body_end": 1, "header": 0.5})]
    if rng.random() < 0.35:
        block2, _, _ = _share_block(rng, ctx, n, label_prob=0.0)
        where.append(place(block2, rng, ctx, {"after_body": 1, "body_end": 1, "before_body": 1}))
    return {"n": n, "style": style, "where": where, "evidence": shown[:1]}


def add_template_leak(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A leaked placeholder, spintax or file path in a paragraph, heading, link or caption."""
    kind, text = fakes.template_leak(rng)
    spot = rng.choice(["paragraph", "paragraph", "inline", "heading", "caption", "list"])
    if spot == "inline":
        paras = story_elements(ctx)
        p = paras[rng.randrange(len(paras))]
        p.append(" " + text)
    else:
        html = {"paragraph": f"<p>{escape(text)}</p>", "heading": f"<h3>{escape(text)}</h3>",
                "caption": f'<figure><img src="/img/{fakes.random_token(rng, 8)}.jpg" alt="{escape(text)}"><figcaption>{escape(text)}</figcaption></figure>',
                "list": f'<ul><li><a href="/{fakes.random_token(rng, 6)}/">{escape(text)}</a></li></ul>'}[spot]
        place(fragment(html), rng, ctx, {"body_mid": 2, "body_end": 2, "body_start": 1, "after_body": 1})
    if rng.random() < 0.2:
        _set_meta(soup, "description", f"{text} {story.description[:100]}".strip(), attr="name")
    return {"kind": kind, "text": text, "spot": spot, "evidence": [text]}


def add_fake_rating(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A star/vote rating with implausible counts, often with a view counter."""
    text, value, votes = fakes.fake_rating(rng, ctx.lang)
    parts = [f"<span>{escape(text)}</span>"]
    views = None
    if rng.random() < 0.5:
        views = fakes.view_count(rng, ctx.lang)
        parts.append(f"<span>{escape(views)}</span>")
    if rng.random() < 0.5:
        parts.insert(0, f"<span>{escape(ph.pick(ctx.lang, 'rating', rng))}</span>")
    block = fragment(f'<div{cls_attr(ctx, "rating", rng)}>{" ".join(parts)}</div>')
    if rng.random() < 0.5:
        _after_h1(soup, ctx, block)
        where = "after_h1"
    else:
        where = place(block, rng, ctx, {"after_body": 2, "body_end": 2, "before_body": 1})
    if rng.random() < 0.3:
        s = soup.new_tag("script", type="application/ld+json")
        s.string = json.dumps({"@context": "https://schema.org", "@type": "CreativeWorkSeries", "name": story.title,
                               "aggregateRating": {"@type": "AggregateRating", "ratingValue": str(value), "bestRating": "5",
                                                   "ratingCount": str(votes)}}, ensure_ascii=False)
        (soup.head or soup.find("html")).append(s)
    return {"text": text, "value": value, "votes": votes, "views": views, "where": where, "evidence": [text]}


def add_donation(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """A donation appeal with PayPal / coffee / Patreon button."""
    text = fakes.donation_text(rng, ctx.lang, ctx.site_name)
    btn = ph.pick(ctx.lang, "donate_btn", rng)
    handle = fakes.slug_ascii(ctx.site_name, "") or fakes.random_token(rng)
    href = rng.choice([f"https://www.paypal.me/{handle}", f"https://www.buymeacoffee.com/{handle}",
                       f"https://www.patreon.com/{handle}", f"https://ko-fi.com/{handle}", "/donate/"])
    block = fragment(f'<div{cls_attr(ctx, "donate", rng)}><p>{escape(text)}</p><a href="{href}">{escape(btn)}</a></div>')
    where = place(block, rng, ctx, {"after_body": 3, "body_end": 2, "sidebar": 1.5, "body_mid": 0.5})
    return {"text": text, "where": where, "evidence": [text]}


def add_originally_appeared(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """'This story originally appeared on X' / 'The post T appeared first on X' credit line."""
    outlet = ctx.outlet if rng.random() < 0.7 else fakes.outlet_name(rng, ctx.lang)
    text = fakes.originally_appeared(rng, ctx.lang, outlet, story.title)
    if rng.random() < 0.4 and outlet in text:
        before, after = text.split(outlet, 1)
        url = story.url or f"https://{fakes.slug_ascii(outlet, '')}.com/"
        html = f'{escape(before)}<a href="{escape(url)}" rel="nofollow">{escape(outlet)}</a>{escape(after)}'
    else:
        html = escape(text)
    tag = rng.choice(["p", "p", "div", "em"])
    block = fragment(f'<{tag}{cls_attr(ctx, "credit", rng)}>{html}</{tag}>')
    where = place(block, rng, ctx, {"body_end": 5, "after_body": 2, "body_start": 1})
    return {"outlet": outlet, "text": text, "where": where, "evidence": [text]}


def add_keyword_stuffing(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """Stuffed search phrases: a tag list, a paragraph of them, repeated keywords in the text, meta keywords."""
    kws = fakes.topic_words(story.title, story.paragraphs, rng.randint(2, 5)) or ["news"]
    phrases = fakes.keyword_stuffing(rng, ctx.lang, kws, ctx.year)
    form = rng.choice(["tags", "paragraph", "inline", "hidden"])
    if form == "tags":
        label = ph.pick(ctx.lang, "tags", rng)
        links = " ".join(f'<a href="/tag/{fakes.slug_ascii(p) or fakes.random_token(rng)}/" rel="tag">{escape(p)}</a>' for p in phrases)
        block = fragment(f'<div{cls_attr(ctx, "tags", rng)}><span>{escape(label)}</span> {links}</div>')
        place(block, rng, ctx, {"after_body": 3, "body_end": 2, "sidebar": 1})
        evidence = [phrases[0]]
    elif form == "paragraph":
        text = rng.choice([", ", " | ", " - ", " "]).join(phrases)
        place(fragment(f"<p>{escape(text)}</p>"), rng, ctx, {"body_end": 3, "after_body": 2, "body_start": 0.5})
        evidence = [phrases[0]]
    elif form == "inline":
        paras = story_elements(ctx)
        for p in rng.sample(paras, min(len(paras), rng.randint(2, 5))):
            p.append(" " + rng.choice(phrases) + ".")
        evidence = []
        for p in paras:
            evidence = [s for s in phrases if s in p.get_text()]
            if evidence:
                break
        evidence = evidence[:1]
    else:  # hidden text: visible to the parser, not to people
        text = " ".join(phrases)
        style = rng.choice(["display:none", "font-size:0", "color:#fff;font-size:1px", "position:absolute;left:-9999px"])
        place(fragment(f'<div style="{style}">{escape(text)}</div>'), rng, ctx, {"body_end": 2, "after_body": 2, "footer": 1})
        evidence = [phrases[0]]
    if rng.random() < 0.5:
        _set_meta(soup, "keywords", ", ".join(phrases[:20]), attr="name")
    return {"form": form, "keywords": kws, "n": len(phrases), "evidence": evidence}


def add_ai_boilerplate(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx) -> dict:
    """LLM leftovers ('As an AI language model...', 'In conclusion...') and sometimes a Key-Takeaways list."""
    topic = fakes.topic_phrase(story.title, story.paragraphs, rng)
    lines = fakes.ai_boilerplate(rng, ctx.lang, topic, rng.choice([1, 1, 2]))
    evidence = []
    for s in lines:
        place(fragment(f"<p>{escape(s)}</p>"), rng, ctx, {"body_start": 2, "body_end": 3, "after_first": 1})
        evidence.append(s)
    takeaways = rng.random() < 0.35
    if takeaways:
        sents = [s for p in story.paragraphs[:6] for s in re.split(r"(?<=[.!?])\s+", p) if 30 < len(s) < 200][:4]
        if sents:
            head = ph.pick(ctx.lang, "takeaways", rng)
            block = fragment(f'<div{cls_attr(ctx, "note", rng)}><h2>{escape(head)}</h2><ul>'
                             + "".join(f"<li>{escape(s)}</li>" for s in sents) + "</ul></div>")
            place(block, rng, ctx, {"body_start": 3, "before_body": 1})
            evidence.append(head)
    return {"lines": lines, "takeaways": takeaways, "evidence": evidence}


OPERATIONS: dict[str, Callable[..., dict | None]] = {
    "restamp_date": restamp_date,  # before spin_title: the year suffix follows the stamp
    "spin_title": spin_title,
    "spin_text": spin_text,  # before inserting blocks: only the story's own paragraphs get spun
    "add_link_lists": add_link_lists,
    "plant_bio": plant_bio,
    "add_faq": add_faq,
    "add_share_wall": add_share_wall,
    "add_template_leak": add_template_leak,
    "add_fake_rating": add_fake_rating,
    "add_donation": add_donation,
    "add_originally_appeared": add_originally_appeared,
    "add_keyword_stuffing": add_keyword_stuffing,
    "add_ai_boilerplate": add_ai_boilerplate,
}
OP_ORDER = list(OPERATIONS)


def run_operations(soup: BeautifulSoup, story: Story, rng: random.Random, ctx: Ctx, names: list[str]) -> list[dict]:
    """Apply the named operations in canonical order; returns the records of those that applied."""
    done = []
    for name in sorted(set(names), key=OP_ORDER.index):
        rec = OPERATIONS[name](soup, story, rng, ctx)
        if rec is not None and rec.get("evidence"):
            done.append({"op": name, **rec})
    return done


def visible_ok(evidence: str, text: str) -> bool:
    """Evidence survives rendering (whitespace-normalised substring)."""
    return normalize_space(evidence) in text
