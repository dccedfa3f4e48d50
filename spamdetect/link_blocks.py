"""Find link lists such as Related / Trending / Don't Miss on a page.

Three ways in, as a reader would spot them:
- ``heading``: a short heading-like line whose text is a known label ("Related", "Mehr zum
  Thema", ...), with the links that follow it in its nearest container;
- ``class``: a container whose class/id names such a block (``related-posts``, ``most-read``);
- ``text`` (text mode only): a label line followed by several headline-like lines.

Only entries that read as headlines (>= 3 words) are kept, so navigation menus of
single-word links ("News", "Sport", "Weather") never make a block.
"""

from __future__ import annotations

from dataclasses import replace

import re

from spamdetect.page import LinkBlock, Page, normalize_many, normalize_space

# ---------------------------------------------------------------------------------------
# Labels. Anchored on the whole (short) line; an optional trailing colon/arrow/count is allowed.
_LABELS_EN = (
    r"related(?: (?:posts?|articles?|stories|story|news|content|coverage|links|reading|videos?|topics))?",
    r"rankings?", r"recommendations?", r"recommended(?: (?:for you|articles|stories|reading|posts|news))?",
    r"more", r"more (?:stories|news|articles|posts|headlines|videos|to read|to explore|on this(?: story| topic)?"
    r"|(?:from|in|on|about) .{2,30})",
    r"(?:don'?t|do not) miss(?: this| it)?", r"must reads?", r"trending(?: now| stories| news| articles| posts| topics)?",
    r"(?:most )?popular(?: now| posts| stories| articles| news| today)?", r"most (?:read|viewed|shared|commented|recent)",
    r"(?:what )?(?:you|we think you) (?:may|might|could|will) (?:also )?(?:like|enjoy|be interested in)",
    r"(?:read|up) next", r"what to read next", r"(?:also|read) also", r"also read", r"read more(?: (?:news|stories|articles))?",
    r"see also", r"further reading", r"in other news", r"other (?:news|stories)", r"top (?:stories|news|headlines|picks|reads)",
    r"latest(?: (?:news|stories|posts|articles|headlines|updates))?", r"recent (?:posts|articles|news|stories)",
    r"editor'?s'? (?:picks?|choice)", r"around the web", r"from the web", r"hot (?:news|posts|stories|topics)",
    r"random (?:posts|articles)", r"you may have missed", r"in case you missed it", r"featured(?: (?:posts|stories|articles))?",
    r"keep reading", r"continue reading", r"news ?feed",
)
_LABELS_DE = (
    r"mehr zum thema(?: .{2,30})?", r"(?:das|dies) k[öo]nnte (?:sie|dich) auch interessieren", r"auch interessant",
    r"(?:weitere|mehr|neueste|aktuelle|[äa]hnliche|verwandte|passende) (?:artikel|nachrichten|meldungen|news|beitr[äa]ge|themen)",
    r"meistgelesen(?:e)?(?: artikel| nachrichten)?", r"meist ?gelesen", r"am meisten gelesen", r"meistgeklickt",
    r"beliebt(?:e artikel|este artikel)?", r"empfehlungen", r"(?:unsere|die) empfehlung(?:en)?(?: f[üu]r sie)?",
    r"lesen sie (?:auch|mehr|weiter)", r"lies auch", r"mehr (?:aus|zu|von) .{2,30}", r"top[- ]?(?:themen|artikel|news|meldungen)",
    r"passend dazu", r"dazu passend", r"zum thema", r"nicht verpassen", r"trends?",
)
_LABELS_ES = (
    r"(?:noticias|art[íi]culos|notas) relacionad[ao]s", r"relacionad[ao]s?", r"lo m[áa]s (?:le[íi]do|visto|popular)",
    r"m[áa]s (?:le[íi]d[ao]s|vist[ao]s|noticias|populares)", r"(?:tambi[ée]n )?(?:te|le) puede(?:n)? interesar",
    r"quiz[áa](?:s)? (?:te|le) interese", r"no te pierdas", r"tendencias?", r"[úu]ltimas noticias", r"recomendad[ao]s?",
    r"(?:lee|lea) tambi[ée]n", r"te recomendamos",
)
_LABELS_FR = (
    r"[àa] lire (?:aussi|[ée]galement)", r"lire aussi", r"sur le m[êe]me (?:sujet|th[èe]me)", r"articles? (?:similaires|li[ée]s|connexes)",
    r"(?:les? )?plus (?:lu|lus|lues|populaires|partag[ée]s)", r"tendances?", r"[àa] ne pas manquer",
    r"vous (?:aimerez|pourriez) (?:aussi|[ée]galement)(?: aimer)?", r"recommand[ée]s? pour vous", r"nos recommandations",
    r"derni[èe]res? (?:nouvelles|actualit[ée]s|infos)", r"plus d'articles", r"[àa] d[ée]couvrir (?:aussi|[ée]galement)",
)
_LABELS_OTHER = (  # a few it/pt/nl labels: cheap to carry, common in crawls
    r"potrebbe interessarti", r"articoli correlati", r"i pi[ùu] letti", r"leia tamb[ée]m", r"veja tamb[ée]m",
    r"mais lid[ao]s", r"gerelateerd(?:e artikelen)?", r"meest gelezen",
)
_LABEL_BODY = "|".join(_LABELS_EN + _LABELS_DE + _LABELS_ES + _LABELS_FR + _LABELS_OTHER)
# Matched on the lower-cased line: sre's IGNORECASE doubles the cost of this big alternation.
_LABEL_RE = re.compile(rf"(?:{_LABEL_BODY})\s*(?:[:»›>→+-]|\(\d+\))?")

