"""Author-profile signals: real bylines versus generated author bios.

Content farms plant template bios whose parts rarely occur together on real pages:
an honorific name ("Mr. Jonathan Keller"), a street address, a phone number, a
nonsense job title ("District Technology Agent", "Freelance coffee evangelist"),
a hobby list, a first-person intro ("My name is X, I am a bright, lucky person who
loves writing and wants to share my knowledge ...") and "Article information /
Author information" blocks with "Views: / Rating: 4.8/5 (56 voted by users)" fields.
Real pages have bylines, meta/JSON-LD authors and at most a short bio with an email.

How it works, in both HTML and text mode:
- *anchors* are lines that only a bio has (bio headings, bio field labels such as
  "Hobby:" or "Job:", first-person writer intros, hipster titles);
- the *bio region* is the lines around anchors, plus (HTML) the text of author/byline
  elements; contact details, honorific names, hobby lists and job titles only count
  there, because real pages carry addresses in footers and "Dr. X said" in stories;
- intros, writer phrases, info headings, field labels and counters count page-wide.
Counts are numbers of distinct findings; ``generated_bio_score`` is a weighted sum
(see ``_WEIGHTS``) in which contact details only count next to persona markers, and
which reads as a generated bio from ``FIRE_SCORE`` on.

Speed: the page text is searched with ``str.find`` for rare needles and with a colon
scan for labels; regexes only run on the few lines or windows that hold a hit.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate, count
from operator import add

import ahocorasick

from spamdetect.page import Page, normalize_space, words

FEATURES: tuple[str, ...] = (
    "author.byline_present",
    "author.byline_consistent",
    "author.honorific_name",
    "author.street_address",
    "author.phone",
    "author.email",
    "author.hobby_list",
    "author.my_name_is",
    "author.writer_phrase",
    "author.odd_job_title",
    "author.profile_fields",
    "author.info_block",
    "author.counters",
    "author.bio_marker_kinds",
    "author.generated_bio_score",
)

NAN = float("nan")
FIRE_SCORE = 3.5  # generated_bio_score at which a page reads as carrying a generated bio

# ----- lexicons ------------------------------------------------------------------------

_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"  # upper-case-ish Latin letters (the Ā-ſ block mixes cases; good enough for names)
_NAME_TOK = rf"[{_UP}][\w'’-]*\.?"
_HONORIFICS = ("Mr Mrs Ms Mx Miss Dr Prof Sen Rep Rev Fr Msgr Hon Gov Pres Sir Dame Herr Frau Mme Mlle Sr Sra Srta "
               "Dhr Mevr").split()
_HONORIFIC = "(?:" + "|".join(_HONORIFICS) + ")"
_HONORIFIC_NAME = re.compile(rf"\b{_HONORIFIC}\.?\s+{_NAME_TOK}(?:\s+{_NAME_TOK}){{1,2}}")
# Where a name is presented as *the* author: after a name/author label, a by-word or an intro.
_NAME_SLOT_TAIL = re.compile(
    r"(?i:\b(?:name|nombre|nom|naam|nome|author|autor|autorin|auteur|written by)\s*[:：]?"
    r"|\bmy name is|\bmein name ist|\bje m'appelle|\bmi nombre es|\bmijn naam is)\s*$")
# By-words are also prepositions ("... von Prof. Dr. X"): they make a name slot only opening a line.
_BY_SLOT = re.compile(r"\s*(?i:by|von|par|por|door|di)\s*[:：]?\s*$")
_HON_TOKENS = frozenset(h.lower() for h in _HONORIFICS)

# Street-type words (US street suffixes as generators use them); German compounds separately.
_STREET = (
    "Street|St|Avenue|Ave|Road|Rd|Drive|Lane|Ln|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Terrace|Circle|Parkway|"
    "Pkwy|Highway|Hwy|Square|Trail|Crossing|Alley|Branch|Bridge|Brook|Brooks|Burg|Bypass|Camp|Canyon|Cape|"
    "Causeway|Center|Cliff|Club|Common|Corner|Course|Cove|Creek|Crescent|Crest|Dale|Dam|Divide|Estates?|"
    "Expressway|Extension|Falls|Ferry|Fields?|Flats?|Ford|Forest|Forge|Forks?|Fort|Freeway|Gardens?|Gateway|"
    "Glen|Green|Grove|Harbor|Haven|Heights|Hills?|Hollow|Inlet|Island|Isle|Junction|Key|Knolls?|Lakes?|Landing|"
    "Lights?|Loaf|Locks?|Lodge|Loop|Mall|Manor|Meadows?|Mews|Mills?|Mission|Motorway|Mount|Mountain|Neck|"
    "Orchard|Oval|Overpass|Parks?|Pass|Path|Pike|Pines?|Plains?|Plaza|Points?|Ports?|Prairie|Radial|Ramp|Ranch|"
    "Rapids?|Rest|Ridges?|River|Route|Row|Rue|Run|Shoals?|Shores?|Skyway|Springs?|Spurs?|Station|Stravenue|"
    "Stream|Summit|Throughway|Trace|Track|Trafficway|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Via|Viaduct|"
    "Views?|Villages?|Ville|Vista|Walks?|Wall|Wells?"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[{_UP}][\w'.-]*\s+){{1,3}}(?:{_STREET})\b\.?"
    r"(?P<tail>(?:,?\s+(?:Apt\.|Suite|Unit)\s*\d+)?(?:,\s*[\w .'-]{2,30})?,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
    rf"|\b[{_UP}][\w-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer)\s+\d{{1,4}}[a-z]?\b"
)
_ADDRESS_LABEL = re.compile(
    r"(?i:\b(?:address|adresse|anschrift|dirección|direccion|adres|indirizzo|endereço))\s*[:：]\s*\S")
_PHONE = re.compile(  # +2313220465 / +1 (555) 123-4567, (555) 123-4567, 555-123-4567
    r"(?:(?<![\w+])\+\d[\d ()./-]{7,18}\d|(?<!\w)\(\d{3}\)\s?\d{3}[-. ]\d{4}"
    r"|(?<![\w.-])\d{3}[-.]\d{3}[-.]\d{4}(?![\w.-]))")
_PHONE_LABEL = re.compile(
    r"(?i:\b(?:phone|telephone|tel|mobile|cell|telefon|téléphone|teléfono|telefoon|telefono|telefone))"
    r"\.?\s*[:：]\s*[+(\d]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_HOBBY_LIST = re.compile(  # a label and three or more comma-separated items
    r"(?i:\b(?:hobby|hobbies|hobbys|hobby's|interests|loisirs?|passe-temps|pasatiempos?|aficiones|passatempi|"
    r"passatempos?))\s*[:：]\s*[^,;:\n]{2,40}(?:,\s*[^,;:\n]{2,40}){2,}")

_MY_NAME_IS = re.compile(
    r"(?i:\bmy name is|\bmein name ist|\bje m'appelle|\bmi nombre es|\bmijn naam is|\bmi chiamo|\bmeu nome é)\s+"
    r"[^,;!?]{2,50}?[,.;]?\s*(?i:and\s+|und\s+|et\s+|y\s+|en\s+)?"
    r"(?i:i am|i'm|i’m|ich bin|je suis|soy|ik ben|sono|sou|eu sou)\b")
# Writer-intro phrase kinds. Each is (needles, regex or None): the lower-cased page text is
# searched for the needles with ``in`` (far cheaper than a regex pass), and the regex, when
# given, confirms on the lines that hold a needle. A kind counts once however often it occurs.
_WRITER_KINDS = (
    (("writing", "to write"), re.compile(r"\b(?:who|that)\s+lov(?:e|es)\s+(?:to\s+write|writing)\b", re.I)),
    (("passionate",), re.compile(r"\bpassionate\s+(?:writer|blogger|author|content\s+(?:writer|creator))\b", re.I)),
    (("share my knowledge",), None),
    # the adjective pile: "I am a cute, brave, fair person who ..."
    ((" person who", " individual who", " mensch, der", " persona que", " personne qui"),
     re.compile(r"(?:[^\W\d]+,\s+){2,}(?:and\s+|und\s+|y\s+|et\s+)?[^\W\d]+\s+"
                r"(?:person|individual|mensch|persona|personne),?\s+(?:who|der|que|qui)\b", re.I)),
    (("gerne schreibt", "mein wissen und"), None),
    (("qui aime écrire", "partager mes connaissances"), None),
    (("encanta escribir", "compartir mis conocimientos"), None),
)
_INTRO_NEEDLES = ("my name is", "mein name ist", "je m'appelle", "mi nombre es")

# Generator job titles are Descriptor + Area + Role ("Future Banking Agent"); real ones share the
# frame ("Senior Marketing Manager"), so a title is odd only with a rarely-used descriptor or role.
_TITLE_DESC = ("Future|Central|Internal|Legacy|District|Dynamic|Direct|Forward|Investor|Human|Customer|Product|"
               "Corporate|National|Regional|Global|International|Lead|Senior|Chief|Principal")
_TITLE_ROLE = ("Supervisor|Associate|Executive|Liaison|Officer|Manager|Engineer|Specialist|Director|Coordinator|"
               "Administrator|Architect|Analyst|Designer|Planner|Orchestrator|Technician|Developer|Producer|"
               "Consultant|Assistant|Facilitator|Agent|Representative|Strategist")
_ODD_DESC = frozenset(
    "Future Central Internal Legacy District Dynamic Direct Forward Investor Human Customer Product".split())
_ODD_ROLE = frozenset("Orchestrator Liaison Facilitator Planner Producer Agent Technician Strategist".split())
_GEN_TITLE = re.compile(rf"\b(?P<d>{_TITLE_DESC})\s+[A-Z][a-z]+\s+(?P<r>{_TITLE_ROLE})\b")
_JOB_LABEL = re.compile(
    r"(?i:\b(?:job|occupation|job title|beruf|emploi|métier|profession|trabajo|ocupación|beroep|baan|lavoro))"
    r"\s*[:：]\s*$")
# "Twitter ninja. Bacon fanatic. Freelance coffee evangelist." (bio generators).
_HIPSTER = re.compile(
    r"(?i)\b(?:coffee|bacon|beer|twitter|internet|web|music|travel|food|tv|television|pop\s+culture|social\s+media|"
    r"zombie|alcohol|tea|pizza|happiness|hipster|gamer|explorer|reader|analyst|thinker|organizer|communicator)"
    r"[\s-]+(?:evangelist|guru|ninja|wizard|aficionado|fanatic|junkie|maven|nerd|geek|buff|scholar|practitioner|"
    r"trailblazer|specialist|strategist|expert|advocate|enthusiast)s?\b")

_DIGIT = re.compile(r"\d")
_REGION_KEYS = ("honorific_name", "street_address", "phone", "email", "hobby_list", "odd_job_title")
_ADDRESS_TOKENS = frozenset("address adresse anschrift dirección direccion adres indirizzo endereço".split())
_PHONE_TOKENS = frozenset(
    "phone telephone tel mobile cell telefon téléphone teléfono telefoon telefono telefone".split())
_HOBBY_TOKENS = frozenset("hobby hobbies hobbys hobby's interests loisir loisirs passe-temps pasatiempo pasatiempos "
                          "aficiones passatempi passatempo passatempos".split())
_DESC_TOKENS = frozenset(_TITLE_DESC.lower().split("|"))
_ROLE_TOKENS = frozenset(w + s for w in "evangelist guru ninja wizard aficionado fanatic junkie maven nerd geek buff "
                         "scholar practitioner trailblazer specialist strategist expert advocate enthusiast".split()
                         for s in ("", "s"))

# Field labels ("Name: ...", "Views: 5776"), found by looking back from each colon; canonical key -> labels.
_LABELS = {
    "name": "name|nombre|nom|naam|nome",
    "birthday": "birthday|date of birth|geburtstag|geburtsdatum|anniversaire|date de naissance|cumpleaños|"
                "fecha de nacimiento|verjaardag|geboortedatum|compleanno|aniversário",
    "address": "address|adresse|anschrift|dirección|direccion|adres|indirizzo|endereço",
    "phone": "phone|telephone|telefon|téléphone|teléfono|telefoon|telefono|telefone",
    "job": "job|job title|occupation|beruf|emploi|métier|trabajo|ocupación|beroep|baan|lavoro|profissão",
    "hobby": "hobby|hobbies|hobbys|loisirs|passe-temps|pasatiempos?|aficiones|passatempi|passatempos?",
    "intro": "introduction|einführung|einleitung|introducción|introductie|introduzione|introdução",
    "email": "e-?mail|courriel|correo",
    "author": "author|autor|autorin|auteur",
    "views": "views|aufrufe|ansichten|vues|visitas|visualizaciones|weergaven|visualizzazioni",
    "rating": "rating|bewertung|évaluation|valoración|calificación|beoordeling|valutazione",
    "reviews": "reviews?|rezensionen|reseñas|recensies|recensioni",
}
_LABEL_KEYS = tuple((k, re.compile(v, re.I)) for k, v in _LABELS.items())
# Last words of all labels, plural "s" dropped: a colon after any other word is skipped cheaply.
_LABEL_LAST_WORDS = frozenset(w.replace("?", "").split()[-1].rstrip("s") for v in _LABELS.values()
                              for w in v.split("|")) | {"email", "mail"}
_LABEL_TAIL = re.compile(r"(?:^|[\n\s|•·;,(\[])(" + "|".join(_LABELS.values()) + r")\s*$", re.I)
_FIELD_KEYS = ("name", "birthday", "address", "phone", "job", "hobby", "intro", "email")
_BIO_KEYS = frozenset(("name", "birthday", "job", "hobby", "intro"))  # contact keys also sit in footers
_ANCHOR_KEYS = frozenset(("birthday", "job", "hobby", "intro"))  # anywhere in a line
_ANCHOR_START_KEYS = frozenset(("name", "author"))  # only opening a line ("Name: X", "Autor: X")
_VALUE = {  # what must follow the colon
    "views": re.compile(r"\s*\d"),
    "rating": re.compile(r"\s*\d(?:[.,]\d+)?\s*(?:/|out of|von|sur|de|van|su)\s*(?:5|10)\b", re.I),
    "reviews": re.compile(r"\s*\d{1,3}\s?%"),
}
_ANY_VALUE = re.compile(r"[ \t]*[^\s]")
_COUNTER_PHRASES = ("voted by users", "stimmen von benutzern", "votos de usuarios", "votes des utilisateurs",
                    "of readers found this page helpful", "der leser fanden diese seite hilfreich")
_COUNTER_KEYS = ("views", "rating", "reviews")

_HEADINGS = re.compile(
    r"(?:(?P<strong>article information|author information|information about the author|artikelinformationen|"
    r"autoreninformationen|informationen (?:zum|über den) autor|informations sur l'article|"
    r"informations sur l'auteur|información del artículo|información del autor|artikelinformatie|"
    r"auteursinformatie|informazioni sull'articolo|informazioni sull'autore|informações do (?:artigo|autor))"
    r"|(?P<about>about the author|about the writer|about me|author bio|über den autor|über die autorin|"
    r"zum autor|zur autorin|über mich|à propos de l'auteur|sobre el autor|sobre la autora|sobre o autor|"
    r"over de auteur|l'autore))(?![\w'])", re.I)
_HOBBY_NEEDLES = ("hobb", "interests", "loisirs", "pasatiempo")
_HIPSTER_NEEDLES = ("evangelist", "ninja", "guru", "aficionado", "fanatic", "junkie")
_HEADING_NEEDLES = ("informa", "about ", "author bio", "autor", "auteur", "über mich", "l'autore")

_BYLINE = re.compile(
    r"^(?i:by|von|par|por|door|di|av|af|przez|written by|words by|text|texto|autor|autorin|author|auteur)\s*[:：]?\s+"
    r"(?:(?i:autor|author)\s*[:：]\s*)?"
    rf"(?P<name>{_NAME_TOK}(?:\s*[,&]?\s*(?:(?i:and|und|et|y|e)\s+)?{_NAME_TOK}){{0,5}})")
_BYLINE_FIRST = frozenset("BbVvPpDdAaWwTt")
_META_AUTHOR_KEYS = ("author", "article:author", "og:article:author", "article:author_name", "parsely-author",
                     "sailthru.author", "dc.creator", "dcterms.creator", "dc:creator", "dc.author", "byl",
                     "cxenseparse:author", "citation_author", "article_author")
# One selector group = one tree walk (~0.15 ms); bio boxes are nearly always class "author-*".
_AUTHOR_CSS = '[class*="author"],[class*="byline"]'
_NAME_STOP = frozenset("by von par por door and und et the staff writer editor redaktion redaction admin".split())

_WEIGHTS = {  # per unit, with caps on units: a bio is many *different* markers, not one repeated
    "honorific_name": (1.0, 1), "street_address": (1.5, 1), "phone": (1.0, 1), "email": (0.5, 1),
    "hobby_list": (1.5, 1), "my_name_is": (1.5, 1), "writer_phrase": (1.5, 2), "odd_job_title": (1.0, 3),
    "info_block": (1.5, 1), "counters": (0.75, 3),
}
_CONTACT = frozenset(("street_address", "phone", "email"))
_PROFILE_FIELD_WEIGHT = 0.75  # per field, when at least two bio-only fields (name, birthday, job, ...) sit together


# ----- parts ---------------------------------------------------------------------------

def _structured_authors(page: Page) -> list[str]:
    """Person names declared in meta tags and JSON-LD.

    URLs, @id-only entries and names of the site itself (meta author is often the publisher:
    "Snopes", "Al Jazeera", "admin") are dropped: they say nothing about the visible byline.
    """
    names = []
    for key in _META_AUTHOR_KEYS:
        value = page.meta.get(key)
        if value and "/" not in value and "@" not in value:
            names.append(re.sub(r"^(?i:by)\s+", "", value))
    orgs = [page.meta.get("og:site_name", ""), page.meta.get("application-name", "")]
    for obj in page.json_ld[:50]:
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            orgs.append(publisher["name"])
        for field in ("author", "creator"):
            value = obj.get(field)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    item = item.get("name")
                if isinstance(item, str) and item.strip() and "/" not in item:
                    names.append(normalize_space(item))
    host = re.sub(r"[^a-z0-9]", "", (page.url or "").lower().split("//")[-1].split("/")[0])
    org_tokens = _name_tokens(orgs)
    out = []
    for name in names:
        toks = _name_tokens([name])
        if toks and not (toks & org_tokens) and not (host and "".join(sorted(toks, key=name.lower().find)) in host):
            out.append(name)
    return out


def _author_elements(page: Page, max_chars: int) -> tuple[list[str], list[str]]:
    """(bio-region texts, byline texts) from author/byline elements, comment widgets excluded."""
    if page.tree is None or page.tree.body is None:
        return [], []
    region, bylines, seen = [], [], set()
    for node in page.tree.body.css(_AUTHOR_CSS)[:40]:
        attrs = node.attributes
        marker = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        if "comment" in marker:
            continue
        text = normalize_space(node.text(separator=" "))
        if not text or len(text) > max_chars or text in seen:
            continue
        seen.add(text)
        region.append(text)
        if len(text) <= 120 and "bio" not in marker:
            bylines.append(text)
    return region, bylines


def _name_tokens(texts: list[str]) -> set[str]:
    return {w for t in texts for w in words(t) if len(w) > 1 and not w.isdigit() and w not in _NAME_STOP}


def _fold(s: str) -> str:
    """Lower-case without accents, for comparing names ("Gàbor Muniér" ~ "gabor_munier")."""
    return "".join(c for c in unicodedata.normalize("NFKD", s.lower()) if not unicodedata.combining(c))


def _same_author(declared: str, visible: list[str]) -> bool:
    """Whether a declared author shows in the visible byline texts: a shared name token, the
    declared handle spelled out ("mikecason" ~ "Mike Cason"), or its initials ("Associated Press" ~ "AP")."""
    vis = _fold(" ".join(visible))
    vis_tokens = _name_tokens([vis.replace("_", " ")])
    dec_tokens = _name_tokens([_fold(declared).replace("_", " ")])
    if dec_tokens & vis_tokens:
        return True
    squashed = re.sub(r"[\W_\d]", "", _fold(declared))
    if len(squashed) >= 5 and squashed in re.sub(r"[\W_\d]", "", vis):
        return True
    initials = "".join(w[0] for w in words(declared))
    return len(initials) >= 2 and initials in vis_tokens


def _byline_lines(lines: list[str], paragraphs: list[str], top_lines: int) -> list[str]:
    """Names from "By Name" lines above the story (before its third prose paragraph, or in the first lines)."""
    limit = top_lines
    if len(paragraphs) >= 3:
        try:
            limit = max(top_lines, lines.index(paragraphs[2]))
        except ValueError:
            pass
    names = []
    for line in lines[:limit]:
        if line[0] in _BYLINE_FIRST and len(line) <= 120:
            m = _BYLINE.match(line)
            if m:
                names.append(m.group("name"))
    return names


def _is_field(text: str, start: int) -> bool:
    """Whether a label at ``start`` reads as a field: opening a line or list item, or among other fields
    (a text dump may run "Name: .. Job: .. Hobby: .." into one line); not "liebste Hobbys: Autos, Bier"."""
    before = text[max(0, start - 3):start].strip(" \t")
    return (start == 0 or before[-1:] in ("\n", "|", "•", "·", ";", "-", "–", "")
            or text.count(":", max(0, start - 200), start) >= 2)


def _find_all(text: str, ch: str, limit: int) -> list[int]:
    out, i = [], text.find(ch)
    while i != -1 and len(out) < limit:
        out.append(i)
        i = text.find(ch, i + 1)
    return out


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    """All needles the scan looks for, matched in one Aho-Corasick pass instead of a find() loop each."""
    auto = ahocorasick.Automaton()
    needles = (_INTRO_NEEDLES + _HOBBY_NEEDLES + _HIPSTER_NEEDLES + _HEADING_NEEDLES + _COUNTER_PHRASES
               + tuple(n for needles, _ in _WRITER_KINDS for n in needles))
    for needle in needles:
        auto.add_word(needle, needle)
    auto.make_automaton()
    return auto


def _needle_offsets(low: str) -> dict[str, list[int]]:
    """Start offsets of every occurrence (overlapping ones too, as a find() loop sees them) by needle."""
    at: dict[str, list[int]] = {}
    for end, needle in _automaton().iter(low):
        at.setdefault(needle, []).append(end - len(needle) + 1)
    return at


class _Scan:
    """The page text scanned once for bio evidence; per-line hits are kept as line indices."""

    def __init__(self, lines: list[str], text: str) -> None:
        self.lines, self.text, self.low = lines, text, text.lower()
        self._at = _needle_offsets(self.low)
        self._starts: list[int] | None = None  # line start offsets, built on the first hit
        self.anchors: set[int] = set()
        self.fields: list[tuple[int, str]] = []  # (line, key) of "Label: value" pairs
        self.counters: set[str] = set()
        self.counter_lines: set[int] = set()
        self.intro_lines: set[int] = set()
        self.hipster_lines: set[int] = set()
        self.writer_kinds = 0
        self.strong_heading_lines: set[int] = set()
        self._labels()
        self._headings()
        self._phrases()

    def line_of(self, offset: int) -> int:
        if self._starts is None:  # line i starts after the i newlines and the lines before it
            ends = accumulate(map(len, self.lines[:-1]), initial=0)
            self._starts = list(map(add, ends, count()))
        return bisect_right(self._starts, offset) - 1

    def _hits(self, needles: tuple[str, ...], limit: int = 50) -> list[int]:
        """Offsets in the lower-cased text where one of ``needles`` occurs (at most ``limit``)."""
        out: list[int] = []
        for needle in needles:  # needle by needle, each in text order, as a find() loop per needle
            out += self._at.get(needle, ())[:limit - len(out)]
        return out

    def _confirmed(self, needles: tuple[str, ...], rx: re.Pattern | None, before: int, after: int) -> set[int]:
        """Lines with a needle that ``rx`` confirms in a window around it (long lines stay cheap)."""
        return {self.line_of(i) for i in self._hits(needles)
                if rx is None or rx.search(self.text, max(0, i - before), i + after)}

    def _labels(self, max_colons: int = 2000) -> None:
        text = self.text
        colons = [i for ch in (":", "：") if ch in text for i in _find_all(text, ch, max_colons)]
        for i in colons:
            if i == 0 or not (text[i - 1].isalpha() or text[i - 1] == " "):  # skips times (10:30) and URLs
                continue
            last = text[max(0, i - 25):i].rsplit(None, 1)[-1:]
            if not last or last[0].lower().rstrip("s").lstrip("|•·;,([") not in _LABEL_LAST_WORDS:
                continue
            tail = _LABEL_TAIL.search(text, max(0, i - 30), i)
            if tail is None:
                continue
            label = tail.group(1)
            at_line_start = tail.start(1) == 0 or text[tail.start(1) - 1] == "\n"
            if not at_line_start and not label[0].isupper():  # mid-line labels are capitalised
                continue
            key = next((k for k, rx in _LABEL_KEYS if rx.fullmatch(label)), "")
            if not _VALUE.get(key, _ANY_VALUE).match(text, i + 1):
                continue
            line = self.line_of(i)
            if key in _COUNTER_KEYS:
                self.counters.add(key)
                self.counter_lines.add(line)
            elif key in _FIELD_KEYS:
                self.fields.append((line, key))
            if key in _ANCHOR_KEYS or (key in _ANCHOR_START_KEYS and at_line_start):
                self.anchors.add(line)
        for phrase in _COUNTER_PHRASES:
            if phrase in self._at:
                self.counters.add(phrase)
                self.counter_lines.add(self.line_of(self._at[phrase][0]))

    def _headings(self, max_chars: int = 80) -> None:
        for i in {self.line_of(j) for j in self._hits(_HEADING_NEEDLES)}:
            m = _HEADINGS.match(self.lines[i]) if len(self.lines[i]) <= max_chars else None
            if m:
                self.anchors.add(i)
                if m.group("strong"):
                    self.strong_heading_lines.add(i)

    def _phrases(self) -> None:
        self.intro_lines = self._confirmed(_INTRO_NEEDLES, _MY_NAME_IS, 0, 150)
        self.anchors |= self.intro_lines
        for needles, confirm in _WRITER_KINDS:
            hits = self._confirmed(needles, confirm, 300, 60)
            self.writer_kinds += bool(hits)
            self.anchors |= hits
        self.anchors |= {self.line_of(i) for i in self._hits(_HOBBY_NEEDLES)
                         if _HOBBY_LIST.match(self.text, i, i + 300) and _is_field(self.text, i)}
        # two or more hipster titles close together is a generator bio ("Twitter ninja. Bacon fanatic.")
        self.hipster_lines = {self.line_of(i) for i in self._hits(_HIPSTER_NEEDLES)
                              if len(_HIPSTER.findall(self.text, max(0, i - 150), i + 150)) >= 2}
        self.anchors |= self.hipster_lines

    def region(self, before: int, after: int, max_words: int, max_anchors: int = 50) -> list[str]:
        """Lines around anchors (bio headings and labels, intros, writer phrases, hobby lists, hipster titles)."""
        keep: set[int] = set()
        for i in sorted(self.anchors)[:max_anchors]:
            keep.update(range(max(0, i - before), min(len(self.lines), i + after + 1)))
        return [self.lines[i] for i in sorted(keep) if len(self.lines[i].split()) <= max_words]

    def profile_fields(self, window: int) -> tuple[int, int]:
        """(most distinct field labels within ``window`` lines, bio-only labels among them)."""
        hits = self.fields
        best, best_bio = 0, 0
        for j, (i, _) in enumerate(hits):
            keys = {k for (i2, k) in hits[j:j + 40] if i2 - i < window}
            bio = len(keys & _BIO_KEYS)
            if (bio, len(keys)) > (best_bio, best):
                best, best_bio = len(keys), bio
        return best, best_bio


def _region_markers(region: list[str], scan: _Scan) -> dict[str, int]:
    """Distinct honorific names, addresses, phones, emails, hobby lists and odd job titles in the bio region.

    Each text is tokenised once and a regex only runs when its cheap token/char precondition holds.
    """
    found: dict[str, set[str]] = {k: set() for k in _REGION_KEYS}
    for t in region:
        toks = set(words(t))
        digit = _DIGIT.search(t) is not None
        if toks & _HON_TOKENS:
            for m in _HONORIFIC_NAME.finditer(t):
                s = m.start()
                # a name opening a long text is a story sentence ("Dr. X said ..."), not a profile
                if ((s == 0 and len(toks) <= 12) or (s > 0 and _NAME_SLOT_TAIL.search(t, max(0, s - 20), s))
                        or (s <= 12 and _BY_SLOT.fullmatch(t, 0, s))):
                    found["honorific_name"].add(" ".join(m.group(0).replace(".", " ").split()[:3]))
        if digit:
            labelled = _ADDRESS_LABEL.search(t) if toks & _ADDRESS_TOKENS else None
            short = len(toks) <= 12
            addresses = {m.group(0) for m in _ADDRESS.finditer(t)
                         # "In 2019 Apple Park ..." looks like an address; require context that says so
                         if short or labelled or m.group("tail") or not m.group(0)[0].isdigit()}
            if not addresses and labelled:
                addresses = {t[labelled.end() - 1:labelled.end() + 40]}
            found["street_address"] |= addresses
            phones = {d for d in (re.sub(r"\D", "", m.group(0)) for m in _PHONE.finditer(t)) if 9 <= len(d) <= 15}
            labelled = _PHONE_LABEL.search(t) if not phones and toks & _PHONE_TOKENS else None
            if labelled:
                phones = {t[labelled.end() - 1:][:20]}
            found["phone"] |= phones
        if "@" in t:
            found["email"].update(x.lower() for x in _EMAIL.findall(t))
        if toks & _HOBBY_TOKENS:
            found["hobby_list"].update(m.group(0)[:40].lower() for m in _HOBBY_LIST.finditer(t)
                                       if _is_field(t, m.start()))
        if toks & _DESC_TOKENS:
            for m in _GEN_TITLE.finditer(t):
                if m.group("d") in _ODD_DESC or m.group("r") in _ODD_ROLE or _JOB_LABEL.search(t, 0, m.start()):
                    found["odd_job_title"].add(m.group(0))
        if toks & _ROLE_TOKENS:
            found["odd_job_title"].update(x.lower() for x in _HIPSTER.findall(t))
    for i in scan.hipster_lines:  # "Twitter ninja. Bacon fanatic." needs no anchor
        found["odd_job_title"].update(x.lower() for x in _HIPSTER.findall(scan.lines[i][:2000]))
    return {k: len(v) for k, v in found.items()}


# ----- family --------------------------------------------------------------------------

def features(page: Page, *, top_lines: int = 40, window_before: int = 2, window_after: int = 8,
             max_bio_line_words: int = 80, max_author_element_chars: int = 1500, field_window: int = 15,
             max_lines: int = 5000) -> dict[str, float]:
    """Byline presence/consistency and generated-bio markers (see module docstring)."""
    lines = page.lines
    text = page.text
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        text = "\n".join(lines)
    html = page.is_html

    # Byline: visible "By Name" lines, author elements, and declared (meta / JSON-LD) authors.
    line_names = _byline_lines(lines, page.paragraphs, top_lines)
    element_texts, element_bylines = _author_elements(page, max_author_element_chars) if html else ([], [])
    declared = _structured_authors(page) if html else []
    visible = line_names + element_bylines
    byline_present = float(bool(visible or declared))
    consistent = float(any(_same_author(d, visible) for d in declared)) if html and visible and declared else NAN

    scan = _Scan(lines, text)
    region = scan.region(window_before, window_after, max_bio_line_words) + element_texts
    labelled = {i for i, _ in scan.fields} | scan.counter_lines
    counts = {
        **_region_markers(region, scan),
        "my_name_is": len(scan.intro_lines),
        "writer_phrase": scan.writer_kinds,
        # "Author information" is also a real section title (journals); the farm block lists fields under it
        "info_block": float(any(j in labelled for i in scan.strong_heading_lines for j in range(i, i + 11))),
        "counters": len(scan.counters),
    }
    n_fields, n_bio_fields = scan.profile_fields(field_window)

    persona = sum(w * min(counts[k], cap) for k, (w, cap) in _WEIGHTS.items() if k not in _CONTACT)
    if n_bio_fields >= 2:
        persona += _PROFILE_FIELD_WEIGHT * n_fields
    # Contact details alone are a real author box or a newsroom footer; they only add to a persona.
    contact = sum(w * min(counts[k], cap) for k, (w, cap) in _WEIGHTS.items() if k in _CONTACT)
    score = persona + contact if persona > 0 else 0.0
    kinds = sum(1 for k, v in counts.items() if v > 0 and (persona > 0 or k not in _CONTACT)) + (n_bio_fields >= 2)

    out = {
        "author.byline_present": byline_present,
        "author.byline_consistent": consistent,
        **{f"author.{k}": float(v) for k, v in counts.items()},
        "author.profile_fields": float(n_fields),
        "author.bio_marker_kinds": float(kinds),
        "author.generated_bio_score": float(score),
    }
    return {k: out[k] for k in FEATURES}
