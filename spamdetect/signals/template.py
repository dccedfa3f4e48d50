"""Template and boilerplate signs: what a content-farm template leaves on the page.

Every feature is a count or a rate, never a verdict. Some signs are farm-only (template leaks,
spintax, AI refusals, fake rating widgets); others also occur on real news pages in small doses
(share buttons, donation appeals, question lines) and only a wall of them is telling. Wire
credits ("(AP)", "Reuters") are legitimate republication and get their own feature, apart from
"this story originally appeared on X".

Speed: the phrase lists are counted in one Aho-Corasick pass over the lower-cased text, and each
regular expression runs only when a literal it needs occurs, so a clean page costs a few scans.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import ahocorasick

from spamdetect.domains import registrable_domain, split_host
from spamdetect.page import Page, words
from spamdetect.signals.text_quality import all_stopwords

FEATURES: tuple[str, ...] = (
    "template.path_leaks",
    "template.placeholder_leaks",
    "template.shortcode_leaks",
    "template.spintax",
    "template.lorem_ipsum",
    "template.null_lines",
    "template.share_labels",
    "template.share_walls",
    "template.share_links",
    "template.fake_ratings",
    "template.rating_markup",
    "template.donation_appeals",
    "template.originally_appeared",
    "template.originally_foreign",
    "template.source_foreign",
    "template.wire_credits",
    "template.pagination",
    "template.faq_blocks",
    "template.question_lines",
    "template.question_line_share",
    "template.faq_schema",
    "template.top_word_share",
    "template.title_phrase_repeats",
    "template.title_phrase_per_1000w",
    "template.affiliate_links",
    "template.affiliate_link_share",
    "template.ai_refusals",
    "template.ai_style_per_1000w",
)

NAN = float("nan")


def _has(s: str, keys: tuple[str, ...]) -> bool:
    return any(k in s for k in keys)


def _count(s: str, phrases: tuple[str, ...]) -> int:
    return sum(s.count(p) for p in phrases)


def _n(found: dict[str, int], phrases: tuple[str, ...]) -> int:
    """Occurrences of ``phrases`` in a ``_phrase_counts`` result (``_count`` on the text)."""
    return sum(found.get(p, 0) for p in phrases)


def _any(found: dict[str, int], phrases: tuple[str, ...]) -> bool:
    """Whether one of ``phrases`` occurs, from a ``_phrase_counts`` result (``_has`` on the text)."""
    return any(p in found for p in phrases)


# ----- template leaks (on the lower-cased text unless noted) ---------------------------------
# Speed: ``in`` / ``str.count`` scan far faster than a regex search, so each regex that cannot
# start on a rare character ("[", "(", "!", newline) runs only after a literal it needs is found.
_PATH_KEYS = ("/wp-", "/var/www/", "/home/", ":\\")
_PATH_LEAK = re.compile(r"/wp-(?:content|includes|admin)/|/var/www/|/home/\w+/(?:public_html|www|htdocs)|:\\[\w .$-]")
_CODE_LEAKS = (".php on line ", "fatal error:", "parse error:", "stack trace:", "notice: undefined")
_PHP_WARNING = re.compile(r"warning: \w+\(\)")
_BRACE_KEYS = ("{", "[")
_PLACEHOLDER = re.compile(
    r"\{\{\s*[\w.|: -]{1,40}\s*\}\}|\{%[^%\n]{1,60}%\}|\$\{\w{1,30}\}|\[\[\w{1,30}\]\]"
    r"|\{(?:title|keywords?|name|city|date|author|category|site_?name|post_?title|product)\}"
    r"|\[(?:insert|your|keyword|add)\b[^\]\n]{0,30}\]")
_PERCENT_PLACEHOLDER = re.compile(r"%%?[a-z][a-z_]{2,30}%%?(?![\w%])")  # %post_title%, %%title%%
# WordPress and page-builder shortcodes that were never rendered: closing tags, quoted attributes,
# or names of well-known plugins. On the original text: shortcodes are lower case, "[Video]" is a label.
_SHORTCODE = re.compile(
    r"\[/[a-z][a-z0-9_-]{1,30}\]|\[[a-z][a-z0-9_-]{1,30}(?:\s+[a-z_-]+=[\"'][^\"'\]\n]{0,80}[\"'])+\s*/?\]"
    r"|\[(?:caption|gallery|embed|playlist|vc_\w+|et_pb_\w+|su_\w+|fusion_\w+|contact-form-7|wpforms"
    r"|mc4wp_form|adsense|ad_slot|toc|ez-toc)\b[^\]\n]{0,200}\]")
_SPINTAX = re.compile(r"\{\s*\w[\w' -]{0,29}(?:\|\s*\w[\w' -]{0,29})+\s*\}")
_LOREM = ("lorem ipsum", "dolor sit amet")
_NULL_LINE = re.compile(r"\n(?:undefined|null|nan|\[object object\]|undefined undefined|null null)(?=\n)")
_NULL_INLINE = ("by undefined", "by null", "author: undefined")

# ----- share walls ---------------------------------------------------------------------------
# A short line made only of share labels, their glue words and counts ("Share 12 | Tweet | Email").
_SHARE_CORE = frozenset(
    "share shares tweet pin whatsapp telegram email e-mail copy facebook twitter linkedin reddit pinterest "
    "tumblr flipboard messenger xing bluesky mastodon teilen twittern partager compartir condividi delen "
    "compartilhar シェア ツイート 分享".split())
_SHARE_GLUE = frozenset("this article story post page it link url x the on via to with by per auf mit sur en su no op"
                        .split())
_SHARE_VERBS = frozenset("share teilen partager compartir condividi delen compartilhar".split())
_SHARE_STRIP = "|·•/,:()+-!»›"
_SHARE_CANDIDATE = re.compile(
    r"\n([|·•/,:()+!»› -]*(?:share|tweet|pin|whatsapp|telegram|e-?mail|copy|facebook|twitter|linkedin|reddit"
    r"|pinterest|tumblr|flipboard|messenger|xing|bluesky|mastodon|teilen|twittern|partager|compartir|condividi"
    r"|delen|compartilhar|シェア|ツイート|分享|this|on|via|\d)[^\n]{0,100})(?=\n)")
# Share endpoints by host (subdomain stripped once): path prefixes that open a share dialog.
_SHARE_HOSTS = {
    "facebook.com": ("/sharer", "/share", "/dialog/share", "/dialog/feed"), "twitter.com": ("/intent", "/share"),
    "x.com": ("/intent", "/share"), "pinterest.com": ("/pin/create",), "pinterest.de": ("/pin/create",),
    "wa.me": ("/",), "whatsapp.com": ("/send",), "t.me": ("/share",), "telegram.me": ("/share",),
    "linkedin.com": ("/share", "/cws/share", "/sharing"), "reddit.com": ("/submit",),
    "tumblr.com": ("/share", "/widgets/share"), "vk.com": ("/share",), "xing.com": ("/spi/shares", "/social/share"),
    "flipboard.com": ("/bookmarklet",), "getpocket.com": ("/save", "/edit"), "bsky.app": ("/intent",),
    "threads.net": ("/intent",),
}
_SHARE_SCHEMES = ("\nmailto:?", "\nwhatsapp://send", "\nfb-messenger://share", "\nsms:?")
_HOST_REST = re.compile(r"//(?:www\.)?([a-z0-9.-]+)([^\s#]*)")

# ----- ratings, appeals, AI boilerplate (phrase lists: lower case, straight apostrophes) -------
_RATING_WORD_BEFORE_BANG = ("good", "excellent", "great", "superb", "awesome", "perfect", "wonderful")
_BANG_COUNT = re.compile(r"!\s*\(\s*\d[\d,.]*\s*\)")  # "veryGood! (5776)": the word is checked by hand
_STAR_RATING = re.compile(r"[★☆✩✪⭐]{3,}[ \t]*\(?\d(?:[.,]\d+)?")
_RATING_KEYS = ("rating", "rated", "bewertung", "valoración", "valutazione", "avaliação")
_RATING = re.compile(rf"(?:{'|'.join(_RATING_KEYS)})\s*:?\s*\d(?:[.,]\d)?\s*(?:/|out of|von|sur|de|su)\s*(?:5|10)\b")
_VOTES = re.compile(r"\(\s*\d[\d,.]*\s*(?:votes|ratings|reviews|bewertungen|stimmen|avis|votos|voti)\s*\)")
_DONATION = ("buy me a coffee", "ko-fi", "please donate", "donate now", "donate today", "make a donation",
             "support us", "support our work", "support our journalism", "become a patron", "patreon", "paypal",
             "jetzt spenden", "spenden sie", "unterstützen sie un", "faire un don", "soutenez-nous",
             "haz una donación", "dona ora", "sostienici", "doe agora", "steun ons")
_AI_REFUSAL_GATES = ("as an ai", "fulfill", "regenerate response", "my last", "knowledge cutoff", "i'm sorry, but")
_AI_REFUSAL = ("as an ai language model", "as an ai assistant", "as an ai model", "i cannot fulfill",
               "i can't fulfill", "regenerate response", "as of my last knowledge update", "as of my last update",
               "my knowledge cutoff", "i'm sorry, but i cannot", "i'm sorry, but i can't")
_AI_STYLE = ("in conclusion,", "it is important to note", "it's important to note", "in today's fast-paced",
             "in today's digital", "delve", "delving", "in the ever-evolving", "in the realm of", "a testament to",
             "embark on a journey", "unlock the power", "unlock the secrets", "unlock the potential",
             "whether you're a", "navigating the complex", "plays a crucial role", "plays a pivotal role",
             "plays a vital role", "tapestry of")

# ----- attribution ---------------------------------------------------------------------------
_WIRE_NAMES = (r"AP|AFP|dpa|DPA|Reuters|UPI|ANSA|EFE|APA|SDA|sda|KNA|epd|dts|AFX|PA|CNA|Xinhua|Kyodo"
               r"|Yonhap|Bloomberg|IANS|PTI|Associated Press|Agence France-Presse|Deutsche Presse-Agentur")
# Counted four ways on the original text (agency codes are case-sensitive: "(AP)", not "(ap)"):
# "(AP)" / "(dpa/lni)" credits, agency names written out, a line that is only an agency code
# ("dpa", "AFP/Getty"), and "Source: Reuters" (counted in _attribution).
_WIRE_PAREN = re.compile(rf"\((?:{_WIRE_NAMES})(?:[/,;][^()\n]{{1,25}})?\)")
_WIRE_LONG = ("Associated Press", "Agence France-Presse", "Reuters", "Deutsche Presse-Agentur")
_WIRE_LINE = re.compile(rf"\n(?:{_WIRE_NAMES})(?:/[^\n]{{0,25}})?(?=\n)")
_WIRE_NAME = re.compile(rf"^(?:the )?(?:{_WIRE_NAMES})\b", re.I)
# "originally appeared on X": X is the captured site name; "Source: X" only counts when X looks
# like a site (a domain, or an anchor text in HTML) since "Source: Statista" is routine credit.
_ORIG_KEYS = ("originally ", "first appeared", "first published", "first posted", "appeared first",
              "zuerst erschienen", "erschien zuerst", "publié ", "paru ", "publicado originalmente",
              "pubblicato originariamente")
# "first published in 2014" / "first appeared in west michigan" are no attributions: "first"
# only with on/by/at, and X must not start with a number or a month (a date stamp).
_ORIGINALLY = re.compile(
    r"(?:originally (?:appeared|published|posted|ran) (?:on|in|at|by)|first (?:appeared|published|posted) (?:on|at|by)"
    r"|appeared first (?:on|in)|zuerst erschienen (?:auf|bei|in)|erschien zuerst (?:auf|bei|in)"
    r"|(?:publié|paru) (?:initialement|à l'origine|d'abord) (?:sur|par|dans)"
    r"|publicado originalmente (?:en|por)|pubblicato originariamente su)\s+(?P<x>[^\n,;()]{2,80})")
_SOURCE_KEYS = ("source:", "source :", "quelle:", "quelle :", "fuente:", "fonte:", "bron:", "via:")
_SOURCE = re.compile(r"\b(?:source|quelle|fuente|fonte|bron|via)\s*:\s*(?P<x>[^\n,;()|]{2,60})")
_DATE_START = re.compile(
    r"\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mär|mai|okt|dez|janv|févr|avr|juil|déc|ene|abr|ago|dic)"
    r"[a-zäéû]*\.?\s*\d|(?:mon|tues|wednes|thurs|fri|satur|sun)day")
_DOMAIN_LIKE = re.compile(r"\b(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12})\b", re.I)
_SQUASH = re.compile(r"[\W_]+")

# ----- pagination, FAQ -----------------------------------------------------------------------
_PAGE_OF_KEYS = ("page ", "seite ", "gina ", "pag. ")  # "gina ": página / pagina
# "Page 2 of 5" at a word start. The \b is checked by hand (_page_of): sre cannot skip ahead to
# a leading \b, and without it the scan runs ~3x faster. No keyword starts inside a match, so
# dropping the matches that follow a word character finds what the \b pattern finds.
_PAGE_OF = re.compile(r"(?:pag(?:e|ina|\.)|página|seite) ?\d+ ?(?:of|von|de|di|sur|van|/) ?\d+\b")
_PAGER_CANDIDATE = re.compile(
    r"\n((?:[«‹<←…\d]|prev|next|zurück|vorherige|précédent|anterior|first|erste)[^\n]{0,80})(?=\n)")
_PAGER_WORDS = frozenset("« ‹ < ← » › > → | … ... prev previous next zurück vor weiter vorherige nächste précédent "
                         "suivant anterior siguiente precedente successivo first last erste letzte".split())
_INT_LINE = re.compile(r"\n(\d{1,4})(?=\n)")
_FAQ_LINE = re.compile(
    r"\n(?:frequently asked questions|faqs?\b|häufig gestellte fragen|häufige fragen|preguntas frecuentes"
    r"|questions fréquentes|foire aux questions|domande frequenti|perguntas frequentes|veelgestelde vragen)")
_QUESTION_END = re.compile(r"\?[ ›»>+▼▾⌄⌃˅^-]*(?=\n)")  # "? ›": accordion FAQ entries

# ----- affiliate links -----------------------------------------------------------------------
_AFF_HOSTS = ("amzn.to", "amzn.eu", "geni.us", "clickbank.net", "shareasale.com", "awin1.com", "tradedoubler.com",
              "webmasterplan.com", "anrdoezrs.net", "jdoqocy.com", "tkqlhce.com", "dpbolvw.net", "kqzyfj.com",
              "skimresources.com", "viglink.com", "linksynergy.com", "pxf.io", "sjv.io", "prf.hn", "avantlink.com",
              "shopstyle.it")
_AFF_PATHS = ("/go/", "/recommends/", "/refer/", "/aff/", "/out/")
_REL_AFF = re.compile(r"\n/(?:go|recommends|refer|aff|out)/")  # cloaked links are usually relative
_AFF_PARAM = re.compile(r"[?&](?:ref|aff|aff_id|affid|affiliate|partner|ref_id)=")

_TITLE_SPLIT = re.compile(r"\s+[|–—:»-]\s+|\s+::\s+")

# Every phrase counted or probed for in the lower-cased text. One Aho-Corasick pass finds them
# all, where a str.count or ``in`` per phrase scanned the text ~90 times.
_SCANNED = frozenset(_PATH_KEYS + _CODE_LEAKS + _LOREM + _DONATION + _AI_REFUSAL_GATES + _AI_REFUSAL + _AI_STYLE
                     + _NULL_INLINE + _PAGE_OF_KEYS + _RATING_KEYS + _ORIG_KEYS + _SOURCE_KEYS
                     + ("warning:", "undefined", "by null", "[object object]", "out of 5 stars"))


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for phrase in _SCANNED:
        auto.add_word(phrase, phrase)
    auto.make_automaton()
    return auto


def _phrase_counts(low: str) -> dict[str, int]:
    """Occurrences of each ``_SCANNED`` phrase in ``low`` (absent ones left out), counted as
    ``str.count`` counts: leftmost first, never overlapping an earlier match of the same phrase."""
    found: dict[str, int] = {}
    free: dict[str, int] = {}  # phrase -> first offset after its last counted match
    for end, phrase in _automaton().iter(low):
        start = end - len(phrase) + 1
        if start >= free.get(phrase, 0):
            found[phrase] = found.get(phrase, 0) + 1
            free[phrase] = end + 1
    return found


def features(page: Page, *, max_lines: int = 5000, max_chars: int = 300_000, min_content_words: int = 30,
             share_wall_min: int = 3, pager_run_min: int = 3, question_max_words: int = 25) -> dict[str, float]:
    """Template and boilerplate counts of ``page``; HTML-only ones are nan in text mode."""
    lines = page.lines[:max_lines]
    text = "\n".join(lines)[:max_chars]
    low = text.lower()
    if "’" in low:
        low = low.replace("’", "'")
    n_words = text.count(" ") + len(lines) if text else 0  # lines are whitespace-normalised
    out = dict.fromkeys(FEATURES, NAN)
    found = _phrase_counts(low)

    leaks = _n(found, _CODE_LEAKS) + (len(_PATH_LEAK.findall(low)) if _any(found, _PATH_KEYS) else 0)
    out["template.path_leaks"] = float(leaks + (len(_PHP_WARNING.findall(low)) if "warning:" in found else 0))
    holders = len(_PLACEHOLDER.findall(low)) if _has(low, _BRACE_KEYS) else 0
    out["template.placeholder_leaks"] = float(holders + len(_PERCENT_PLACEHOLDER.findall(low)))
    out["template.shortcode_leaks"] = float(len(_SHORTCODE.findall(text)))
    out["template.spintax"] = float(len(_SPINTAX.findall(text)))
    out["template.lorem_ipsum"] = float(_n(found, _LOREM))
    out["template.fake_ratings"] = float(_fake_ratings(low, found))
    out["template.donation_appeals"] = float(_n(found, _DONATION))
    out["template.ai_refusals"] = float(_n(found, _AI_REFUSAL) if _any(found, _AI_REFUSAL_GATES) else 0)
    out["template.ai_style_per_1000w"] = 1000 * _n(found, _AI_STYLE) / n_words if n_words else NAN

    out.update(_line_signs(text, low, len(lines), share_wall_min, pager_run_min, question_max_words))
    inline_null = _n(found, _NULL_INLINE) if "undefined" in found or "by null" in found else 0
    out["template.null_lines"] += found.get("[object object]", 0) + inline_null
    out["template.pagination"] += _page_of(low) if _any(found, _PAGE_OF_KEYS) else 0
    out.update(_attribution(page, low, found))
    # agency names written out, less those inside "(Reuters)" (counted by _WIRE_PAREN); the second
    # scan only for names that occur at all
    wire = len(_WIRE_PAREN.findall(text)) + sum(n - text.count("(" + w) for w in _WIRE_LONG if (n := text.count(w)))
    out["template.wire_credits"] = float(wire + out.pop("_wire_lines") + out.pop("_wire_sources"))
    out.update(_stuffing(page, min_content_words))
    if page.is_html:
        out.update(_html_signs(page))
    return out


def _page_of(low: str) -> int:
    """Number of "page 2 of 5" / "seite 2 von 5" at a word start (see _PAGE_OF)."""
    # \w in sre is str.isalnum() or "_"
    return sum(1 for m in _PAGE_OF.finditer(low)
               if not (m.start() and (low[m.start() - 1].isalnum() or low[m.start() - 1] == "_")))


def _fake_ratings(low: str, found: dict[str, int]) -> int:
    """Rating widgets in visible text: 'veryGood! (5776)', '★★★★★ 4.9', 'Rating: 4.8/5', '(1,234 votes)'."""
    n = sum(low[max(0, m.start() - 12):m.start()].rstrip().endswith(_RATING_WORD_BEFORE_BANG)
            for m in _BANG_COUNT.finditer(low))
    if "★" in low or "☆" in low or "⭐" in low:  # the regex's non-Latin-1 class is slow to scan for
        n += len(_STAR_RATING.findall(low))
    n += len(_VOTES.findall(low)) + found.get("out of 5 stars", 0)
    return n + (len(_RATING.findall(low)) if _any(found, _RATING_KEYS) else 0)


def _line_signs(text: str, low: str, n_lines: int, wall_min: int, run_min: int,
                q_max_words: int) -> dict[str, float]:
    """Signs that are whole lines: null lines, share walls, pagers, FAQ headings, questions, wire codes.

    Each kind is found by a regex anchored on the newline before a line (a literal prefix, so
    the scan is fast) and then checked in Python; two matches are on consecutive lines when one
    starts where the other ended.
    """
    nl, nt = f"\n{low}\n", f"\n{text}\n"
    if "？" in nl:  # full-width question mark (ja, zh)
        nl = nl.replace("？", "?")
    share = walls = run = 0
    prev_end = -1
    for m in _SHARE_CANDIDATE.finditer(nl):
        n = _share_count(m.group(1))
        if not n:
            continue
        run = run + n if m.start() == prev_end else n
        walls += run - n < wall_min <= run
        share += n
        prev_end = m.end()
    pager = sum(1 for m in _PAGER_CANDIDATE.finditer(nl) if _is_pager(m.group(1)))
    # "1", "2", "3" as separate list items: one pager per run of run_min ascending numbers
    prev_end, prev_val, int_run = -1, -2, 0
    for m in _INT_LINE.finditer(nl):
        v = int(m.group(1))
        int_run = int_run + 1 if m.start() == prev_end and v == prev_val + 1 else int(v <= 2)
        pager += int_run == run_min  # runs start at 1 or 2, so calendar weeks count once a month
        prev_end, prev_val = m.end(), v
    questions = sum(1 for m in _QUESTION_END.finditer(nl)
                    if nl.count(" ", nl.rfind("\n", 0, m.start()), m.start()) < q_max_words)
    return {
        "template.null_lines": float(len(_NULL_LINE.findall(nl))),
        "template.share_labels": float(share),
        "template.share_walls": float(walls),
        "template.pagination": float(pager),
        # a FAQ heading counts when a question line follows soon (a bare "FAQ" is a menu item)
        "template.faq_blocks": float(sum(1 for m in _FAQ_LINE.finditer(nl)
                                         if _QUESTION_END.search(nl, m.end(), m.end() + 400))),
        "template.question_lines": float(questions),
        "template.question_line_share": questions / n_lines if n_lines else NAN,
        "_wire_lines": len(_WIRE_LINE.findall(nt)),
    }


def _is_pager(line: str) -> bool:
    """'« Previous 1 2 3 Next »', '1 2 3 4 … 9': only pager words and numbers, in pager order."""
    nums: list[int] = []
    nav = False
    for tok in line.split():
        if tok.isdigit():
            nums.append(int(tok))
        elif tok in _PAGER_WORDS:
            nav = True
        else:
            return False
    steps = sum(b == a + 1 for a, b in zip(nums, nums[1:]))
    return bool(nums) and (nav or steps >= 2) and steps >= len(nums) // 2


def _share_count(line: str) -> int:
    """Number of share labels on a line made only of share labels, glue words and counts; else 0."""
    core, verb_pending = 0, False
    for tok in line.split():
        t = tok.strip(_SHARE_STRIP)
        if t in _SHARE_CORE:
            # "Share on Facebook" is one button: the network after a share verb adds nothing
            core += not (verb_pending and t not in _SHARE_VERBS)
            verb_pending = t in _SHARE_VERBS
        elif not (not t or t in _SHARE_GLUE or t.replace(".", "").replace(",", "").rstrip("k").isdigit()):
            return 0
        elif t not in _SHARE_GLUE:
            verb_pending = False
    return core


def _attribution(page: Page, low: str, found: dict[str, int]) -> dict[str, float]:
    """Republication notices: 'originally appeared on X' (is X another site?) and 'Source: <site>'.

    Wire agencies are excluded from both and counted as wire credits instead.
    """
    orig = [m.group("x") for m in _ORIGINALLY.finditer(low)] if _any(found, _ORIG_KEYS) else []
    sources = [m.group("x") for m in _SOURCE.finditer(low)] if _any(found, _SOURCE_KEYS) else []
    out = {"template.originally_appeared": 0.0, "template.originally_foreign": NAN,
           "template.source_foreign": 0.0, "_wire_sources": 0}
    if not orig and not sources:
        return out
    anchors = {link.text.lower(): link.href for link in page.links if link.text}
    own = page.domain
    own_label = _SQUASH.sub("", split_host(page.url)[1].lower()) if page.url else ""
    foreign: list[bool] = []
    for raw in orig:
        x = raw.strip(" .:!\"'“”«»").strip()
        if not x or _WIRE_NAME.match(x) or _DATE_START.match(x):
            continue
        out["template.originally_appeared"] += 1
        site = _site_of(x, anchors)
        if site is not None:
            foreign.append(site != own)
        elif own_label:  # a site name: compare with the page's domain label ("Live Science" ~ livescience)
            name = _SQUASH.sub("", x.lower().removeprefix("the "))
            foreign.append(not (len(name) >= 3 and (name in own_label or own_label in name)))
    if own and foreign:
        out["template.originally_foreign"] = float(any(foreign))
    for raw in sources:
        x = raw.strip(" .:!\"'“”«»").strip()
        if _WIRE_NAME.match(x):
            out["_wire_sources"] += 1  # "Source: Reuters" is a wire credit
        elif own and (site := _site_of(x, anchors)) is not None and site != own:
            out["template.source_foreign"] += 1  # "Source: example.com" or a linked name elsewhere
    return out


def _site_of(x: str, anchors: dict[str, str]) -> str | None:
    """Registrable domain X names: a domain written out, or the target of an anchor with text X."""
    m = _DOMAIN_LIKE.search(x)
    if m and split_host(m.group(1))[2]:
        return registrable_domain(m.group(1))
    low = x.lower()
    for text, href in anchors.items():
        if (text == low or (len(text) >= 6 and low.startswith(text))) and href.startswith(("http", "//")):
            return registrable_domain(href)
    return None


def _stuffing(page: Page, min_content_words: int, max_words: int = 20000) -> dict[str, float]:
    """Keyword stuffing: top content word share and how often the title's key phrase recurs."""
    body = page.main_words[:max_words]
    counts = page.main_word_counts if body else None
    if not body:  # no prose: fall back to all visible text
        body = words(page.text)[:max_words]
        counts = Counter(body)
    stop = all_stopwords()
    # content words: 3+ characters and in no stop-word list; one pass over the distinct words
    content = [c for w, c in counts.items() if len(w) >= 3 and w not in stop]
    if counts.total() == len(body):  # the counts are the body's own
        n_content = sum(content)
    else:  # a story cut at max_words: its tokens, less the story's stop words (as before the cut)
        n_content = (len(body) - sum(1 for w in body if len(w) < 3)
                     - sum(map(counts.__getitem__, counts.keys() & _long_stopwords())))
    out = {"template.top_word_share": NAN, "template.title_phrase_repeats": NAN,
           "template.title_phrase_per_1000w": NAN}
    if n_content >= min_content_words:
        # the most common content word's count (the first content word of counts.most_common())
        out["template.top_word_share"] = max(content, default=0) / n_content
    parts = _TITLE_SPLIT.split(page.title or page.h1)
    title = words(max(parts, key=len)) if parts else []
    if len(title) >= 2 and body:
        # title bigrams that are not pure function words; counted as " a b " in the space-joined body
        phrases = {(a, b) for a, b in zip(title, title[1:]) if not (a in stop and b in stop)
                   and a in counts and b in counts}
        joined = f" {' '.join(body)} " if phrases else ""
        repeats = max((joined.count(f" {a} {b} ") for a, b in phrases), default=0)
        out["template.title_phrase_repeats"] = float(repeats)
        out["template.title_phrase_per_1000w"] = 1000 * repeats / len(body)
    return out