# Class/id fragments that name a link block, matched case-sensitively without their first
# letter ("elated" finds related/Related/relatedPosts): case-insensitive matching and every
# extra class selector cost lexbor a full pass, and this selector is the family's biggest cost.
CLASS_KEYS = ("elated", "ecommend", "anking", "rending", "opular", "most", "Most", "miss")
ID_KEYS = ("elated", "opular", "most")  # ids mostly repeat the class; these are the ones seen alone
# The selector casts a wide net (cheap); this confirms the class/id really names a block.
_CLASS_OK = re.compile(
    r"related|recommend|(?<![bcfhky])ranking|trending|popular|most[-_]?(?:read|view|popular|shared|comment|recent|clicked)"
    r"|dont[-_]?miss|do[-_]?not[-_]?miss|missed", re.IGNORECASE)
_CLASS_SELECTOR = ",".join([f'[class*="{k}"]' for k in CLASS_KEYS] + [f'[id*="{k}"]' for k in ID_KEYS])

_HEADING_SELECTOR = "h2,h3,h4,h5,h6,strong,b,header,summary,legend,figcaption"
_LABEL_TAGS = ("span", "div", "p", "a", "li", "button", "dt", "label", "em")
_JUNK_RE = re.compile(
    r"^(?:read (?:more|full|the full)|more|next|previous|prev|continue|see (?:all|more)|view (?:all|more)|show more"
    r"|load more|weiterlesen|mehr|alle .{1,20} anzeigen|leer m[áa]s|ver m[áa]s|lire la suite|en savoir plus"
    r"|share|comments?|\d+ comments?|kommentare?)\b", re.IGNORECASE)
_MONTHS = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september "
    "october november december januar februar märz mai juni juli oktober dezember enero febrero marzo abril mayo "
    "junio julio agosto septiembre octubre noviembre diciembre janvier février mars avril juin juillet août "
    "septembre octobre novembre décembre am pm uhr min ago hours hour minutes days day vor stunden minuten".split())
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_RANK_PREFIX_RE = re.compile(r"^(?:#|no\.\s?)?(\d{1,2})(?:[.):]|\s)\s*(?=\S)")
_SENTENCE_END_RE = re.compile(r"[.;,]$")


def is_headline(text: str, min_words: int = 3, max_words: int = 30) -> bool:
    """Whether a link text / line reads as a headline: a few words, not a date, number or 'Read more'."""
    if not text or len(text) > 300:
        return False
    if _CJK_RE.search(text):  # no spaces between words: count characters instead
        return 8 <= len(_CJK_RE.findall(text)) <= 120
    toks = _TOKEN_RE.findall(text)
    if not (min_words <= len(toks) <= max_words) or _JUNK_RE.match(text):
        return False
    filler = sum(1 for t in toks if t.isdigit() or t.lower() in _MONTHS)
    return filler * 2 < len(toks)


def _strip_rank(text: str) -> tuple[str, bool]:
    m = _RANK_PREFIX_RE.match(text)
    return (text[m.end():], True) if m else (text, False)


# ---------------------------------------------------------------------------------------
# HTML mode


