"""Farm template families: skeletons that re-wrap a real story, and in-place farms on the original page.

A family is a page skeleton (head, chrome, where the story goes) plus its own probabilities of farm
operations. ``in_place`` keeps the original page and injects one or two operations (partial
farms); ``cloner`` keeps it and injects many (blatant copy sites). Heads are sampled so that the
presence of meta tags, doctype, JSON-LD and page size follows real pages, not a fixed farm profile.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from html import escape

from bs4 import BeautifulSoup, Comment, Tag

from spamdetect.corpus import fakes
from spamdetect.corpus import phrases as ph
from spamdetect.corpus.hard_negatives import run_hard_negatives
from spamdetect.corpus.operations import OP_ORDER, ClassNamer, Ctx, HeadlinePool, run_operations
from spamdetect.corpus.story import Story, parse_soup, serialize
from spamdetect.domains import registrable_domain
from spamdetect.page import normalize_space

# family -> (operation probabilities, min ops, max ops)
FAMILY_OPS: dict[str, tuple[dict[str, float], int, int]] = {
    "wp_magazine": ({"add_link_lists": 0.95, "plant_bio": 0.6, "restamp_date": 0.5, "spin_title": 0.45, "spin_text": 0.35,
                     "add_faq": 0.15, "add_share_wall": 0.7, "add_template_leak": 0.1, "add_fake_rating": 0.25,
                     "add_donation": 0.1, "add_originally_appeared": 0.35, "add_keyword_stuffing": 0.3,
                     "add_ai_boilerplate": 0.1}, 2, 9),
    "blogspot_clone": ({"add_link_lists": 0.5, "plant_bio": 0.3, "restamp_date": 0.4, "spin_title": 0.5, "spin_text": 0.6,
                        "add_faq": 0.1, "add_share_wall": 0.5, "add_template_leak": 0.2, "add_fake_rating": 0.1,
                        "add_donation": 0.15, "add_originally_appeared": 0.5, "add_keyword_stuffing": 0.45,
                        "add_ai_boilerplate": 0.1}, 1, 8),
    "aggregator_grid": ({"add_link_lists": 1.0, "plant_bio": 0.15, "restamp_date": 0.5, "spin_title": 0.3, "spin_text": 0.2,
                         "add_share_wall": 0.5, "add_template_leak": 0.1, "add_fake_rating": 0.35, "add_donation": 0.05,
                         "add_originally_appeared": 0.7, "add_keyword_stuffing": 0.3}, 2, 8),
    "ai_rewrite": ({"add_link_lists": 0.5, "plant_bio": 0.5, "restamp_date": 0.4, "spin_title": 0.6, "spin_text": 0.85,
                    "add_faq": 0.7, "add_share_wall": 0.4, "add_template_leak": 0.15, "add_fake_rating": 0.2,
                    "add_keyword_stuffing": 0.35, "add_ai_boilerplate": 0.75}, 2, 9),
    "minimal_ads": ({"add_link_lists": 0.45, "plant_bio": 0.15, "restamp_date": 0.35, "spin_title": 0.3, "spin_text": 0.3,
                     "add_share_wall": 0.35, "add_template_leak": 0.1, "add_fake_rating": 0.3, "add_donation": 0.1,
                     "add_originally_appeared": 0.3, "add_keyword_stuffing": 0.2}, 1, 3),
    "news_portal": ({"add_link_lists": 0.95, "plant_bio": 0.45, "restamp_date": 0.6, "spin_title": 0.45, "spin_text": 0.25,
                     "add_faq": 0.1, "add_share_wall": 0.6, "add_template_leak": 0.05, "add_fake_rating": 0.3,
                     "add_donation": 0.1, "add_originally_appeared": 0.3, "add_keyword_stuffing": 0.2,
                     "add_ai_boilerplate": 0.05}, 2, 9),
    "cloner": ({"add_link_lists": 0.7, "plant_bio": 0.4, "restamp_date": 0.5, "spin_title": 0.5, "spin_text": 0.5,
                "add_faq": 0.25, "add_share_wall": 0.5, "add_template_leak": 0.15, "add_fake_rating": 0.3,
                "add_donation": 0.15, "add_originally_appeared": 0.4, "add_keyword_stuffing": 0.4,
                "add_ai_boilerplate": 0.15}, 3, 8),
    "theme_clone": ({"add_link_lists": 0.6, "plant_bio": 0.45, "restamp_date": 0.5, "spin_title": 0.5, "spin_text": 0.45,
                     "add_faq": 0.2, "add_share_wall": 0.45, "add_template_leak": 0.15, "add_fake_rating": 0.3,
                     "add_donation": 0.15, "add_originally_appeared": 0.45, "add_keyword_stuffing": 0.35,
                     "add_ai_boilerplate": 0.15}, 2, 8),
    # partial farms: one or two signs on an otherwise real page
    "in_place": ({"add_link_lists": 2.0, "plant_bio": 1.5, "restamp_date": 1.5, "spin_title": 1.5, "spin_text": 1.0,
                  "add_faq": 0.8, "add_share_wall": 0.8, "add_template_leak": 0.6, "add_fake_rating": 0.8,
                  "add_donation": 0.6, "add_originally_appeared": 0.8, "add_keyword_stuffing": 0.8,
                  "add_ai_boilerplate": 0.6}, 1, 2),
}
TEMPLATE_FAMILIES = ("wp_magazine", "blogspot_clone", "aggregator_grid", "ai_rewrite", "minimal_ads", "news_portal")
DONOR_FAMILIES = ("theme_clone",)  # a farm on another real page's theme
IN_PLACE_FAMILIES = ("in_place", "cloner")
FAMILIES = TEMPLATE_FAMILIES + DONOR_FAMILIES + IN_PLACE_FAMILIES
DONOR_CHROME_PROB = 0.85  # template farms that borrow a real theme's header/footer/sidebar
# how often each family is drawn for a farm variant
FAMILY_WEIGHTS = {"in_place": 0.22, "cloner": 0.09, "theme_clone": 0.16, "wp_magazine": 0.11, "blogspot_clone": 0.08,
                  "aggregator_grid": 0.08, "ai_rewrite": 0.11, "minimal_ads": 0.07, "news_portal": 0.08}


@dataclass
class Doc:
    """One generated document before it becomes corpus rows."""

    html: str
    family: str
    operations: list[dict]
    url: str | None
    site_domain: str | None
    extra: dict = field(default_factory=dict)

    @property
    def op_names(self) -> list[str]:
        return [o["op"] for o in self.operations]


# ----- choosing operations ---------------------------------------------------------------------------

def choose_operations(family: str, story: Story, rng: random.Random) -> list[str]:
    probs, lo, hi = FAMILY_OPS[family]
    usable = {k: v for k, v in probs.items() if _usable(k, story)}
    if family == "in_place":
        n = rng.choice([1, 1, 2])
        names = []
        pool = dict(usable)
        for _ in range(n):
            pick = rng.choices(list(pool), list(pool.values()))[0]
            names.append(pick)
            pool.pop(pick)
        return names
    names = [k for k, p in usable.items() if rng.random() < p]
    rest = [k for k in usable if k not in names]
    while len(names) < lo and rest:
        k = rng.choices(rest, [usable[r] for r in rest])[0]
        names.append(k)
        rest.remove(k)
    if len(names) > hi:
        names = rng.sample(names, hi)
    return sorted(names, key=OP_ORDER.index)


def _usable(op: str, story: Story) -> bool:
    if op == "restamp_date":
        return story.year is not None
    if op == "spin_text":
        return (story.lang or "en") in fakes.spinner_lexicon()
    return True


# ----- locating the story in a real page -------------------------------------------------------------

def find_story_elements(soup: BeautifulSoup, story: Story) -> tuple[Tag, list[Tag]]:
    """(container, paragraph elements) of the story inside a parsed real page."""
    pset = set(story.paragraphs)
    hits = [p for p in soup.find_all("p") if normalize_space(p.get_text()) in pset]
    if len(hits) < 2:
        more = [el for el in soup.find_all(["div", "td", "li", "span", "font", "blockquote", "section"])
                if not el.find(["div", "p", "td", "li", "section", "table"]) and normalize_space(el.get_text()) in pset]
        hits = hits + more
    # a <div> holding a <span> of the same paragraph matches twice: keep the outer one, or the
    # container chosen below could be a hit itself, and removing the old story would delete it
    inner = {id(d) for h in hits for d in h.descendants}
    hits = [h for h in hits if id(h) not in inner]
    body = soup.body or soup
    if not hits:
        return body, []
    counts: Counter = Counter()
    keep: dict[int, Tag] = {}
    for h in hits:
        for level, anc in enumerate(h.parents):
            if level > 10 or anc.name in ("[document]", "html"):
                break
            counts[id(anc)] += 1
            keep[id(anc)] = anc
    need = max(1, int(0.6 * len(hits)))
    # the deepest ancestor holding most of the story: the article body, not the whole page
    cands = [i for i, c in counts.items() if c >= need]
    best = max(cands, key=lambda i: (len(list(keep[i].parents)))) if cands else id(body)
    return keep.get(best, body), hits


def _chrome_of(soup: BeautifulSoup) -> tuple[Tag | None, Tag | None, Tag | None]:
    return soup.find("header"), soup.find("aside"), soup.find("footer")


# ----- heads -----------------------------------------------------------------------------------------

GENERATORS = ["WordPress 6.4.3", "WordPress 6.2", "WordPress 5.9.3", "Blogger", "Ghost 5.2", "Joomla! - Open Source Content Management",
              "Drupal 10 (https://www.drupal.org)", "Hugo 0.120.4", "Site Kit by Google 1.118.0", "Elementor 3.18.3"]


def make_head(story: Story, rng: random.Random, lang: str, site: str, domain: str, title: str, family: str) -> tuple[str, str, str]:
    """(doctype, <html> open tag, <head> inner) with real-page rates of each meta tag."""
    doctype = rng.choices(["<!DOCTYPE html>", "<!doctype html>", "", '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
                           '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">'], [0.6, 0.2, 0.13, 0.05, 0.02])[0]
    code = story.lang or lang
    html_lang = rng.choice([code, code, f"{code}-{code.upper()}" if code != "en" else "en-US", "en-US" if code == "en" else code])
    html_open = f'<html lang="{html_lang}">' if rng.random() < 0.88 else "<html>"
    desc = (story.description or (story.paragraphs[0] if story.paragraphs else ""))[:rng.randint(120, 170)]
    url = fakes.farm_url(rng, domain, story.title)
    h = []
    if rng.random() < 0.95:
        h.append(rng.choice(['<meta charset="utf-8">', '<meta charset="UTF-8">',
                             '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">']))
    if rng.random() < 0.87:
        h.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    h.append(f"<title>{escape(title)}</title>")
    if rng.random() < 0.82:
        h.append(f'<meta name="description" content="{escape(desc)}">')
    if rng.random() < 0.5:
        h.append(f'<meta name="robots" content="{rng.choice(["index, follow", "max-image-preview:large", "index,follow,max-snippet:-1"])}">')
    if rng.random() < 0.84:
        h.append(f'<link rel="canonical" href="{escape(url)}">')
    if rng.random() < 0.86:
        h.append(f'<meta property="og:title" content="{escape(story.title)}">')
        if rng.random() < 0.97:
            h.append(f'<meta property="og:type" content="{rng.choice(["article", "article", "website"])}">')
        h.append(f'<meta property="og:url" content="{escape(url)}">')
        if rng.random() < 0.8:
            h.append(f'<meta property="og:site_name" content="{escape(site)}">')
        if rng.random() < 0.7:
            h.append(f'<meta property="og:description" content="{escape(desc)}">')
    if rng.random() < 0.74:
        h.append('<meta name="twitter:card" content="summary_large_image">')
    if rng.random() < (0.9 if family == "blogspot_clone" else 0.36):
        gen = "Blogger" if family == "blogspot_clone" else rng.choice(GENERATORS)
        h.append(f'<meta name="generator" content="{gen}">')
    if rng.random() < 0.43 and story.date:
        h.append(f'<meta property="article:published_time" content="{story.date.strftime("%Y-%m-%dT%H:%M:%S+00:00")}">')
    if rng.random() < 0.5:
        ld = {"@context": "https://schema.org", "@type": rng.choice(["NewsArticle", "BlogPosting", "Article"]),
              "headline": story.title[:110], "mainEntityOfPage": url,
              "publisher": {"@type": "Organization", "name": site}}
        if story.date and rng.random() < 0.8:
            ld["datePublished"] = story.date.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        h.append(f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>')
    h += _extra_head(rng, story, site, domain, url, code)
    h += _assets(rng, domain)
    return doctype, html_open, "\n".join(h)


def _extra_head(rng: random.Random, story: Story, site: str, domain: str, url: str, code: str) -> list[str]:
    """The long tail of head tags real CMS pages carry (icons, feeds, verification, more og/twitter)."""
    img = f"https://{domain}/wp-content/uploads/{rng.randint(2015, 2025)}/{rng.randint(1, 12):02d}/{fakes.random_token(rng, 10)}.jpg"
    cands = [f'<meta property="og:image" content="{img}">', '<meta property="og:image:width" content="1200">',
             '<meta property="og:image:height" content="630">', f'<meta property="og:locale" content="{code}_{code.upper()}">',
             f'<meta name="twitter:title" content="{escape(story.title)}">', f'<meta name="twitter:image" content="{img}">',
             f'<meta name="twitter:site" content="@{fakes.slug_ascii(site, "")[:15] or "news"}">',
             f'<meta property="article:section" content="{escape(ph.pick(code, "nav", rng))}">',
             f'<meta property="fb:app_id" content="{rng.randint(10**14, 10**15)}">', '<meta name="theme-color" content="#ffffff">',
             '<meta name="format-detection" content="telephone=no">', '<meta name="referrer" content="no-referrer-when-downgrade">',
             f'<meta name="google-site-verification" content="{fakes.random_token(rng, 40)}">',
             '<meta name="apple-mobile-web-app-capable" content="yes">', '<meta name="msapplication-TileColor" content="#da532c">',
             '<meta http-equiv="X-UA-Compatible" content="IE=edge">', '<meta name="twitter:label1" content="Est. reading time">',
             f'<meta name="twitter:data1" content="{rng.randint(2, 12)} minutes">',
             '<link rel="icon" href="/favicon.ico">', '<link rel="apple-touch-icon" sizes="180x180" href="/apple-touch-icon.png">',
             f'<link rel="alternate" type="application/rss+xml" title="{escape(site)} &raquo; Feed" href="https://{domain}/feed/">',
             f'<link rel="EditURI" type="application/rsd+xml" title="RSD" href="https://{domain}/xmlrpc.php?rsd">',
             f'<link rel="shortlink" href="https://{domain}/?p={rng.randint(100, 99999)}">', '<link rel="preconnect" href="https://fonts.gstatic.com">',
             '<link rel="dns-prefetch" href="//fonts.googleapis.com">', f'<link rel="pingback" href="https://{domain}/xmlrpc.php">',
             '<link rel="manifest" href="/site.webmanifest">', f'<link rel="amphtml" href="{escape(url)}amp/">']
    k = min(len(cands), int(rng.lognormvariate(2.3, 0.6)))
    return rng.sample(cands, k)


def _assets(rng: random.Random, domain: str) -> list[str]:
    """Stylesheets, ad/analytics scripts and inline CSS so farm pages weigh what real pages weigh."""
    out = [f'<link rel="stylesheet" href="/wp-content/themes/{rng.choice(["newsmag", "jnews", "soledad", "publisher", "astra", "generatepress", "theme"])}/style.css?ver={rng.randint(1, 9)}.{rng.randint(0, 20)}">'
           for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.7:
        out.append(f'<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-{rng.randint(10**15, 10**16 - 1)}" crossorigin="anonymous"></script>')
    if rng.random() < 0.6:
        gid = f"G-{fakes.random_token(rng, 10).upper()}"
        out.append(f'<script async src="https://www.googletagmanager.com/gtag/js?id={gid}"></script>'
                   f"<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag('js',new Date());gtag('config','{gid}');</script>")
    n_rules = min(int(rng.lognormvariate(5.5, 1.1)), 6000)  # median ~250 rules, ~12 KB, long tail
    if n_rules > 5:
        pre = rng.choice(["td", "jeg", "post", "entry", "wp", "nav", "btn", "c", "tie", "mvp"])
        props = rng.sample(["margin", "padding", "color", "font-size", "line-height", "border-radius", "width", "max-width",
                            "top", "left", "opacity", "z-index"], 4)
        vals = [rng.randint(0, 99) for _ in range(97)]
        rules = [f".{pre}-{i * 7919 % 99991:x}{{{props[i % 4]}:{vals[i % 97]}px;{props[(i + 1) % 4]}:{vals[(i * 3) % 97]}%}}"
                 for i in range(n_rules)]
        out.append("<style>" + "".join(rules) + "</style>")
    if rng.random() < 0.5:
        blob = json.dumps({"ajaxurl": f"https://{domain}/wp-admin/admin-ajax.php", "nonce": fakes.random_token(rng, 10),
                           "i18n": {k: fakes.random_token(rng, 8) for k in range(rng.randint(5, 200))}})
        out.append(f"<script>var td_config={blob};</script>")
    return out


# ----- bodies ------------------------------------------------------------------------------------------

def story_html(story: Story, rng: random.Random, ctx_cls: ClassNamer, max_paragraphs: int | None = None) -> str:
    """The scraped story as the template prints it: paragraphs, some subheads, an odd image."""
    out = []
    n_par = 0
    drop_nonprose = rng.random() < 0.4
    for line, prose in story.lines:
        if prose:
            out.append(f"<p>{escape(line)}</p>")
            n_par += 1
            if max_paragraphs and n_par >= max_paragraphs:
                break
            if rng.random() < 0.04:
                out.append(f'<figure><img src="/wp-content/uploads/{fakes.random_token(rng, 10)}.jpg" alt=""></figure>')
        elif not drop_nonprose and len(line) < 120:
            tag = rng.choice(["h2", "h3", "p"])
            out.append(f"<{tag}>{escape(line)}</{tag}>" if tag != "p" else f"<p><strong>{escape(line)}</strong></p>")
    if n_par < 3:  # regions can hide prose in odd markup; fall back to the paragraph list
        out = [f"<p>{escape(p)}</p>" for p in story.paragraphs[: max_paragraphs or None]]
    return "".join(out)


def _links(rng: random.Random, items: list[str], domain: str, lang: str, cat: bool = False) -> str:
    out = []
    for it in items:
        href = f"/category/{fakes.slug_ascii(it) or fakes.random_token(rng, 5)}/" if cat else fakes.farm_url(rng, domain, it)
        out.append(f'<li><a href="{escape(href)}">{escape(it)}</a></li>')
    return "<ul>" + "".join(out) + "</ul>"


SUBMENU = {"en": ["Local", "National", "Europe", "Asia", "Americas", "Markets", "Startups", "Football", "Tennis", "Movies",
                   "Music", "TV", "Gadgets", "Apps", "Fitness", "Recipes", "Fashion", "Real Estate", "Weather", "Obituaries",
                   "Columns", "Podcasts", "Photos", "Events", "Education", "Jobs", "Deals", "Reviews", "Guides", "Archive"],
           "de": ["Lokales", "Deutschland", "Europa", "Ausland", "Börse", "Fußball", "Formel 1", "Kino", "Musik", "Fernsehen",
                  "Digital", "Fitness", "Rezepte", "Mode", "Immobilien", "Wetter", "Traueranzeigen", "Kolumnen", "Podcasts",
                  "Bilder", "Veranstaltungen", "Bildung", "Jobs", "Angebote", "Tests", "Ratgeber", "Archiv"]}


def _nav(rng: random.Random, lang: str, namer: ClassNamer, domain: str) -> str:
    """A menu: top categories, often with sub-menus, like real theme mega-menus."""
    items = ph.sample(lang, "nav", rng, rng.randint(5, 16))
    sub_pool = SUBMENU.get(lang) or SUBMENU["en"]
    sub_prob = rng.choice([0.0, 0.3, 0.6, 0.9])
    sub_ul = rng.choice(['<ul class="sub-menu">', '<ul class="dropdown-menu">', "<ul>", '<ul class="submenu">'])
    lis = []
    for it in items:
        href = f"/category/{fakes.slug_ascii(it) or fakes.random_token(rng, 5)}/"
        sub = ""
        if rng.random() < sub_prob:
            sub = _links(rng, rng.sample(sub_pool, rng.randint(2, 8)), domain, lang, cat=True).replace("<ul>", sub_ul, 1)
        lis.append(f'<li class="menu-item menu-item-{rng.randint(100, 99999)}"><a href="{href}">{escape(it)}</a>{sub}</li>')
    return f'<nav{_c(namer, "widget", rng)}><ul{_c(namer, "widget", rng)}>{"".join(lis)}</ul></nav>'


def _c(namer: ClassNamer, role: str, rng: random.Random) -> str:
    c = namer(role, rng)
    return f' class="{c}"' if c else ""


def _widgets(rng: random.Random, lang: str, namer: ClassNamer, pool: HeadlinePool | None, story: Story, domain: str) -> str:
    out = []
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(["recent", "categories", "archive", "newsletter", "ad", "search"])
        if kind == "recent" and pool:
            heads = pool.sample(rng, rng.randint(3, 7), story.lang, story.key)
            out.append(_wrap(f'<div{_c(namer, "widget", rng)}><h3>{escape(ph.pick(lang, "recent", rng))}</h3>{_links(rng, heads, domain, lang)}</div>', rng, namer))
        elif kind == "categories":
            out.append(f'<div{_c(namer, "widget", rng)}>{_links(rng, ph.sample(lang, "nav", rng, rng.randint(4, 10)), domain, lang, cat=True)}</div>')
        elif kind == "archive":
            months = ph.MONTHS.get(lang) or ph.MONTHS["en"]
            y = (story.year or 2020) + rng.randint(0, 3)
            arch = [f"{months[m]} {y}" for m in rng.sample(range(12), rng.randint(3, 8))]
            out.append(f'<div{_c(namer, "widget", rng)}>{_links(rng, arch, domain, lang, cat=True)}</div>')
        elif kind == "newsletter":
            out.append(f'<div{_c(namer, "widget", rng)}><p>{escape(ph.pick(lang, "newsletter", rng))}</p>'
                       f'<form><input type="email" placeholder="Email"><button>OK</button></form></div>')
        elif kind == "ad":
            out.append(_ad(rng, lang, namer))
        else:
            out.append('<form role="search"><input type="search" name="s"><button type="submit">Search</button></form>')
    return "".join(out)


def _ad(rng: random.Random, lang: str, namer: ClassNamer) -> str:
    label = f"<span>{escape(ph.pick(lang, 'ad', rng))}</span>" if rng.random() < 0.6 else ""
    vendor = rng.randrange(5)
    if vendor <= 1:  # AdSense, GPT, Taboola/Outbrain widgets, a house banner
        slot = (f'<ins class="adsbygoogle" style="display:block" data-ad-slot="{rng.randint(10**9, 10**10)}"'
                f' data-ad-format="auto"></ins>')
    elif vendor == 2:
        slot = f'<div id="div-gpt-ad-{rng.randint(10**12, 10**13)}-{rng.randint(0, 9)}"></div>'
    elif vendor == 3:
        slot = rng.choice(['<div id="taboola-below-article-thumbnails"></div>', '<div class="OUTBRAIN" data-widget-id="AR_1"></div>'])
    else:
        slot = f'<a href="/go/{fakes.random_token(rng, 6)}" rel="sponsored"><img src="/banners/{fakes.random_token(rng, 8)}.gif" alt=""></a>'
    return f'<div{_c(namer, "ad", rng)}>{label}{slot}</div>'


SOCIAL = ["Facebook", "Twitter", "Instagram", "YouTube", "TikTok", "LinkedIn", "Pinterest", "Telegram", "RSS"]


def _footer(rng: random.Random, lang: str, namer: ClassNamer, site: str, year: int, domain: str) -> str:
    cols = []
    for _ in range(rng.choice([1, 1, 2, 3, 4])):
        pool = ph.sample(lang, rng.choice(["footer", "nav"]), rng, rng.randint(3, 9))
        cols.append(_wrap(_links(rng, pool, domain, lang, cat=True), rng, namer, rng.randint(0, 2)))
    social = ""
    if rng.random() < 0.6:
        handle = fakes.slug_ascii(site, "") or fakes.random_token(rng)
        social = "<ul>" + "".join(f'<li><a href="https://www.{n.lower()}.com/{handle}" aria-label="{n}"><i class="fa fa-{n.lower()}"></i>'
                                  f'{escape(n) if rng.random() < 0.5 else ""}</a></li>' for n in rng.sample(SOCIAL, rng.randint(3, 7))) + "</ul>"
    copy = ph.pick(lang, "copyright", rng).format(year=year, site=site)
    return f'<footer data-slot="footer"{_c(namer, "widget", rng)}>{"".join(cols)}{social}<p>{escape(copy)}</p></footer>'


LAYOUT = ["container", "row", "col-md-8", "col-md-4", "col-lg-8", "col-sm-12", "wrapper", "inner", "clearfix", "site-content",
          "content-area", "td-container", "td-pb-row", "td-pb-span8", "vc_row", "vc_column", "elementor-section",
          "elementor-container", "elementor-column", "elementor-widget-wrap", "jeg_inner_content", "tdc-row", "wp-block-group",
          "entry", "layout", "grid", "mx-auto", "max-w-7xl", "section", "block-inner", "widget-inner", "box", "holder"]
IDS = ["page", "content", "primary", "main", "secondary", "masthead", "colophon", "site-navigation", "wrapper", "container",
       "header", "footer", "sidebar", "top", "mobile-menu", "search", "td-outer-wrap", "jeg_viewport", "site", "inner-wrap"]


def _wrap(inner: str, rng: random.Random, namer: ClassNamer, n: int | None = None) -> str:
    """Nest ``inner`` in layout divs, as themes and page builders do."""
    for _ in range(rng.randint(0, 3) if n is None else n):
        cls = " ".join(rng.sample(LAYOUT, rng.randint(1, 3))) if rng.random() < 0.85 else ""
        attrs = f' class="{cls}"' if cls else ""
        if rng.random() < 0.2:
            attrs += f' id="{rng.choice(IDS)}{rng.choice(["", "-" + str(rng.randint(1, 99))])}"'
        inner = f"<div{attrs}>{inner}</div>"
    return inner


COMMENTS = ["<!-- .site-header -->", "<!-- #masthead -->", "<!-- #main -->", "<!-- .container -->", "<!-- /.row -->",
            "<!-- Google Tag Manager -->", "<!-- End Google Tag Manager -->", "<!-- #colophon -->", "<!-- .entry-content -->",
            "<!-- This site is optimized with the Yoast SEO plugin v21.{n} - https://yoast.com/wordpress/plugins/seo/ -->",
            "<!-- / Yoast SEO plugin. -->", "<!-- Global site tag (gtag.js) - Google Analytics -->", "<!-- sidebar -->",
            "<!-- Page generated in 0.{n} seconds -->", "<!-- Cached by WP-Optimize -->", "<!-- end .td-post-content -->",
            "<!-- wp:paragraph -->", "<!-- /wp:paragraph -->", "<!-- Start Ad -->", "<!-- End Ad -->", "<!-- Begin Comscore Tag -->"]
BODY_SCRIPTS = ["/wp-includes/js/jquery/jquery.min.js?ver=3.7.1", "/wp-includes/js/jquery/jquery-migrate.min.js?ver=3.4.1",
                "/wp-content/plugins/contact-form-7/includes/js/index.js?ver=5.8", "/wp-includes/js/comment-reply.min.js?ver=6.4.2",
                "/wp-content/themes/{t}/js/main.js?ver={v}", "/wp-content/plugins/elementor/assets/js/frontend.min.js?ver=3.18.3",
                "https://cdn.jsdelivr.net/npm/swiper@11/swiper-bundle.min.js", "/wp-includes/js/wp-emoji-release.min.js?ver=6.4.2",
                "https://platform.twitter.com/widgets.js", "/assets/js/app.{h}.js", "/assets/js/vendor.{h}.js", "/static/js/runtime.{h}.js"]


def _bulk_up(soup: BeautifulSoup, rng: random.Random, namer: ClassNamer) -> None:
    """Theme weight real pages carry: comments, footer scripts, ids, pixels (so DOM size is no farm tell)."""
    body = soup.body
    if body is None:
        return
    blocks = [el for el in body.find_all(["div", "section", "nav", "header", "footer", "aside", "main", "ul"]) if el.parent is not None]
    for _ in range(int(rng.lognormvariate(2.3, 0.8))):
        if not blocks:
            break
        el = blocks[rng.randrange(len(blocks))]
        el.insert_after(Comment(rng.choice(COMMENTS).format(n=rng.randint(1, 999))[4:-3]))
    for el in rng.sample(blocks, min(len(blocks), int(rng.lognormvariate(2.5, 0.9)))):
        if not el.get("id"):
            el["id"] = f"{rng.choice(IDS + ['post', 'widget', 'block', 'menu', 'nav'])}-{rng.randint(1, 99999)}"
    theme = rng.choice(["newsmag", "jnews", "soledad", "publisher", "astra", "generatepress"])
    for _ in range(int(rng.lognormvariate(2.0, 0.9))):
        src = rng.choice(BODY_SCRIPTS).format(t=theme, v=f"{rng.randint(1, 9)}.{rng.randint(0, 9)}", h=fakes.random_token(rng, 8))
        body.append(soup.new_tag("script", src=src))
    if rng.random() < 0.5:
        s = soup.new_tag("script")
        s.string = f"window.__INITIAL_STATE__={{\"page\":\"{fakes.random_token(rng, 12)}\",\"ts\":{rng.randint(10**9, 2 * 10**9)}}};"
        body.append(s)
    if rng.random() < 0.4:
        body.append(soup.new_tag("img", src=f"https://www.facebook.com/tr?id={rng.randint(10**14, 10**15)}&ev=PageView&noscript=1",
                                 height="1", width="1", style="display:none", alt=""))
    if rng.random() < 0.15:
        body.append(soup.new_tag("iframe", src="https://www.googletagmanager.com/ns.html?id=GTM-" + fakes.random_token(rng, 7).upper(),
                                 height="0", width="0", style="display:none;visibility:hidden"))


def _byline(rng: random.Random, lang: str, story: Story, namer: ClassNamer, site: str) -> str:
    bits = []
    if rng.random() < 0.7:
        who = rng.choice(["admin", "Editor", f"{site} Staff", "News Desk", fakes.person_name(rng, lang), "Redaktion" if lang == "de" else "Staff"])
        bits.append(f"<span>{escape(ph.pick(lang, 'by', rng))} <a href=\"/author/{fakes.slug_ascii(who) or 'admin'}/\">{escape(who)}</a></span>")
    if story.date and rng.random() < 0.75:
        d = ph.format_date(story.date, lang, rng)
        bits.append(f'<time datetime="{story.date.strftime("%Y-%m-%dT%H:%M:%S")}">{escape(d)}</time>' if rng.random() < 0.7 else f"<span>{escape(d)}</span>")
    if rng.random() < 0.3:
        bits.append(f"<span>{escape(ph.pick(lang, 'nav', rng))}</span>")
    return f'<div{_c(namer, "date", rng)}>{" ".join(bits)}</div>' if bits else ""


@dataclass
class Donor:
    """Another real page whose theme a farm borrows (farms run on the same themes real sites use)."""

    story: Story
    html: str


def _rebrand(html: str, story: Story, site: str, domain: str) -> str:
    """The donor's site name and domain replaced by the farm's."""
    if story.site_name and len(story.site_name) > 3:
        html = html.replace(story.site_name, site)
    d = registrable_domain(story.url) if story.url else None
    if d:
        html = html.replace(d, domain)
    return html


def build_skeleton(family: str, story: Story, rng: random.Random, lang: str, site: str, domain: str,
                   namer: ClassNamer, pool: HeadlinePool | None) -> str:
    """HTML of a template family around the story; slots are marked with data-slot (removed later)."""
    sep = rng.choice([" - ", " | ", " – ", " » "])
    title = story.title if rng.random() < 0.3 else f"{story.title}{sep}{site}"
    doctype, html_open, head = make_head(story, rng, lang, site, domain, title, family)
    year = (story.year or 2020) + rng.randint(0, 4)
    logo_img = f'<img src="/wp-content/uploads/logo-{fakes.random_token(rng, 5)}.png" alt="{escape(site)}">' if rng.random() < 0.6 else ""
    logo = f'<a href="/" rel="home">{logo_img}{escape(site) if not logo_img or rng.random() < 0.5 else ""}</a>'
    logo = rng.choice([f"<div{_c(namer, 'widget', rng)}>{logo}</div>", f"<p>{logo}</p>", f'<span>{logo}</span>'])
    nav = _nav(rng, lang, namer, domain)
    if rng.random() < 0.45:  # themes print the menu again for the mobile drawer
        nav += _wrap(nav, rng, namer, 1)
    if rng.random() < 0.6:
        nav += (f'<form role="search" action="/"><input type="search" name="s" placeholder="{escape(ph.pick(lang, "nav", rng))}...">'
                '<button type="submit">Search</button></form>')
    nav = _wrap(nav, rng, namer)
    maxp = rng.randint(3, 6) if family == "aggregator_grid" and rng.random() < 0.6 else None
    content = story_html(story, rng, namer, maxp)
    if maxp:
        content += f'<p><a href="{escape(story.url or "#")}" rel="nofollow">{escape(ph.pick(lang, "read_more", rng))}</a></p>'
    body_tag = rng.choice(["div", "div", "section", "article"])
    article = _wrap(f'<{body_tag} data-slot="body"{_c(namer, "content", rng)}>{content}</{body_tag}>', rng, namer)
    h1 = f"<h1>{escape(story.title)}</h1>"
    byline = _byline(rng, lang, story, namer, site)
    sidebar = _wrap(f'<aside data-slot="sidebar"{_c(namer, "widget", rng)}>{_widgets(rng, lang, namer, pool, story, domain)}</aside>', rng, namer)
    footer = _wrap(_footer(rng, lang, namer, site, year, domain), rng, namer)
    ads = lambda: _ad(rng, lang, namer) if rng.random() < 0.5 else ""  # noqa: E731
    header = f'<header data-slot="header"{_c(namer, "widget", rng)}>{logo}{nav}</header>'

    if family == "wp_magazine":
        ticker = ""
        if pool and rng.random() < 0.5:
            ticker = (f'<div{_c(namer, "widget", rng)}><span>{escape(ph.pick(lang, "breaking", rng))}</span>'
                      + _links(rng, pool.sample(rng, 4, story.lang, story.key), domain, lang) + "</div>")
        comments = ""
        if rng.random() < 0.6:
            comments = (f'<div id="respond"><h3>{escape(ph.pick(lang, "comments", rng))}</h3><p>{escape(ph.pick(lang, "comment_form", rng))}</p>'
                        '<form><textarea name="comment"></textarea><input name="author"><input name="email"><input type="submit" value="Post Comment"></form></div>')
        main = (f'<main data-slot="main"><article{_c(namer, "widget", rng)}>{h1}{byline}{ads()}{article}{ads()}</article>{comments}</main>{sidebar}')
        body = f"{header}{ticker}<div{_c(namer, 'widget', rng)}>{main}</div>{footer}"
    elif family == "blogspot_clone":
        bl = ph.table(lang).get("blogger") or ph.P["en"]["blogger"]
        post_footer = f"<div><span>{escape(ph.pick(lang, 'by', rng))} {escape(fakes.person_name(rng, lang) if rng.random() < 0.5 else 'admin')}</span></div>"
        pager = "".join(f'<a href="/{fakes.random_token(rng, 6)}.html">{escape(x)}</a> ' for x in bl[:3])
        body = (f'<div{_c(namer, "widget", rng)}><div><h1><a href="/">{escape(site)}</a></h1></div>'
                f'<div data-slot="main"><div{_c(namer, "widget", rng)}><h3>{escape(story.title)}</h3>{byline}{article}{post_footer}</div>'
                f"<div>{pager}</div><div>{escape(bl[3] if len(bl) > 3 else '')}</div></div>{sidebar}{footer}</div>")
        if rng.random() < 0.5:  # Blogger posts use h3 titles; some themes keep an h1 for the post
            body = body.replace(f"<h3>{escape(story.title)}</h3>", h1, 1)
    elif family == "aggregator_grid":
        grid = ""
        if pool:
            cards = "".join(f'<div{_c(namer, "widget", rng)}><img src="/thumbs/{fakes.random_token(rng, 8)}.webp" alt=""><h3>'
                            f'<a href="{escape(fakes.farm_url(rng, domain, h))}">{escape(h)}</a></h3></div>'
                            for h in pool.sample(rng, rng.randint(4, 12), story.lang, story.key))
            grid = f'<section{_c(namer, "related", rng)}>{cards}</section>'
        main = f'<main data-slot="main">{h1}{byline}{article}{ads()}</main>'
        body = f"{header}{grid if rng.random() < 0.5 else ''}{main}{sidebar}{grid}{footer}"
    elif family == "ai_rewrite":
        main = f'<main data-slot="main"><article>{h1}{byline}{article}</article></main>'
        body = f"{header}<div{_c(namer, 'widget', rng)}>{main}{sidebar if rng.random() < 0.6 else ''}</div>{footer}"
    elif family == "minimal_ads":
        main = f'<div data-slot="main">{ads()}{h1}{byline}{ads()}{article}{ads()}{ads()}</div>'
        small_footer = footer if rng.random() < 0.6 else '<footer data-slot="footer"><p>' + escape(
            ph.pick(lang, "copyright", rng).format(year=year, site=site)) + "</p></footer>"
        body = f"{logo if rng.random() < 0.5 else header}{main}{small_footer}"
    elif family == "news_portal":
        top = ""
        if pool:
            top = (f'<div{_c(namer, "widget", rng)}><strong>{escape(ph.pick(lang, "breaking", rng))}</strong>'
                   + _links(rng, pool.sample(rng, rng.randint(3, 6), story.lang, story.key), domain, lang) + "</div>")
        news_letter = f'<div{_c(namer, "widget", rng)}><p>{escape(ph.pick(lang, "newsletter", rng))}</p><form><input type="email"></form></div>'
        kicker = f"<p>{escape(ph.pick(lang, 'nav', rng))}</p>" if rng.random() < 0.5 else ""
        main = (f'<main data-slot="main"><article>{kicker}{h1}{byline}{ads()}{article}'
                f'{news_letter if rng.random() < 0.5 else ""}</article></main>')
        body = f"{header}{top}<div{_c(namer, 'widget', rng)}>{main}{sidebar}</div>{footer}"
    else:
        raise ValueError(f"unknown template family {family!r}")
    cookie = ""
    if rng.random() < 0.3:
        cookie = f'<div{_c(namer, "note", rng)}><p>{escape(rng.choice(["We use cookies to improve your experience.", "Diese Website verwendet Cookies."] if lang in ("en", "de") else ["Cookies."]))}</p><button>OK</button></div>'
    return f"{doctype}\n{html_open}<head>{head}</head><body>{body}{cookie}</body></html>"


# ----- documents ---------------------------------------------------------------------------------------

def pick_farm_site(rng: random.Random, lang: str, blocklist: tuple[str, ...] = ()) -> tuple[str, str]:
    """(name, domain) of the farm: a real farm domain from the block lists now and then, else made up."""
    if blocklist and rng.random() < 0.25:
        d = rng.choice(blocklist)
        return fakes.site_name_from_domain(d), d
    return fakes.farm_site(rng, lang)


def _outlet(story: Story) -> str:
    if story.site_name and len(story.site_name) < 60:
        return story.site_name
    if story.url:
        return registrable_domain(story.url) or story.url
    return "the original source"


def _own_soup(original: str | BeautifulSoup) -> BeautifulSoup:
    # re-parsing is faster than bs4's deep copy of a big tree
    return parse_soup(serialize(original) if isinstance(original, BeautifulSoup) else original)


def _strip_slots(soup: BeautifulSoup) -> dict[str, Tag]:
    slots = {}
    for el in soup.find_all(attrs={"data-slot": True}):
        slots[el["data-slot"]] = el
        del el["data-slot"]
    return slots


def theme_clone(story: Story, donor: Donor, rng: random.Random, site: str, domain: str) -> tuple[BeautifulSoup, Tag, list[Tag]]:
    """The donor page with its story swapped for ours: a farm on a real theme (soup, body, paragraph elements)."""
    soup = parse_soup(_rebrand(donor.html, donor.story, site, domain))
    body, hits = find_story_elements(soup, donor.story)
    new_els = []
    anchor = hits[0] if hits else None
    for line, prose in story.lines if len(story.lines) >= 3 else [(p, True) for p in story.paragraphs]:
        if not prose:
            if rng.random() < 0.5 and len(line) < 120:
                el = soup.new_tag(rng.choice(["h2", "h3"]))
                el.string = line
            else:
                continue
        else:
            el = soup.new_tag("p")
            el.string = line
            new_els.append(el)
        if anchor is not None:
            anchor.insert_before(el)
        else:
            body.append(el)
    for h in hits:
        h.decompose()
    if len(new_els) < 3:  # donor story region held odd markup: fall back to plain paragraphs at its end
        for p in story.paragraphs[:40]:
            el = soup.new_tag("p")
            el.string = p
            body.append(el)
            new_els.append(el)
    _retitle(soup, story, rng, site)
    return soup, body, new_els


def _retitle(soup: BeautifulSoup, story: Story, rng: random.Random, site: str) -> None:
    """Headline, <title>, og/twitter title and description of a donor page set to our story."""
    h1 = soup.find("h1")
    if h1 is not None:
        h1.clear()
        h1.append(story.title)
    t = soup.find("title")
    if t is not None:
        t.string = f"{story.title}{rng.choice([' - ', ' | ', ' – '])}{site}" if rng.random() < 0.7 else story.title
    for key in ("og:title", "twitter:title"):
        node = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
        if node is not None:
            node["content"] = story.title
    for key in ("description", "og:description", "twitter:description"):
        node = soup.find("meta", attrs={"name": key}) or soup.find("meta", attrs={"property": key})
        if node is not None:
            node["content"] = (story.description or (story.paragraphs[0] if story.paragraphs else ""))[:160]
    if story.lang and soup.html is not None and soup.html.get("lang"):
        soup.html["lang"] = story.lang


def dress_in_donor(story: Story, donor: Donor, block: Tag, rng: random.Random, site: str, domain: str) -> BeautifulSoup:
    """The donor page (re-branded) with its article replaced by ``block``: a family's article on a real theme."""
    soup = parse_soup(_rebrand(donor.html, donor.story, site, domain))
    container, hits = find_story_elements(soup, donor.story)
    if block.name == "main" and (soup.find("main") is not None or rng.random() < 0.7):
        block.name = rng.choice(["div", "div", "section", "article"])  # most real pages have no <main>
    block_has_h1 = block.find("h1") is not None
    if container.name in ("body", "html", "[document]") or not hits or container.find(["header", "footer"]) is not None:
        if hits:
            hits[0].insert_before(block)
            for h in hits:
                h.decompose()
        else:
            (soup.body or soup).append(block)
    else:
        container.replace_with(block)
    if block_has_h1:  # one headline: drop the donor's if it survived outside the article
        for h1 in soup.find_all("h1"):
            if block not in h1.parents:
                h1.decompose()
    _retitle(soup, story, rng, site)
    return soup


