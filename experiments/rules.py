"""Published web-text quality rules, as hard filters: Gopher quality and repetition, C4, FineWeb.

Each function takes a document's text and returns ``(keep, reason)``: ``keep`` False means the
rule set drops the page (counted as "farm" in the baseline table), ``reason`` names the first rule
that fired (None when kept). Thresholds are the published defaults, as implemented in
HuggingFace datatrove (``datatrove/pipeline/filters/``: ``gopher_quality_filter.py``,
``gopher_repetition_filter.py``, ``c4_filters.py`` ``C4QualityFilter``,
``fineweb_quality_filter.py``), which follow:

- Gopher: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training
  Gopher", arXiv:2112.11446, section A.1.1 and Table A1;
- C4: Raffel et al. 2020, "Exploring the Limits of Transfer Learning...", JMLR 21(140), section 2.2;
- FineWeb: Penedo et al. 2024, "The FineWeb Datasets", arXiv:2406.17557, section 3.5.

One deliberate difference: datatrove tokenises with nltk (``word_tokenize``, ``sent_tokenize``),
which is not installed here; ``tokens`` and ``sentences`` below are regex stand-ins that split
words from punctuation and sentences at ``.!?`` the same way on ordinary prose.
"""

from __future__ import annotations

import re
import string
from collections import Counter

import numpy as np

_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")
_PUNCT = set(string.punctuation)


def tokens(text: str) -> list[str]:
    """Words and single punctuation marks (stand-in for nltk ``word_tokenize``)."""
    return _TOKEN.findall(text)


