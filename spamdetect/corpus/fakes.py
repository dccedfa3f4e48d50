"""Seeded generators of the fake things content farms put on pages.

Every generator takes a ``random.Random``: no module-level randomness, so a corpus built with a
seed is reproducible. Wording is drawn per language from ``spamdetect.corpus.phrases``.
"""

from __future__ import annotations

import json
import random
import re
import string
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

from spamdetect.config import PACKAGE_DIR
from spamdetect.corpus import phrases as ph

# ----- people -------------------------------------------------------------------------------

FIRST = {
    "en": ["James", "Emily", "Michael", "Sarah", "David", "Jessica", "Robert", "Ashley", "John", "Amanda", "Daniel",
           "Olivia", "Chris", "Megan", "Kevin", "Rachel", "Brian", "Laura", "Jason", "Hannah", "Ryan", "Sophia",
           "Tyler", "Grace", "Ethan", "Chloe", "Mason", "Ava", "Logan", "Mia", "Noah", "Zoe", "Liam", "Ella"],
    "de": ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Laura", "Maximilian", "Sophie", "Tobias", "Julia", "Florian",
           "Katharina", "Stefan", "Sabine", "Thomas", "Claudia", "Jan", "Lisa", "Markus", "Nina", "Sebastian", "Miriam"],
    "fr": ["Julien", "Camille", "Nicolas", "Chloé", "Antoine", "Manon", "Pierre", "Léa", "Mathieu", "Sophie"],
    "es": ["Carlos", "Lucía", "Javier", "María", "Diego", "Sofía", "Pablo", "Carmen", "Alejandro", "Elena"],
    "it": ["Marco", "Giulia", "Luca", "Francesca", "Matteo", "Chiara", "Alessandro", "Sara"],
    "pt": ["João", "Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Rafael", "Camila"],
    "ja": ["健太", "さくら", "翔太", "美咲", "大輔", "陽菜", "拓也", "結衣"],
}
LAST = {
    "en": ["Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
           "Moore", "Martin", "Thompson", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "Hartman", "Bennett",
           "Carter", "Mitchell", "Parker", "Collins", "Reed", "Cooper", "Hughes", "Foster", "Sanders"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz",
           "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Hartmann", "Krüger"],
    "fr": ["Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon", "Michel", "Garnier"],
    "es": ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz", "Moreno"],
    "it": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
    "pt": ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida"],
    "ja": ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村"],
}
HONORIFICS = {
    "en": ["Dr.", "Prof.", "Mr.", "Mrs.", "Ms.", "Dr. Prof.", "Sir", "Rev.", "Eng."],
    "de": ["Dr.", "Prof.", "Prof. Dr.", "Dipl.-Ing.", "Herr", "Frau", "Mag."],
    "fr": ["Dr", "Pr", "M.", "Mme"], "es": ["Dr.", "Dra.", "Lic.", "Ing."], "it": ["Dott.", "Prof.", "Ing."],
    "pt": ["Dr.", "Dra.", "Prof."], "ja": ["博士", "教授"],
}
SUFFIXES = ["PhD", "MBA", "M.Sc.", "MD", "Jr.", "CPA"]


def _langed(table: dict, lang: str) -> list:
    return table.get(lang) or table["en"]


def person_name(rng: random.Random, lang: str = "en", honorific_prob: float = 0.0) -> str:
    """'Emily Hartman', with probability ``honorific_prob`` 'Dr. Emily Hartman, PhD' style."""
    first, last = rng.choice(_langed(FIRST, lang)), rng.choice(_langed(LAST, lang))
    name = f"{last}{first}" if lang == "ja" else f"{first} {last}"
    if rng.random() < honorific_prob:
        hon = rng.choice(_langed(HONORIFICS, lang))
        name = f"{name}{hon}" if lang == "ja" else f"{hon} {name}"
        if lang != "ja" and rng.random() < 0.3:
            name += ", " + rng.choice(SUFFIXES)
    return name