def _collect(anchors, seen_ids: set[int], max_anchors: int) -> tuple[list[str], list[str], list[int], bool]:
    """Headline texts/hrefs of anchors (deduplicated by href and text), their ids, and numbering."""
    by_href: dict[str, int] = {}
    heads: list[str] = []
    hrefs: list[str] = []
    ids: list[int] = []
    ranks = 0
    for node in anchors[:max_anchors]:
        mid = node.mem_id
        if mid in seen_ids:
            continue
        text, ranked = _strip_rank(normalize_space(node.text(separator=" ")))  # "Gizmodo<span>DOJ" -> two words
        if not is_headline(text):
            continue
        href = (node.attributes.get("href") or "").strip()
        ids.append(mid)
        if href in by_href:  # image link + title link to one story: keep the fuller text
            i = by_href[href]
            if len(text) > len(heads[i]):
                heads[i] = text
            continue
        if text in heads:
            continue
        by_href[href] = len(heads)
        heads.append(text)
        hrefs.append(href)
        ranks += ranked
    return heads, hrefs, ids, ranks >= 3


def _following_anchors(node, max_levels: int, max_anchors: int, max_siblings: int):
    """Anchors after ``node`` in its nearest ancestor that has >= 3 of them; None if none found."""
    cur = node
    for _ in range(max_levels):
        found = []
        sib = cur.next
        n = 0
        while sib is not None and n < max_siblings and len(found) <= max_anchors:
            if sib.is_element_node:
                n += 1
                if sib.tag == "a":
                    found.append(sib)
                else:
                    found.extend(sib.css("a[href]"))
            sib = sib.next
        if len(found) >= 3:
            return found, cur.parent
        if len(found) > max_anchors:
            return None
        cur = cur.parent
        if cur is None or cur.tag in ("body", "html", "main", "article"):
            return None
    return None


def _is_numbered(container) -> bool:
    return container is not None and (container.tag == "ol" or container.css_first("ol a[href]") is not None)


def is_label(line: str) -> bool:
    """Whether a short line is a link-block label ("Related", "Mehr zum Thema:", ...)."""
    return len(line) <= 60 and _LABEL_RE.fullmatch(line.lower()) is not None


def _label_nodes(body, labels: dict[str, str], max_nodes: int):
    """(node, label) for elements whose whole text is one of ``labels`` (lower-cased key -> label)."""
    found: dict[str, list] = {}
    # Real headings first: one cheap tag query, then a text check per heading (the short texts
    # normalised in one pass rather than a regex call each).
    heads = body.css(_HEADING_SELECTOR)[:max_nodes]
    texts = [node.text() for node in heads]
    short = [i for i, text in enumerate(texts) if len(text) <= 80]
    for i, key in zip(short, normalize_many([texts[i] for i in short])):
        key = key.lower()
        if key in labels:
            found.setdefault(key, []).append(heads[i])
    # Labels set in plain span/div/li: text search, only for labels not found as headings.
    for key, label in labels.items():
        if key in found:
            continue
        quoted = label.replace("\\", "\\\\").replace('"', '\\"')
        try:
            nodes = body.css(",".join(f'{t}:lexbor-contains("{quoted}" i)' for t in _LABEL_TAGS))
        except Exception:  # an odd label the selector parser rejects: skip it, never crash
            continue
        for node in nodes[:20]:
            text = node.text(deep=node.tag != "div")  # a div label holds its text directly
            if len(text) <= 80 and normalize_space(text).lower() == key:
                found.setdefault(key, []).append(node)
    for key, nodes in found.items():
        for node in nodes[:8]:
            yield node, labels[key]


def _heading_blocks(page: Page, *, max_labels: int, max_levels: int, max_anchors: int, max_siblings: int,
                    seen: set[int]) -> list[tuple[LinkBlock, bool]]:
    labels: dict[str, str] = {}
    match = _LABEL_RE.fullmatch
    for line in page.lines:
        if len(line) <= 60 and match(line.lower()):
            labels.setdefault(line.lower(), line)
            if len(labels) >= max_labels:
                break
    out: list[tuple[LinkBlock, bool]] = []
    if not labels:
        return out
    for node, label in _label_nodes(page.tree.body, labels, max_nodes=400):
        hit = _following_anchors(node, max_levels, max_anchors, max_siblings)
        if hit is None:
            continue
        anchors, container = hit
        heads, hrefs, ids, ranked = _collect(anchors, seen, max_anchors)
        if len(heads) >= 2:
            seen.update(ids)
            out.append((LinkBlock(label, tuple(heads), tuple(hrefs), "heading"), ranked or _is_numbered(container)))
    return out