def sentences(text: str) -> list[str]:
    """Sentences split after ``.``, ``!`` or ``?`` (stand-in for nltk ``sent_tokenize``)."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]


# ----- Gopher quality (datatrove GopherQualityFilter defaults = Gopher section A.1.1) -----------

GOPHER_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")


def gopher_quality(text: str, *, lang: str | None = "en", min_doc_words: int = 50, max_doc_words: int = 100_000,
                   min_avg_word_length: float = 3, max_avg_word_length: float = 10,
                   max_symbol_word_ratio: float = 0.1, max_bullet_lines_ratio: float = 0.9,
                   max_ellipsis_lines_ratio: float = 0.3, max_non_alpha_words_ratio: float = 0.8,
                   min_stop_words: int = 2) -> tuple[bool, str | None]:
    """Gopher's document quality rules.

    The stop-word rule uses Gopher's eight English words, so it runs only on English pages
    (``lang`` "en" or unknown); applying it to German pages would drop every one of them, which
    says nothing about farms (Gopher's MassiveWeb was English-only).
    """
    words = tokens(text)
    content = [w for w in words if w not in _PUNCT]
    n_words = len(content)
    if n_words < min_doc_words:
        return False, "gopher_short_doc"
    if n_words > max_doc_words:
        return False, "gopher_long_doc"
    avg = float(np.mean([len(w) for w in content]))
    if avg < min_avg_word_length:
        return False, "gopher_below_avg_threshold"
    if avg > max_avg_word_length:
        return False, "gopher_above_avg_threshold"
    if text.count("#") / n_words > max_symbol_word_ratio:
        return False, "gopher_too_many_hashes"
    if (text.count("...") + text.count("…")) / n_words > max_symbol_word_ratio:
        return False, "gopher_too_many_ellipsis"
    lines = text.splitlines() or [""]
    if sum(s.lstrip().startswith("•") for s in lines) / len(lines) > max_bullet_lines_ratio:
        return False, "gopher_too_many_bullets"
    if sum(s.rstrip().endswith(("...", "…")) for s in lines) / len(lines) > max_ellipsis_lines_ratio:
        return False, "gopher_too_many_end_ellipsis"
    if sum(any(c.isalpha() for c in w) for w in words) / n_words < max_non_alpha_words_ratio:
        return False, "gopher_below_alpha_threshold"
    if lang in (None, "", "en") and sum(w in GOPHER_STOP_WORDS for w in words) < min_stop_words:
        return False, "gopher_enough_stop_words"
    return True, None


# ----- Gopher repetition (datatrove GopherRepetitionFilter defaults = Gopher Table A1) ----------

GOPHER_TOP_NGRAMS = ((2, 0.20), (3, 0.18), (4, 0.16))
GOPHER_DUP_NGRAMS = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


def _find_duplicates(items: list[str]) -> tuple[int, int]:
    seen: set[str] = set()
    n = chars = 0
    for x in items:
        if x in seen:
            n += 1
            chars += len(x)
        else:
            seen.add(x)
    return n, chars


def _ngrams(words: list[str], n: int) -> list[str]:
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def _all_duplicate_chars(ngrams: list[str], n: int) -> int:
    """Characters in repeated n-grams, skipping past each repeat (datatrove ``find_all_duplicate``)."""
    seen: set[str] = set()
    chars = idx = 0
    while idx < len(ngrams):
        g = ngrams[idx]
        if g in seen:
            chars += len(g)
            idx += n
        else:
            seen.add(g)
            idx += 1
    return chars


def gopher_repetition(text: str, *, dup_line_frac: float = 0.3, dup_para_frac: float = 0.3,
                      dup_line_char_frac: float = 0.2, dup_para_char_frac: float = 0.2,
                      top_n_grams=GOPHER_TOP_NGRAMS, dup_n_grams=GOPHER_DUP_NGRAMS) -> tuple[bool, str | None]:
    """Gopher's repetition rules: duplicate lines/paragraphs and n-gram repetition."""
    if not text.strip():
        return False, "empty"
    paragraphs = re.split(r"\n{2,}", text.strip())
    n, chars = _find_duplicates(paragraphs)
    if n / len(paragraphs) > dup_para_frac:
        return False, "dup_para_frac"
    if chars / len(text) > dup_para_char_frac:
        return False, "dup_para_char_frac"
    lines = text.splitlines()
    n, chars = _find_duplicates(lines)
    if n / len(lines) > dup_line_frac:
        return False, "dup_line_frac"
    if chars / len(text) > dup_line_char_frac:
        return False, "dup_line_char_frac"
    words = tokens(text)
    for n, frac in top_n_grams:
        grams = _ngrams(words, n)
        if grams:
            gram, count = Counter(grams).most_common(1)[0]
            if len(gram) * count / len(text) > frac:
                return False, f"top_{n}_gram"
    for n, frac in dup_n_grams:
        grams = _ngrams(words, n)
        if grams and _all_duplicate_chars(grams, n) / len(text) > frac:
            return False, f"duplicated_{n}_n_grams"
    return True, None


# ----- C4 (datatrove C4QualityFilter defaults = C4 section 2.2 + the TFDS c4_utils code) --------

_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_C4_END = (".", "?", "!", '"', "'")
_C4_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


def c4_filter(text: str, *, min_num_sentences: int = 5, min_words_per_line: int = 3,
              max_word_length: int = 1000) -> tuple[bool, str | None]:
    """C4's line rules: keep lines ending in terminal punctuation with >= 3 words and no
    "javascript"/policy text; drop the page on "lorem ipsum" or a curly bracket, or when fewer
    than 5 sentences survive. (The bad-words list is a separate filter in C4 and datatrove; not used.)"""
    n_sentences = 0
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if any(len(w) > max_word_length for w in words):
            continue
        line = _CITATION.sub("", line)
        if not line.endswith(_C4_END) or line.endswith("..."):
            continue
        if len(words) < min_words_per_line:
            continue
        low = line.lower()
        if "lorem ipsum" in low:
            return False, "lorem_ipsum"
        if "javascript" in low:
            continue
        if "{" in line:
            return False, "curly_bracket"
        if any(p in low for p in _C4_POLICY):
            continue
        n_sentences += len(sentences(line))
    if n_sentences < min_num_sentences:
        return False, "too_few_sentences"
    return True, None


def c4_kept_lines(text: str) -> list[str]:
    """The lines C4's line rules keep (for tests and inspection; page-level drops ignored)."""
    kept = []
    for line in text.splitlines():
        line = _CITATION.sub("", line.strip())
        low = line.lower()
        if (line.endswith(_C4_END) and not line.endswith("...") and len(line.split()) >= 3
                and "javascript" not in low and not any(p in low for p in _C4_POLICY)):
            kept.append(line)
    return kept


# ----- FineWeb (datatrove FineWebQualityFilter defaults = FineWeb section 3.5) ------------------

def fineweb_filter(text: str, *, line_punct_thr: float = 0.12, short_line_thr: float = 0.67,
                   short_line_length: int = 30, char_duplicates_ratio: float = 0.01,
                   new_line_ratio: float = 0.3) -> tuple[bool, str | None]:
    """FineWeb's custom line rules: share of lines ending in punctuation, share of short lines,
    characters in duplicated lines, newlines per word (list-like pages)."""
    if not text.replace("\n", "").strip():
        return False, "empty"
    lines = text.split("\n")
    if sum(line.endswith((".", "'", '"', "!", "?")) for line in lines) / len(lines) <= line_punct_thr:
        return False, "line_punct_ratio"
    if sum(len(line) <= short_line_length for line in lines) / len(lines) >= short_line_thr:
        return False, "short_line_ratio"
    non_empty = [line for line in lines if line.strip()]
    if _find_duplicates(non_empty)[1] / len(text.replace("\n", "")) >= char_duplicates_ratio:
        return False, "char_dup_ratio"
    words = tokens(text)
    if words and text.count("\n") / len(words) > new_line_ratio:
        return False, "list_ratio"
    return True, None


RULE_SETS = {
    "gopher-quality": gopher_quality,
    "gopher-repetition": gopher_repetition,
    "c4": c4_filter,
    "fineweb": fineweb_filter,
}