@lru_cache(maxsize=1)
def _long_stopwords() -> frozenset[str]:
    """Stop words of 3+ characters (shorter words are never content words anyway)."""
    return frozenset(w for w in all_stopwords() if len(w) >= 3)


def _html_signs(page: Page) -> dict[str, float]:
    """Signs only markup can show: share endpoints, affiliate links, rating and FAQ schema."""
    links = page.hrefs
    hrefs = "\n" + "\n".join(links).lower()
    share = _count(hrefs, _SHARE_SCHEMES)
    aff = len(_REL_AFF.findall(hrefs))
    own = page.domain
    kinds: dict[str, tuple[tuple[str, ...], bool, bool]] = {}  # most links share a few hosts
    for host, rest in _HOST_REST.findall(hrefs):
        kind = kinds.get(host)
        if kind is None:
            kind = kinds[host] = _host_kind(host)
        paths, aff_host, amazon = kind
        if paths and rest.startswith(paths):
            share += 1
        elif aff_host or rest.startswith(_AFF_PATHS) or (amazon and "tag=" in rest):
            aff += 1
        elif own and "=" in rest and _AFF_PARAM.search(rest) and registrable_domain(host) != own:
            aff += 1  # ?ref= on an own-site link is navigation tracking, not an affiliate deal
    # schema.org ratings in JSON-LD; microdata and rel="sponsored" would need a scan of the raw
    # markup or the tree, which costs more than the rest of this family together
    rating = any("aggregateRating" in obj or "reviewRating" in obj for obj in page.json_ld)
    return {
        "template.share_links": float(share),
        "template.affiliate_links": float(aff),
        "template.affiliate_link_share": aff / len(links) if links else NAN,
        "template.rating_markup": float(rating),
        "template.faq_schema": float(any("FAQPage" in _types(obj) for obj in page.json_ld)),
    }


def _host_kind(host: str) -> tuple[tuple[str, ...], bool, bool]:
    """(share-dialog path prefixes, affiliate network?, Amazon?) of a link host (no "www.")."""
    paths = _SHARE_HOSTS.get(host) or _SHARE_HOSTS.get(host.partition(".")[2]) or ()
    return paths, host.endswith(_AFF_HOSTS), "amazon." in host


def _types(obj: dict) -> set[str]:
    """The schema.org types a json-ld object declares (``@type`` is a name or a list; anything else in
    it is the page's mistake, not ours)."""
    t = obj.get("@type")
    return {x for x in t if isinstance(x, str)} if isinstance(t, list) else {t} if isinstance(t, str) else set()