def _class_blocks(page: Page, *, max_anchors: int, max_matches: int, seen: set[int]) -> list[tuple[LinkBlock, bool]]:
    out: list[tuple[LinkBlock, bool]] = []
    accepted: set[int] = set()
    for node in page.tree.body.css(_CLASS_SELECTOR)[:max_matches]:
        if node.tag in ("body", "html", "a", "img", "script", "link", "meta", "input"):
            continue
        attrs = node.attributes
        if not _CLASS_OK.search(f"{attrs.get('class') or ''} {attrs.get('id') or ''}"):
            continue
        anc, inside = node.parent, False
        while anc is not None:
            if anc.mem_id in accepted:
                inside = True
                break
            anc = anc.parent
        if inside:
            continue
        anchors = node.css("a[href]")
        if not (3 <= len(anchors) <= max_anchors * 2):
            continue
        accepted.add(node.mem_id)  # outermost plausible container wins, even if it yields nothing new
        heads, hrefs, ids, ranked = _collect(anchors, seen, max_anchors)
        if len(heads) < 2:
            continue
        seen.update(ids)
        out.append((LinkBlock(_class_label(node), tuple(heads), tuple(hrefs), "class"),
                    ranked or _is_numbered(node)))
    return out


def _class_label(node) -> str:
    head = node.css_first("h2,h3,h4,h5,h6")
    if head is not None:
        text = normalize_space(head.text())
        if 0 < len(text) <= 60:
            return text
    attrs = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
    for tok in attrs.split():
        if _CLASS_OK.search(tok):
            return tok[:60]
    return attrs.strip()[:60]


# ---------------------------------------------------------------------------------------
# Text mode


def _text_blocks(page: Page, *, max_labels: int, max_items: int, max_gap: int,
                 min_headlines: int) -> list[tuple[LinkBlock, bool]]:
    lines = page.lines
    out: list[tuple[LinkBlock, bool]] = []
    n_labels = 0
    i = 0
    while i < len(lines) and n_labels < max_labels:
        line = lines[i]
        if not is_label(line):
            i += 1
            continue
        n_labels += 1
        heads: list[str] = []
        ranks = gap = 0
        j = i + 1
        while j < len(lines) and len(heads) < max_items:
            cand = lines[j]
            text, ranked = _strip_rank(cand)
            if is_label(cand):
                break
            if is_headline(text, max_words=20) and not _SENTENCE_END_RE.search(text):
                if text not in heads:
                    heads.append(text)
                    ranks += ranked
                gap = 0
            elif len(_TOKEN_RE.findall(cand)) <= 3 and not _SENTENCE_END_RE.search(cand):
                # bylines, dates, rank numbers and category tags sit between headlines
                ranks += cand.strip("#.").isdigit()
                gap += 1
                if gap > max_gap:
                    break
            else:
                break
            j += 1
        if len(heads) >= min_headlines:
            out.append((LinkBlock(line, tuple(heads), (), "text"), ranks >= 3))
            i = j
        else:
            i += 1
    return out


# ---------------------------------------------------------------------------------------


def _drop_repeats(found: list[tuple[LinkBlock, bool]]) -> list[tuple[LinkBlock, bool]]:
    """Drop blocks whose headlines mostly repeat an earlier block (desktop/mobile copies of one widget)."""
    seen: set[str] = set()
    out = []
    for block, numbered in found:
        repeats = sum(h in seen for h in block.headlines)
        seen.update(block.headlines)
        if repeats < 0.8 * len(block.headlines):
            out.append((block, numbered))
    return out


def find_link_blocks(page: Page, *, max_labels: int = 12, max_levels: int = 5, max_anchors: int = 40,
                     max_siblings: int = 30, max_class_matches: int = 60, max_blocks: int = 12,
                     text_min_headlines: int = 3) -> list[LinkBlock]:
    """Link lists such as Related / Trending / Don't Miss, in the order found (heading, then class).

    ``Page.link_blocks`` calls this once per page with the default caps and caches the result.
    """
    try:
        if page.tree is None:
            found = _text_blocks(page, max_labels=max_labels, max_items=max_anchors, max_gap=2,
                                 min_headlines=text_min_headlines)
        elif page.tree.body is None:
            found = []
        else:
            seen: set[int] = set()
            found = _heading_blocks(page, max_labels=max_labels, max_levels=max_levels, max_anchors=max_anchors,
                                    max_siblings=max_siblings, seen=seen)
            found += _class_blocks(page, max_anchors=max_anchors, max_matches=max_class_matches, seen=seen)
    except RecursionError:
        found = []
    return [replace(block, numbered=numbered) for block, numbered in _drop_repeats(found)[:max_blocks]]
