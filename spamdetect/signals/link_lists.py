"""Link-list signals: Related / Ranking / Don't Miss blocks full of headlines off the story's topic.

Content farms wrap a lifted story in lists of headlines that have nothing to do with it, often
under odd labels ("Ranking", "Recommendation", numbered lists) and linking to other domains.
Real sites have link lists too, but their "Related" lists share the story's topic. The story's
vocabulary is its title plus the content words of its prose; a headline is "unrelated" when
few of its content words occur there. All features are numbers for the model, not verdicts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from spamdetect.page import LinkBlock, Page, words

FEATURES: tuple[str, ...] = (
    "link_lists.n_blocks",  # link blocks found (Related, Trending, ...)
    "link_lists.n_headlines",  # headlines in them
    "link_lists.n_unrelated",  # headlines sharing (almost) no content word with the story
    "link_lists.unrelated_share",  # n_unrelated / headlines compared (NaN without a story to compare to)
    "link_lists.mean_similarity",  # mean share of a headline's content words found in the story
    "link_lists.related_unrelated_share",  # unrelated share within blocks whose label claims relevance ("Related")
    "link_lists.offsite_share",  # share of block links to another registrable domain (NaN in text mode / no URL)
    "link_lists.farm_label_share",  # share of blocks labelled Ranking / Recommendation / Don't Miss
    "link_lists.numbered_share",  # share of blocks that are numbered lists (rankings)
    "link_lists.script_mismatch",  # 1 when headlines are in another script or language than the story
    "link_lists.headline_word_ratio",  # words in block headlines per word of story text
)

NAN = float("nan")
_DATA = Path(__file__).resolve().parents[1] / "data" / "link_lists_stopwords.json"
_MAX_STORY_CHARS = 8_000  # the topic of a story is settled in its first ~1,300 words
_SCRIPT_SAMPLE = 1_000
_MAX_HEADLINES = 120

# Labels that promise the links are about this story: where an unrelated list gives a farm away.
_RELATED_LABEL = re.compile(
    r"relat|mehr zum|zum thema|verwandt|[äa]hnlich|passend|lire (?:aussi|[ée]galement)|m[êe]me (?:sujet|th)|similaire"
    r"|li[ée]s\b|connexe|more (?:on|about|from this)|see also|also read|read also|lesen sie auch|lies auch|tambi[ée]n"
    r"|correlat|gerelateerd|also like|auch interess|interesar|interese|aimerez|pourriez|you may|you might",
    re.IGNORECASE)
# Labels typical of farm templates (machine-translated or theme-default wording).
_FARM_LABEL = re.compile(
    r"^(?:rankings?|recommendations?|(?:don'?t|do not) miss|hot (?:news|posts|stories|topics)|random (?:posts|articles)"
    r"|must reads?)\b|(?<![bcfhky])ranking|recommendation\b|dont[-_]?miss", re.IGNORECASE)
_HOST = re.compile(r"^(?:https?:)?//([^/:?#\s]+)", re.IGNORECASE)
_SCRIPTS = {  # dominant-script detection by Unicode block; enough to tell Latin from CJK from Cyrillic
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "greek": re.compile(r"[\u0370-\u03ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff]"),
    "hebrew": re.compile(r"[\u0590-\u05ff]"),
    "cjk": re.compile(r"[\u3040-\u30ff\u3400-\u9fff]"),
    "hangul": re.compile(r"[\uac00-\ud7af]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
    "indic": re.compile(r"[\u0900-\u0dff]"),
}
# Letters are counted as what is left after deleting the rest: one string, not a list of characters.
_NOT_LETTER = re.compile(r"[\W\d_]+")
_NOT_LATIN = re.compile(r"[^A-Za-z\u00c0-\u024f]+")  # complement of _SCRIPTS["latin"]
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@lru_cache(maxsize=1)
def _stopwords() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """(all stop words incl. generic news words, per-language function words for language id)."""
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    langs = {k: frozenset(v) for k, v in data.items() if k != "generic"}
    every = frozenset().union(*data.values())
    return every, langs


def _stem_counts(tokens: Counter) -> Counter:
    """Content-word stems with counts: stop words and numbers dropped, Latin words cut to 6 letters, CJK as bigrams."""
    stop, _ = _stopwords()
    out: Counter = Counter()
    cjk = _CJK.search(" ".join(tokens)) is not None  # one scan; most stories have no CJK at all
    for tok, n in tokens.items():  # distinct tokens only: far fewer than the running text
        if tok in stop or tok.isdigit():
            continue
        if cjk and _CJK.search(tok):
            for i in range(max(1, len(tok) - 1)):
                out[tok[i:i + 2]] += n
        elif len(tok) >= 3:
            out[tok[:6]] += n
    return out


def _stems(text: str) -> set[str]:
    """Content-word stems of a short text (a headline or title)."""
    stop, _ = _stopwords()
    out: set[str] = set()
    for tok in set(words(text)):
        if tok in stop or tok.isdigit():
            continue
        if _CJK.search(tok):
            out.update(tok[i:i + 2] for i in range(max(1, len(tok) - 1)))
        elif len(tok) >= 3:
            out.add(tok[:6])
    return out


def _story_vocabulary(page: Page, min_count: int) -> tuple[frozenset[str], int, int]:
    """Stems that carry the story (title and h1, plus prose stems seen ``min_count`` times),
    the number of prose content stems, and the number of prose words."""
    # the page's shared Counter when the story is short enough (read only)
    short = len(page.main_text) <= _MAX_STORY_CHARS
    tokens = page.main_word_counts if short else Counter(page.story_words(_MAX_STORY_CHARS))
    counts = _stem_counts(tokens)
    size = sum(counts.values())
    # A short story names its topic words once; a long one repeats them.
    vocab = set(counts) if size < 150 else {s for s, c in counts.items() if c >= min_count}
    vocab.update(_stems(page.title))
    vocab.update(_stems(page.h1))
    return frozenset(vocab), size, sum(tokens.values())


def _similarity(headline: str, vocab: frozenset[str]) -> float | None:
    stems = _stems(headline)
    if not stems:
        return None
    return len(stems & vocab) / len(stems)


def _script_and_lang(text: str) -> tuple[str | None, str | None]:
    """Dominant script (if >= 60% of letters) and, for Latin text, en/de/fr/es by function words."""
    sample = text[:_SCRIPT_SAMPLE]
    letters = len(_NOT_LETTER.sub("", sample))
    if letters < 20:
        return None, None
    latin = len(_NOT_LATIN.sub("", sample))
    if latin < 0.6 * letters:  # rare: only then pay for the other scripts
        counts = {name: len(rx.findall(sample)) for name, rx in _SCRIPTS.items() if name != "latin"}
        script = max(counts, key=counts.get)
        return (script if counts[script] >= 0.6 * letters else None), None
    _, langs = _stopwords()
    toks = words(sample)
    hits = sorted(((sum(map(sw.__contains__, toks)), lang) for lang, sw in langs.items()), reverse=True)
    (best, lang), (second, _) = hits[0], hits[1]
    return "latin", (lang if best >= 4 and best >= 2 * second else None)


def _offsite_share(blocks: list[LinkBlock], domain: str | None) -> float:
    if not domain:
        return NAN
    n = off = 0
    for block in blocks:
        for href in block.hrefs:
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            n += 1
            m = _HOST.match(href)
            if m:
                host = m.group(1).lower().rstrip(".")
                off += not (host == domain or host.endswith("." + domain))
    return off / n if n else NAN


def features(page: Page, *, min_similarity: float = 0.2, min_story_stems: int = 30,
             story_min_count: int = 2) -> dict[str, float]:
    """Link-list features of ``page`` (see FEATURES); NaN where the page cannot tell.

    min_similarity: a headline with a smaller share of its content words in the story is unrelated;
    min_story_stems: below this many story content words, relatedness is not judged (NaN);
    story_min_count: in longer stories, how often a word must occur to count as a topic word.
    """
    blocks = page.link_blocks
    out = dict.fromkeys(FEATURES, NAN)
    out["link_lists.n_blocks"] = float(len(blocks))
    heads = [h for b in blocks for h in b.headlines][:_MAX_HEADLINES]
    out["link_lists.n_headlines"] = float(len(heads))
    if not blocks:
        out["link_lists.n_unrelated"] = 0.0
        return out

    vocab, story_size, story_words = _story_vocabulary(page, story_min_count)
    if story_size >= min_story_stems:
        sims_all: list[float] = []
        n_rel = unrel_rel = 0
        n_unrel = 0
        budget = _MAX_HEADLINES
        for block in blocks:
            claims = bool(_RELATED_LABEL.search(block.label))
            for h in block.headlines[:budget]:
                sim = _similarity(h, vocab)
                if sim is None:
                    continue
                sims_all.append(sim)
                n_unrel += sim < min_similarity
                if claims:
                    n_rel += 1
                    unrel_rel += sim < min_similarity
            budget -= len(block.headlines)
            if budget <= 0:
                break
        out["link_lists.n_unrelated"] = float(n_unrel)
        if sims_all:
            out["link_lists.unrelated_share"] = n_unrel / len(sims_all)
            out["link_lists.mean_similarity"] = sum(sims_all) / len(sims_all)
        if n_rel:
            out["link_lists.related_unrelated_share"] = unrel_rel / n_rel
    if page.is_html:
        out["link_lists.offsite_share"] = _offsite_share(blocks, page.domain)
    out["link_lists.farm_label_share"] = sum(bool(_FARM_LABEL.search(b.label)) for b in blocks) / len(blocks)
    out["link_lists.numbered_share"] = sum(b.numbered for b in blocks) / len(blocks)

    head_text = "\n".join(heads)
    story = page.main_text or page.title
    h_script, h_lang = _script_and_lang(head_text)
    s_script, s_lang = _script_and_lang(story)
    if h_script and s_script:
        out["link_lists.script_mismatch"] = float(h_script != s_script or (h_lang is not None and s_lang is not None
                                                                           and h_lang != s_lang))
    out["link_lists.headline_word_ratio"] = min(len(words(head_text)) / max(story_words, 20), 10.0)
    return out
