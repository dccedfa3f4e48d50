"""Text-quality statistics after Gopher (Rae et al. 2021, Table A1) and C4 (Raffel et al. 2020).

The papers use these as hard cut-offs to drop documents; here each one is a number and the model
learns where it matters. Two text scopes, both available in HTML and text mode:

- the visible page (``page.lines``): line statistics (C4 line rules, duplicate lines, bullets,
  ellipses, short lines), ``#`` and ellipsis per whitespace word, the word count;
- the story body (``page.paragraphs`` / ``page.main_text``, tokens as ``page.words``): word
  statistics and paragraph / n-gram repetition, so that menus repeated in header and footer do
  not drown out a story that repeats itself. Body features are nan when the page has no prose.

Definitions are chosen so a test can compute them by hand (tests/test_text_quality.py): the
"chars" of a token sequence are the sum of token lengths (spaces not counted).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from itertools import compress, repeat
from operator import contains, itemgetter, lt, mul, not_
from pathlib import Path

import numpy as np

from spamdetect.page import Page

FEATURES: tuple[str, ...] = (
    "text_quality.is_text_mode",
    "text_quality.word_count",
    "text_quality.line_count",
    "text_quality.main_word_count",
    "text_quality.mean_word_len",
    "text_quality.hash_per_word",
    "text_quality.ellipsis_per_word",
    "text_quality.ellipsis_line_share",
    "text_quality.bullet_line_share",
    "text_quality.alpha_word_share",
    "text_quality.stopword_ratio",
    "text_quality.dup_line_frac",
    "text_quality.dup_line_char_frac",
    "text_quality.dup_para_frac",
    "text_quality.top_2gram_char_frac",
    "text_quality.top_3gram_char_frac",
    "text_quality.top_4gram_char_frac",
    "text_quality.dup_5gram_char_frac",
    "text_quality.dup_10gram_char_frac",
    "text_quality.terminal_punct_line_share",
    "text_quality.javascript_lines",
    "text_quality.cookie_lines",
    "text_quality.curly_bracket_lines",
    "text_quality.short_line_share",
    "text_quality.main_text_ratio",
)

NAN = float("nan")
STOPWORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "tq_stopwords.json"

# Gopher counts lines starting with "•"; text dumps also use these glyphs for list items.
_BULLETS = ("•", "·", "‣", "▪", "▫", "◦", "●", "○", "■", "□", "►", "▶", "➤", "➢", "✓", "✔", "- ", "* ", "– ")
# C4 keeps lines ending in . ? ! " ' ; closing quotes and CJK full stops are the same thing elsewhere.
_TERMINAL = (".", "?", "!", '"', "'", "”", "’", "»", "«", "。", "！", "？", "」", "』")
_BULLET_CHARS = tuple(b for b in _BULLETS if len(b) == 1)
_BULLET_PAIRS = tuple(b for b in _BULLETS if len(b) == 2)
# features() counts bullets and terminal marks per character; that is exact only while this holds
assert not {b[0] for b in _BULLET_PAIRS} & set(_BULLET_CHARS) and all(len(t) == 1 for t in _TERMINAL)
_ALPHA = re.compile(r"[^\W\d_]")  # a letter in any script
_HASH_MUL = np.uint64(1_000_003)  # n-gram rolling hash; uint64 wrap-around is intended
_HASH_MUL2 = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=1)
def stopwords() -> dict[str, frozenset[str]]:
    """Small stop-word lists by language (en, de, fr, es, it, pt, nl), read once."""
    with STOPWORDS_PATH.open(encoding="utf-8") as fh:
        return {lang: frozenset(ws) for lang, ws in json.load(fh).items()}


@lru_cache(maxsize=1)
def all_stopwords() -> frozenset[str]:
    """Union of all stop-word lists (for language-agnostic 'content word' tests)."""
    return frozenset().union(*stopwords().values())


def stopword_ratio(tokens: list[str], counts: Counter | None = None) -> float:
    """Share of tokens in the stop-word list of the best-matching language (nan without tokens)."""
    if not tokens:
        return NAN
    counts = Counter(tokens) if counts is None else counts
    # sum over the page's distinct words that are stop words, not over every stop word of each list
    best = max(sum(map(counts.__getitem__, counts.keys() & sw)) for sw in stopwords().values())
    return best / len(tokens)


def _non_alpha_tokens(counts: Counter) -> int:
    """Tokens without a letter (``counts``: token -> occurrences): pure digits, plus the rare
    '10-12' / '1'000' checked one by one. Each distinct word is tested once, not each token."""
    maybe = compress(counts, map(not_, map(str.isalpha, counts)))  # all-letter words are most of them
    return sum(counts[w] for w in maybe if w.isdigit() or (not w.isalnum() and not _ALPHA.search(w)))