def make_farm(story: Story, family: str, rng: random.Random, pool: HeadlinePool | None,
              original: str | BeautifulSoup | None = None, blocklist: tuple[str, ...] = (),
              donor: Donor | None = None) -> Doc:
    """One farm document of ``family`` from ``story``.

    In-place families need the original page (html or soup, not modified); ``theme_clone`` needs a
    ``donor`` (another real page); template families use the donor's chrome when given one.
    """
    lang = ph.ui_lang(story.lang, rng)
    site, domain = pick_farm_site(rng, lang, blocklist)
    namer = ClassNamer(rng)
    if family in IN_PLACE_FAMILIES:
        if original is None:
            raise ValueError("in-place farms need the original page")
        soup = _own_soup(original)
        body, els = find_story_elements(soup, story)
        header, sidebar, footer = _chrome_of(soup)
        main = None
        if family == "in_place":  # a page injected on its own site keeps the site's language
            lang = story.lang if story.lang in ph.SUPPORTED else lang
    elif family == "theme_clone":
        if donor is None:
            raise ValueError("theme_clone needs a donor page")
        soup, body, els = theme_clone(story, donor, rng, site, domain)
        header, sidebar, footer = _chrome_of(soup)
        main = None
    else:
        soup = parse_soup(build_skeleton(family, story, rng, lang, site, domain, namer, pool))
        slots = _strip_slots(soup)
        body = slots["body"]
        els = body.find_all("p")
        header, sidebar, footer, main = slots.get("header"), slots.get("sidebar"), slots.get("footer"), slots.get("main")
        if donor is not None:  # the family's article on a real theme: realistic page weight around it
            soup = dress_in_donor(story, donor, main.extract(), rng, site, domain)
            header, sidebar, footer = _chrome_of(soup)
        else:
            _bulk_up(soup, rng, namer)
    ctx = Ctx(lang=lang, site_name=site, domain=domain, namer=namer, pool=pool, group=story.key, body=body,
              outlet=_outlet(story), main=main, sidebar=sidebar, footer=footer, header=header,
              in_place=family in IN_PLACE_FAMILIES, extra={"story_els": els, "story_year": story.year})
    names = choose_operations(family, story, rng)
    ops = run_operations(soup, story, rng, ctx, names)
    if not ops:  # every farm carries at least one sign
        ops = run_operations(soup, story, rng, ctx, ["add_link_lists"])
    url = _farm_doc_url(story, family, rng, domain)
    return Doc(html=serialize(soup), family=family, operations=ops, url=url, site_domain=domain,
               extra={"ui_lang": lang, "site": site, "class_style": namer.style,
                      "donor": donor.story.key if donor is not None else None})


def _farm_doc_url(story: Story, family: str, rng: random.Random, domain: str) -> str | None:
    if family == "in_place" and story.url and rng.random() < 0.4:
        return story.url  # a real site carrying farm signs on its own address
    return fakes.farm_url(rng, domain, story.title, story.date)


def make_legit_aug(story: Story, rng: random.Random, original: str | BeautifulSoup) -> Doc:
    """A real page with legitimate look-alike features (label 0); ``original`` is not modified."""
    soup = _own_soup(original)
    body, els = find_story_elements(soup, story)
    header, sidebar, footer = _chrome_of(soup)
    lang = story.lang if story.lang in ph.SUPPORTED else "en"
    domain = registrable_domain(story.url) if story.url else ""
    ctx = Ctx(lang=lang, site_name=story.site_name or (domain or ""), domain=domain or "", namer=ClassNamer(rng),
              pool=None, group=story.key, body=body, outlet=_outlet(story), sidebar=sidebar, footer=footer,
              header=header, extra={"story_els": els, "story_year": story.year})
    ops = run_hard_negatives(soup, story, rng, ctx)
    return Doc(html=serialize(soup), family="", operations=ops, url=story.url, site_domain=domain)