STREETS = {
    "en": ["Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Park Road", "Elm Street", "Sunset Blvd",
           "Washington Ave", "Lakeview Drive", "Hillcrest Road"],
    "de": ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schillerstraße", "Goethestraße", "Am Markt"],
    "fr": ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue des Lilas"],
    "es": ["Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia"],
}
TOWNS = {
    "en": [("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Denver", "CO", "802"), ("Tampa", "FL", "336"),
           ("Portland", "OR", "972"), ("Columbus", "OH", "432"), ("Newark", "NJ", "071"), ("Reno", "NV", "895")],
    "de": [("Berlin", "", "10"), ("Hamburg", "", "20"), ("Köln", "", "50"), ("Leipzig", "", "04"), ("Essen", "", "45")],
    "fr": [("Paris", "", "75"), ("Lyon", "", "69"), ("Lille", "", "59")],
    "es": [("Madrid", "", "28"), ("Sevilla", "", "41"), ("Valencia", "", "46")],
}


def street_address(rng: random.Random, lang: str = "en") -> str:
    street = rng.choice(_langed(STREETS, lang))
    town, state, zip_prefix = rng.choice(_langed(TOWNS, lang))
    num = rng.randint(1, 9999 if lang == "en" else 180)
    zipc = zip_prefix + "".join(rng.choice(string.digits) for _ in range(5 - len(zip_prefix)))
    if lang == "en":
        return f"{num} {street}, {town}, {state} {zipc}"
    if lang == "de":
        return f"{street} {num}, {zipc} {town}"
    return f"{num} {street}, {zipc} {town}"


def phone_number(rng: random.Random, lang: str = "en") -> str:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    if lang == "de":
        return rng.choice([f"+49 {rng.randint(30, 899)} {d(7)}", f"0{rng.randint(30, 899)} / {d(6)}"])
    if lang == "fr":
        return f"+33 {rng.randint(1, 9)} {d(2)} {d(2)} {d(2)} {d(2)}"
    if lang == "ja":
        return f"03-{d(4)}-{d(4)}"
    return rng.choice([f"+1 ({rng.randint(201, 989)}) {d(3)}-{d(4)}", f"{rng.randint(201, 989)}-{d(3)}-{d(4)}",
                       f"+1-{rng.randint(201, 989)}-{d(3)}-{d(4)}", f"+44 20 {d(4)} {d(4)}"])


def slug_ascii(s: str, sep: str = "-", max_words: int = 12) -> str:
    """ASCII slug of ``s`` ('' when nothing Latin survives, e.g. Japanese)."""
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", s.lower())[:max_words]
    return sep.join(parts)