def dup_fracs(items: list[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier item, share of chars in those repeats), Gopher-style."""
    if not items:
        return NAN, NAN
    # the repeats are everything but each distinct item's first occurrence
    distinct = set(items)
    total_chars = sum(map(len, items))
    dup_n = len(items) - len(distinct)
    dup_chars = total_chars - sum(map(len, distinct))
    return dup_n / len(items), (dup_chars / total_chars if total_chars else NAN)


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """values in sorted_set, elementwise (np.isin is slow for small sets: it loops over them)."""
    idx = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[idx] == values


class NgramStats:
    """Repetition statistics of one token sequence.

    Each n-gram becomes a 64-bit rolling hash of token ids and repeats are found by sorting,
    so a page costs a few numpy calls per n instead of a Counter of tuples.
    """

    def __init__(self, tokens: list[str]):
        vocab: dict[str, int] = {}
        # id = index of the token's first occurrence (setdefault keeps the first one)
        self.ids = np.fromiter(map(vocab.setdefault, tokens, range(len(tokens))), np.uint64, len(tokens))
        lens = np.fromiter(map(len, tokens), np.int64, len(tokens))
        self.lens = lens
        self.cum = np.concatenate(([0], np.cumsum(lens)))
        self.total = int(self.cum[-1])
        self._memo: dict[int, np.ndarray] = {1: self.ids}

    def _hashes(self, n: int) -> np.ndarray:
        """Hash of the n-gram at each start position, built from shorter n-grams already hashed."""
        if n not in self._memo:
            m = len(self.ids) - n + 1
            # 10-gram = two 5-grams (halves <= 4 tokens long are always built by the chain below,
            # so the two multipliers never meet inside one hash and cannot cancel out)
            if n > 4 and n % 2 == 0 and n // 2 in self._memo:
                half = self._memo[n // 2]
                self._memo[n] = half[:m] * _HASH_MUL2 + half[n // 2:n // 2 + m]
            else:
                self._memo[n] = self._hashes(n - 1)[:m] * _HASH_MUL + self.ids[n - 1:] + np.uint64(1)
        return self._memo[n]

    def top_char_frac(self, n: int) -> float:
        """Chars of all occurrences of the most frequent n-gram / all chars (ties: the longer n-gram)."""
        if len(self.ids) < n or not self.total:
            return NAN
        h = self._hashes(n)
        values, counts = np.unique(h, return_counts=True)
        best = int(counts.max())
        if best < 2:
            return 0.0
        at = _member(h, values[counts == best])  # start positions of the top n-gram(s)
        chars = (self.cum[n:] - self.cum[:len(h)])[at]
        return min(1.0, best * int(chars.max()) / self.total)

    def dup_char_frac(self, n: int) -> float:
        """Chars of tokens inside any n-gram occurring more than once / all chars (each token once)."""
        if len(self.ids) < n or not self.total:
            return NAN
        h = self._hashes(n)
        s = np.sort(h)
        repeated = np.unique(s[1:][s[1:] == s[:-1]])
        if not len(repeated):
            return 0.0
        dup = _member(h, repeated).astype(np.int64)
        covered = np.convolve(dup, np.ones(n, np.int64)) > 0  # token j is in a duplicate starting j-n+1..j
        return float(self.lens[covered].sum()) / self.total


def features(page: Page, *, max_lines: int = 5000, max_words: int = 20000,
             min_ngram_words: int = 50, short_line_words: int = 4) -> dict[str, float]:
    """Gopher/C4 text statistics of ``page`` (see module docstring for the scopes)."""
    lines = page.lines[:max_lines]
    text = "\n".join(lines)
    n_lines = len(lines)
    n_words = text.count(" ") + n_lines if text else 0  # lines are whitespace-normalised and non-empty
    out = dict.fromkeys(FEATURES, NAN)
    out["text_quality.is_text_mode"] = 0.0 if page.is_html else 1.0
    out["text_quality.word_count"] = float(n_words)
    out["text_quality.line_count"] = float(n_lines)

    if n_words:
        out["text_quality.hash_per_word"] = text.count("#") / n_words
        out["text_quality.ellipsis_per_word"] = (text.count("...") + text.count("…")) / n_words

    if n_lines:
        # Each line's first and last characters as one string each (lines are non-empty): a
        # str.count there per glyph replaces a startswith/endswith of a whole tuple per line.
        firsts = "".join(map(itemgetter(0), lines))
        lasts = "".join(map(itemgetter(-1), lines))
        # lines ending in "...": "...\n" in the joined text (lines hold no newline), or the last line
        dots = text.count("...\n") + lines[-1].endswith("...")
        out["text_quality.ellipsis_line_share"] = (lasts.count("…") + dots) / n_lines
        # two-character bullets ("- ") start with no one-character bullet, so no line counts twice
        pairs = sum(text.count("\n" + b) + text.startswith(b) for b in _BULLET_PAIRS if b[0] in firsts)
        out["text_quality.bullet_line_share"] = (sum(map(firsts.count, _BULLET_CHARS)) + pairs) / n_lines
        # "..." ends in "." but is an ellipsis, not a full stop
        out["text_quality.terminal_punct_line_share"] = (sum(map(lasts.count, _TERMINAL)) - dots) / n_lines
        low_lines: list[str] | None = None
        for name, key, probes in (("javascript_lines", "javascript", ("avascript", "avaScript", "AVASCRIPT")),
                                  ("cookie_lines", "cookie", ("ookie", "OOKIE")), ("curly_bracket_lines", "{", ("{",))):
            # probe the whole text first without lower-casing it: most pages have none
            n = 0
            if any(p in text for p in probes):
                if low_lines is None:  # lines hold no newline, and lower-casing makes none
                    low_lines = text.lower().split("\n")
                n = sum(map(contains, low_lines, repeat(key)))
            out[f"text_quality.{name}"] = float(n)
        # lines are whitespace-normalised, so a line's word count is its spaces + 1
        short = sum(map(lt, map(str.count, lines, repeat(" ")), repeat(short_line_words - 1)))
        out["text_quality.short_line_share"] = short / n_lines
        out["text_quality.dup_line_frac"], out["text_quality.dup_line_char_frac"] = dup_fracs(lines)
        out["text_quality.main_text_ratio"] = min(1.0, len(page.main_text) / len(text)) if text else NAN

    paras = page.paragraphs[:max_lines]
    body = page.main_words[:max_words]
    out["text_quality.main_word_count"] = float(len(body))
    if paras:
        out["text_quality.dup_para_frac"] = dup_fracs(paras)[0]
    if body:
        # the shared Counter covers untruncated bodies only
        counts = page.main_word_counts if len(body) == len(page.main_words) else Counter(body)
        # per distinct word, weighted by its count: a few hundred words instead of a thousand tokens
        out["text_quality.mean_word_len"] = sum(map(mul, map(len, counts), counts.values())) / len(body)
        out["text_quality.alpha_word_share"] = 1.0 - _non_alpha_tokens(counts) / len(body)
        out["text_quality.stopword_ratio"] = stopword_ratio(body, counts)
    if len(body) >= min_ngram_words:
        stats = NgramStats(body)
        for n in (2, 3, 4):
            out[f"text_quality.top_{n}gram_char_frac"] = stats.top_char_frac(n)
        for n in (5, 10):
            out[f"text_quality.dup_{n}gram_char_frac"] = stats.dup_char_frac(n)
    return out