def email_for(rng: random.Random, name: str, domain: str) -> str:
    parts = [p for p in slug_ascii(name, " ").split() if p not in {"dr", "prof", "mr", "mrs", "ms", "phd", "mba"}]
    if not parts:
        parts = ["info"]
    local = rng.choice([".".join(parts), parts[0], parts[0][0] + parts[-1], "".join(parts) + str(rng.randint(1, 99))])
    if rng.random() < 0.35:
        domain = rng.choice(["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "proton.me", "gmx.de"])
    return f"{local}@{domain}"


JOB_A = ["Award-winning", "Certified", "Professional", "Passionate", "Hardcore", "Freelance", "Self-proclaimed",
         "Lifelong", "Unapologetic", "Devoted", "Evil", "Friendly", "Extreme", "Subtly charming", "Senior",
         "Chief", "Total", "Typical", "Incurable", "Hipster-friendly"]
JOB_B = ["coffee", "bacon", "pop culture", "travel", "web", "music", "internet", "beer", "zombie", "alcohol",
         "social media", "food", "tv", "crypto", "SEO", "content", "twitter", "gaming", "wellness", "pizza"]
JOB_C = ["evangelist", "ninja", "guru", "fanatic", "scholar", "practitioner", "junkie", "trailblazer", "nerd",
         "advocate", "expert", "specialist", "aficionado", "maven", "enthusiast", "strategist", "wizard", "lover"]
JOB_DE = ["Content-Spezialist", "Online-Redakteur", "SEO-Experte", "Lifestyle-Bloggerin", "Kaffee-Liebhaber",
          "Technik-Enthusiast", "Social-Media-Guru", "Reise-Fan"]


def job_title(rng: random.Random, lang: str = "en") -> str:
    """A nonsense job line: 'Certified bacon evangelist. Total coffee ninja.'"""
    if lang == "de" and rng.random() < 0.6:
        return " und ".join(rng.sample(JOB_DE, 2))
    n = rng.choice([1, 1, 2, 3])
    parts = [f"{rng.choice(JOB_A)} {rng.choice(JOB_B)} {rng.choice(JOB_C)}" for _ in range(n)]
    if n == 1 and rng.random() < 0.4:
        return rng.choice(["Senior", "Chief", "Head", "Lead"]) + " " + rng.choice(
            ["Content Officer", "Happiness Officer", "News Writer", "Trend Analyst", "Digital Storyteller"])
    return ". ".join(parts) + "."


HOBBIES = {
    "en": ["reading", "hiking", "cooking", "photography", "yoga", "gardening", "traveling", "chess", "painting",
           "cycling", "fishing", "knitting", "video games", "baking", "running", "watching movies", "swimming"],
    "de": ["Lesen", "Wandern", "Kochen", "Fotografie", "Yoga", "Gärtnern", "Reisen", "Schach", "Radfahren", "Backen"],
    "fr": ["lecture", "randonnée", "cuisine", "photographie", "voyages", "jardinage"],
    "es": ["lectura", "senderismo", "cocina", "fotografía", "viajes", "jardinería"],
}
BIO_ADJ = {
    "en": ["creative", "curious", "passionate", "hardworking", "friendly", "dedicated", "enthusiastic", "cheerful"],
    "de": ["kreativer", "neugieriger", "leidenschaftlicher", "fleißiger", "freundlicher"],
    "fr": ["créative", "curieuse", "passionnée"], "es": ["creativa", "curiosa", "apasionada"],
    "ja": ["好奇心旺盛な", "情熱的な"],
}


def hobbies(rng: random.Random, lang: str = "en", k: int | None = None) -> list[str]:
    pool = _langed(HOBBIES, lang)
    return rng.sample(pool, min(len(pool), k or rng.randint(3, 6)))


def bio_text(rng: random.Random, lang: str, name: str, topic: str) -> str:
    """'My name is X, I am a ... person who loves writing.' in the page's language."""
    adj = _langed(BIO_ADJ, lang)
    a, b = rng.sample(adj, 2) if len(adj) > 1 else (adj[0], adj[0])
    return ph.pick(lang, "bio", rng).format(name=name, adj=a, adj2=b, topic=topic or "news",
                                              hobby=rng.choice(hobbies(rng, lang)))


# ----- counters and ratings ---------------------------------------------------------------

def view_count(rng: random.Random, lang: str = "en") -> str:
    n = int(rng.lognormvariate(8.5, 1.6))
    shown = rng.choice([f"{n:,}", str(n), f"{n / 1000:.1f}K" if n >= 1000 else str(n)])
    return f"{shown} {ph.pick(lang, 'views', rng)}"


def fake_rating(rng: random.Random, lang: str = "en") -> tuple[str, float, int]:
    """A rating line ('veryGood! (5776)', '★★★★☆ 4.6/5 (1,234 votes)'), its value and vote count."""
    value = round(rng.uniform(4.1, 5.0), 1)
    votes = int(rng.lognormvariate(7, 1.4)) + 3
    stars = "★" * round(value) + "☆" * (5 - round(value))
    style = rng.randrange(6)
    if style == 0:
        text = f"{rng.choice(['veryGood!', 'Good!', 'Excellent!', 'Great!', 'Sehr gut!', 'Super!'])} ({votes})"
    elif style == 1:
        text = f"{stars} {value}/5 ({votes:,} {ph.pick(lang, 'votes', rng)})"
    elif style == 2:
        text = f"{ph.pick(lang, 'rating', rng)}: {value} / 5 ({votes} {ph.pick(lang, 'votes', rng)})"
    elif style == 3:
        text = f"{stars} ({votes})"
    elif style == 4:
        text = f"{value} {stars} {votes} {ph.pick(lang, 'votes', rng)}"
    else:
        text = f"👍 {votes} 👎 {rng.randint(0, max(1, votes // 40))}"
    return text, value, votes


# ----- sites and domains --------------------------------------------------------------------

_ADJ = ["daily", "top", "best", "hot", "viral", "smart", "today", "prime", "global", "instant", "mega", "true",
        "trendy", "fresh", "super", "latest", "real", "the", "my", "breaking", "express", "insider", "live"]
_TOPIC = ["news", "trend", "buzz", "story", "info", "media", "post", "times", "world", "headline", "report", "tech",
          "health", "celeb", "sport", "finance", "life", "update", "pulse", "daily", "wire", "feed"]
_NOUN = ["hub", "zone", "point", "spot", "now", "today", "online", "central", "press", "network", "times", "line",
         "hq", "wave", "club", "portal", "24", "365", "pro", "blog", "lab", "base"]
_DE = ["nachrichten", "aktuell", "news", "heute", "neuigkeiten", "magazin", "ratgeber", "trends", "blick", "welt",
       "kurier", "bote", "report", "echo", "zeitung"]
_LOCAL_TOWN = ["riverside", "oakridge", "lakewood", "fairview", "hillsboro", "greenville", "clayton", "ashford",
               "brookfield", "milton", "westbury", "northgate"]
_LOCAL_PAPER = ["gazette", "herald", "courier", "tribune", "chronicle", "observer", "journal", "sentinel", "ledger",
                "dispatch", "examiner", "post"]
TLDS = ["com"] * 12 + ["net"] * 3 + ["org", "info", "info", "xyz", "xyz", "top", "site", "online", "news", "co",
                                     "live", "club", "blog", "press", "us", "in", "co.uk", "io", "today", "website"]


def farm_site(rng: random.Random, lang: str = "en") -> tuple[str, str]:
    """(site name, domain) of a made-up farm: ('Daily Trend News 24', 'dailytrendnews24.com') and kin."""
    style = rng.random()
    if lang == "de" and rng.random() < 0.6:
        words = rng.sample(_DE, 2) if rng.random() < 0.6 else [rng.choice(_DE), rng.choice(_NOUN)]
        tld = rng.choice(["de", "de", "de", "com", "net", "info", "online", "at", "ch"])
    elif style < 0.15:  # plausible local paper: farms impersonate those
        words = [rng.choice(_LOCAL_TOWN), rng.choice(_LOCAL_PAPER)]
        tld = rng.choice(["com", "com", "net", "org", "news"])
    else:
        words = [rng.choice(_ADJ), rng.choice(_TOPIC)]
        if rng.random() < 0.6:
            words.append(rng.choice(_NOUN))
        tld = rng.choice(TLDS)
    if rng.random() < 0.2:
        words.append(str(rng.choice([24, 365, 7, 1, 360, 247, rng.randint(10, 99)])))
    name = " ".join(w.upper() if len(w) <= 2 else w.capitalize() for w in words)
    joiner = "-" if rng.random() < 0.3 else ""
    host = joiner.join(words)
    if joiner and rng.random() < 0.4:
        host = "the-" + host
    return name, f"{host}.{tld}"


_PLAIN_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$")


@lru_cache(maxsize=4)
def load_blocklist_domains(root: str) -> tuple[str, ...]:
    """Plain domains from the content-farm-terminator block lists under ``root`` (read at build time only)."""
    base = Path(root) / "domain-lists" / "content-farm-terminator" / "blocklist"
    out: list[str] = []
    for name in ("content-farms.txt", "extra-content-farms.txt", "nearly-content-farms.txt", "bad-cloners.txt"):
        path = base / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            d = line.split("#", 1)[0].strip().lower()
            if _PLAIN_DOMAIN.match(d):
                out.append(d)
    return tuple(sorted(set(out)))


def site_name_from_domain(domain: str) -> str:
    core = domain.split(".")[0].replace("-", " ")
    return core.title() if core else domain


def farm_url(rng: random.Random, domain: str, title: str, date=None) -> str:
    """A farm article URL in one of the common CMS shapes."""
    slug = slug_ascii(title, max_words=rng.randint(5, 12)) or str(rng.randint(10000, 999999))
    host = rng.choice(["www.", "www.", "", "", "news.", "m."]) + domain
    y, m = (date.year, date.month) if date else (rng.randint(2015, 2025), rng.randint(1, 12))
    shape = rng.randrange(7)
    path = [f"/{y}/{m:02d}/{slug}/", f"/{slug}/", f"/{slug}-{rng.randint(1000, 999999)}.html", f"/?p={rng.randint(100, 99999)}",
            f"/news/{slug}", f"/article/{rng.randint(100000, 9999999)}", f"/{rng.choice(['world', 'news', 'trending', 'viral', 'post'])}/{slug}.html"][shape]
    return f"{rng.choice(['https', 'https', 'https', 'http'])}://{host}{path}"


def outlet_name(rng: random.Random, lang: str = "en") -> str:
    outlets = {
        "en": ["The Conversation", "Yahoo News", "MSN", "Reuters", "The Associated Press", "NewsBreak", "Fox News",
               "CNN", "BBC News", "The Independent", "Daily Mail", "Business Insider", "Forbes", "The Guardian"],
        "de": ["Spiegel Online", "t-online", "Focus Online", "n-tv.de", "Welt", "Merkur.de", "Stern", "RND"],
        "fr": ["Le Monde", "Le Figaro", "20 Minutes", "Ouest-France"], "es": ["El País", "20minutos", "El Mundo"],
    }
    return rng.choice(_langed(outlets, lang))


# ----- story text helpers -------------------------------------------------------------------

_STOP = set("""a an the and or but if of to in on at by for with from as is are was were be been being it its this that
these those he she they we you i his her their our your my me him them us not no so than then there here what which who
whom how when where why will would can could should may might must do does did have has had also just about over after
before into out up down more most some any all each every new said says one two three year years der die das und oder
aber wenn von zu im in am an auf mit aus als ist sind war waren sein es ein eine einer eines einem einen den dem des
sich nicht auch noch nach bei vor für über unter wie wird werden wurde hat haben hatte dass so nur schon mehr sie er wir
ihr ich le la les un une des du de et ou mais est sont pour dans par sur avec que qui pas plus el los las del y o pero
es son para por con que no más il lo gli di da e è per che non""".split())


def topic_words(title: str, paragraphs: list[str], k: int = 5) -> list[str]:
    """Salient words of a story: title words that recur in the text first, then frequent long words."""
    text_words = re.findall(r"\w+", " ".join(paragraphs[:20]).lower())
    counts = Counter(w for w in text_words if len(w) > 3 and w not in _STOP and not w.isdigit())
    title_w = [w for w in re.findall(r"\w+", title.lower()) if len(w) > 3 and w not in _STOP and not w.isdigit()]
    ranked = sorted(dict.fromkeys(title_w), key=lambda w: -counts.get(w, 0))
    for w, _ in counts.most_common(3 * k):
        if w not in ranked:
            ranked.append(w)
    return ranked[:k]


def topic_phrase(title: str, paragraphs: list[str], rng: random.Random) -> str:
    """A short topic string for FAQ/boilerplate ('climate policy', 'Tesla')."""
    tw = topic_words(title, paragraphs, 4)
    if not tw:
        return title[:40] or "this topic"
    n = 1 if rng.random() < 0.6 or len(tw) < 2 else 2
    words = tw[:n]
    # keep the casing the text uses
    return " ".join(_original_case(w, title + " " + " ".join(paragraphs[:5])) for w in words)


def _original_case(word: str, text: str) -> str:
    m = re.search(r"\b(" + re.escape(word) + r")\b", text, re.I)
    return m.group(1) if m else word


# ----- spinning -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def spinner_lexicon() -> dict[str, dict[str, list[str]]]:
    data = json.loads((PACKAGE_DIR / "data" / "spinner_synonyms.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


_TOKEN = re.compile(r"\w+(?:['’]\w+)*|\W+")


def _match_case(src: str, repl: str) -> str:
    if src.isupper() and len(src) > 1:
        return repl.upper()
    if src[:1].isupper():
        return repl[:1].upper() + repl[1:]
    return repl


def spin_text(text: str, rng: random.Random, lang: str = "en", rate: float = 0.6,
              mangle_prob: float = 0.0) -> tuple[str, list[tuple[str, str]]]:
    """Swap lexicon words for 'synonyms' the way cheap spinners do; returns (text, [(old, new), ...]).

    Capitalised words are swapped too (that is how 'Bill Gates' becomes 'Invoice Gates'); with
    ``mangle_prob`` runs of capitalised words (names) are additionally mangled.
    """
    lex = spinner_lexicon().get(lang)
    if not lex:
        lex = spinner_lexicon()["en"] if lang in (None, "", "en") else {}
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    swaps: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        # two-word keys first ("police officer", "according to")
        if i + 2 < len(tokens) and tokens[i + 1] == " ":
            pair = f"{tok} {tokens[i + 2]}".lower()
            if pair in lex and rng.random() < rate:
                new = _match_case(tok, rng.choice(lex[pair]))
                out.append(new)
                swaps.append((f"{tok} {tokens[i + 2]}", new))
                i += 3
                continue
        low = tok.lower()
        if low in lex and rng.random() < rate:
            new = _match_case(tok, rng.choice(lex[low]))
            if new != tok:
                swaps.append((tok, new))
            out.append(new)
        else:
            out.append(tok)
        i += 1
    result = "".join(out)
    if mangle_prob > 0:
        result, mangled = mangle_entities(result, rng, mangle_prob)
        swaps.extend(mangled)
    return result, swaps


_NAME_RUN = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]{2,})( [A-Z][a-z]{2,})+")


def mangle_entities(text: str, rng: random.Random, prob: float = 0.5) -> tuple[str, list[tuple[str, str]]]:
    """Mangle mid-sentence capitalised runs (names): swapped order, dropped or doubled letters, odd possessives."""
    changes: list[tuple[str, str]] = []

    def fix(m: re.Match) -> str:
        old = m.group(0)
        if rng.random() >= prob:
            return old
        parts = old.split(" ")
        style = rng.randrange(4)
        if style == 0 and len(parts) == 2:
            new = f"{parts[1]} {parts[0]}"
        elif style == 1:
            w = parts[-1]
            j = rng.randrange(1, len(w) - 1)
            new = " ".join(parts[:-1] + [w[:j] + w[j + 1:]])
        elif style == 2:
            w = parts[-1]
            j = rng.randrange(1, len(w))
            new = " ".join(parts[:-1] + [w[:j] + w[j] + w[j:]])
        else:
            new = " ".join(parts[:-1] + [parts[-1] + rng.choice(["s", "’s", "-" + parts[0]])])
        if new != old:
            changes.append((old, new))
        return new

    return _NAME_RUN.sub(fix, text), changes


# ----- farm text blocks -----------------------------------------------------------------------

def faq_items(rng: random.Random, lang: str, topic: str, sentences: list[str], n: int) -> list[tuple[str, str]]:
    """Auto-generated FAQ pairs about ``topic``; answers mix fluff and lifted story sentences."""
    qs = ph.sample(lang, "faq_q", rng, n)
    out = []
    for q in qs:
        if sentences and rng.random() < 0.4:
            a = rng.choice(sentences)  # lifted text: never str.format it (may contain braces)
        else:
            a = ph.pick(lang, "faq_a", rng).format(topic=topic)
        out.append((q.format(topic=topic), a))
    return out


SHARE_NETWORKS = ["Facebook", "Twitter", "X", "WhatsApp", "Pinterest", "LinkedIn", "Reddit", "Telegram", "Email",
                  "Tumblr", "VK", "Pocket", "Flipboard", "Mix", "Line", "Viber", "Copy Link", "Print", "Messenger",
                  "Threads", "Bluesky", "Xing", "SMS", "Skype", "Digg", "Weibo", "Snapchat"]


def share_networks(rng: random.Random, n: int) -> list[str]:
    head = ["Facebook", rng.choice(["Twitter", "X"])]
    rest = [s for s in SHARE_NETWORKS if s not in head]
    return (head + rng.sample(rest, max(0, n - 2)))[:n]


def share_count(rng: random.Random) -> str:
    n = int(rng.lognormvariate(6.5, 1.5))
    return f"{n / 1000:.1f}K" if n >= 1000 and rng.random() < 0.6 else str(n)


def donation_text(rng: random.Random, lang: str, site: str) -> str:
    text = ph.pick(lang, "donate", rng).format(site=site)
    if rng.random() < 0.25:
        addr = "bc1q" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(38))
        text += f" BTC: {addr}"
    return text


def originally_appeared(rng: random.Random, lang: str, outlet: str, title: str) -> str:
    return ph.pick(lang, "orig", rng).format(outlet=outlet, title=title)


LEAKS = ["{{post_title}}", "{{ article.title }}", "{{author_name}}", "{{content}}", "%%title%% %%sep%% %%sitename%%",
         "[INSERT KEYWORD]", "[keyword]", "{KEYWORD}", "$title", "<?php echo $post_title; ?>", "undefined", "[object Object]",
         "NaN views", "Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "{{ description | truncate(160) }}",
         "%post_excerpt%", "[[AUTHOR]]", "__ARTICLE_BODY__", "null"]
SPINTAX = ["{great|awesome|fantastic|amazing}", "{Hello|Hi|Hey} {there|friends}", "{This|The} {article|post|story}",
           "{best|top|leading} {news|stories}", "{Lesen|Entdecken} Sie {mehr|weitere} {Artikel|Beiträge}"]
PATHS = ["C:\\Users\\admin\\Desktop\\articles\\batch_{n}\\post_{m}.txt", "/var/www/html/wp-content/uploads/{y}/{mm}/article_{m}.docx",
         "/home/ubuntu/scraper/output/{m}.html", "D:\\content\\spun\\{n}\\{m}.txt", "file:///tmp/gpt_out_{m}.md"]


def template_leak(rng: random.Random) -> tuple[str, str]:
    """(kind, text) of a leaked template fragment: placeholder, spintax or file path."""
    kind = rng.choices(["placeholder", "spintax", "path"], [0.5, 0.3, 0.2])[0]
    if kind == "placeholder":
        return kind, rng.choice(LEAKS)
    if kind == "spintax":
        return kind, rng.choice(SPINTAX)
    return kind, rng.choice(PATHS).format(n=rng.randint(1, 99), m=rng.randint(1, 9999), y=rng.randint(2016, 2025),
                                          mm=f"{rng.randint(1, 12):02d}")


def keyword_stuffing(rng: random.Random, lang: str, keywords: list[str], year: int) -> list[str]:
    """Stuffed search phrases over the story's keywords ('latest X', 'X 2024', ...)."""
    out = []
    for kw in keywords:
        for tpl in ph.sample(lang, "stuff", rng, rng.randint(2, 4)):
            out.append(tpl.format(kw=kw, year=year))
    rng.shuffle(out)
    return out


def ai_boilerplate(rng: random.Random, lang: str, topic: str, k: int = 1) -> list[str]:
    return [s.format(topic=topic) for s in ph.sample(lang, "ai", rng, k)]


def random_token(rng: random.Random, n: int = 6, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))
