"""The text channel at scoring time: what it reads of a page (``page_words``, ``ngrams``) and its
fitted pipeline (hash -> legit vocabulary -> TF-IDF -> logistic regression) computed with numpy,
one page at a time. Fitting lives in ``text_model``; nothing here imports scikit-learn or scipy.

scikit-learn hashes n-grams one Python tuple at a time, builds a sparse matrix of 2^20 columns and
selects the vocabulary's columns from it; and the reasons hash a page's n-grams a second time to
quote them. Here each n-gram is hashed once, in C (``mmh3``: the same MurmurHash3 scikit-learn
uses), looked up in a slot -> vocabulary position table, and the TF-IDF row and its dot product
are computed on the page's few hundred vocabulary entries.

The arithmetic follows scikit-learn's step by step (float32 counts, log and IDF weighting, a
float64 sum of float32 squares in column order, float64 dot product in column order), so the
probabilities are the same numbers; ``FastText.matches`` checks that on sample pages before the
fast path is trusted, so a scikit-learn upgrade that changes the arithmetic falls back to
scikit-learn instead of silently changing scores.
"""

from __future__ import annotations

import math
import re
from itertools import groupby
from typing import TYPE_CHECKING

import mmh3
import numpy as np

from spamdetect.page import Page

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

_ONE = np.float32(1.0)
_DIGIT = re.compile(r"\d")  # any script's digits
MAX_WORDS = 6_000  # a page's first 6k words: its template, its story's start, and a bounded cost


def page_words(page: Page) -> list[str]:
    """What the text channel reads: the page's visible words in order (lower-cased, as the signals
    tokenise them, so scoring reuses their work), capped, without tokens that hold a digit.

    Numbers are left to the signals (the dates family reads them with care) because on our corpus
    they say when the data was made: the real stories are 2012-2023 material and the simulator
    restamps farms later, so "2025" or "2025-03-01" would be learned as farm words (the same reason
    absolute years are kept from the classifier, see ``model.UNMODELLED_FEATURES``).
    """
    words: list[str] = []
    for line in page.line_words:
        words.extend(line)
        if len(words) >= MAX_WORDS:
            break
    # isalpha() settles almost every token in C; only the others (digits, apostrophes, hyphens) need the regex
    return [w for w in words[:MAX_WORDS] if w.isalpha() or not _DIGIT.search(w)]


def expit(x: float) -> float:
    """scipy's ``expit``, the logistic regression's link, for one float: ``1 / (1 + exp(-x))`` with
    the C library's ``exp``, as scipy computes it.

    Not ``np.exp``: on CPUs with AVX-512, numpy has its own vectorised ``exp``, which differs from
    the C library's in the last bit for about 2% of inputs, and the scores would no longer be
    scikit-learn's numbers.
    """
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # exp(-x) past the largest float: scipy gives 0.0
        return 0.0


def ngrams(words: list[str]) -> list[str]:
    """Word 1- and 2-grams of a word list (the vectorizer's analyzer)."""
    return [*words, *map(" ".join, zip(words, words[1:]))]


def rank_terms(grams: list[str], weight: np.ndarray, n: int) -> list[str]:
    """The ``n`` distinct ``grams`` of largest positive ``weight``, ties alphabetically; n-grams of
    stop words only and of under 3 characters are left out (``top_terms``'s ranking)."""
    from spamdetect.signals.text_quality import all_stopwords

    ranked = np.flatnonzero(weight > 0)
    ranked = ranked[np.argsort(-weight[ranked], kind="stable")]
    stop, out = all_stopwords(), []
    for _, level in groupby(ranked, key=weight.__getitem__):  # alphabetically within a weight level
        out += [g for g in sorted(grams[k] for k in level) if len(g) > 2 and not all(w in stop for w in g.split(" "))]
        if len(out) >= n:
            break
    return out[:n]




class FastText:
    """A fitted text pipeline (``text_model.with_vectorizer``) as arrays: a table from hash slot to
    vocabulary position (-1 outside the vocabulary), the IDF weights and the coefficients."""

    def __init__(self, model: Pipeline):
        hasher = model.named_steps["hash"]
        self.n_features = int(hasher.n_features)
        self.vocab = model.named_steps["vocab"].columns_.astype(np.int64)  # hash slots, ascending
        self.position = self._positions_of_slots()
        self.idf = model.named_steps["tfidf"].idf_.astype(np.float32)
        clf = model.named_steps["clf"]
        self.coef = clf.coef_[0].astype(np.float64)
        self.intercept = clf.intercept_.astype(np.float64)

    def _positions_of_slots(self) -> np.ndarray:
        position = np.full(self.n_features, -1, dtype=np.int64)
        position[self.vocab] = np.arange(len(self.vocab))
        return position

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["position"]  # 8 MB for 2^20 slots: rebuilt from the vocabulary in a millisecond
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.position = self._positions_of_slots()

    @staticmethod
    def supports(model) -> bool:
        """The pipeline ``text_model.with_vectorizer`` builds, fitted, with the settings computed here."""
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        from spamdetect.text_model import LegitVocabulary

        if not isinstance(model, Pipeline) or list(model.named_steps) != ["hash", "vocab", "tfidf", "clf"]:
            return False
        hasher, vocab, tfidf, clf = model.named_steps.values()
        return (isinstance(hasher, HashingVectorizer) and hasher.analyzer is ngrams and not hasher.alternate_sign
                and hasher.norm is None and hasher.dtype == np.float32
                and isinstance(vocab, LegitVocabulary) and hasattr(vocab, "columns_")
                and np.all(np.diff(vocab.columns_) > 0)  # sorted: column order is vocabulary order
                and isinstance(tfidf, TfidfTransformer) and tfidf.sublinear_tf and tfidf.norm == "l2"
                and tfidf.use_idf and hasattr(tfidf, "idf_") and len(tfidf.idf_) == len(vocab.columns_)
                and isinstance(clf, LogisticRegression) and hasattr(clf, "coef_") and clf.coef_.shape[0] == 1
                and clf.coef_.shape[1] == len(vocab.columns_))

    def positions(self, grams: list[str]) -> np.ndarray:
        """The vocabulary position of each n-gram (-1 outside the vocabulary), as the hasher places it."""
        h = np.fromiter(map(mmh3.hash, grams), dtype=np.int64, count=len(grams))
        return self.position[np.abs(h) % self.n_features]

    def _row(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row of a page whose n-grams sit at vocabulary positions ``pos``: the positions
        present, ascending, and their weights (float32)."""
        cols, counts = np.unique(pos[pos >= 0], return_counts=True)
        tf = np.log(counts.astype(np.float32)) + _ONE
        tf *= self.idf[cols]
        # scikit-learn sums the float32 squares in float64, in column order, and divides in float64
        norm = np.sqrt(np.cumsum((tf * tf).astype(np.float64))[-1]) if len(tf) else 0.0
        if norm != 0.0:
            tf = (tf.astype(np.float64) / norm).astype(np.float32)
        return cols, tf

    def _decision(self, cols: np.ndarray, tf: np.ndarray) -> float:
        dot = np.cumsum(tf.astype(np.float64) * self.coef[cols])[-1] if len(cols) else 0.0
        return float(dot + self.intercept[0])

    def farm_scores(self, docs: list[list[str]]) -> np.ndarray:
        """P(farm) for each word list, as ``text_model.farm_scores``."""
        rows = (self._row(self.positions(ngrams(words[:MAX_WORDS]))) for words in docs)
        return np.array([expit(self._decision(*row)) for row in rows], dtype=np.float64)

    def top_terms(self, words: list[str], n: int = 3) -> list[str]:
        """``text_model.top_terms``: the page's n-grams that push it furthest towards farm."""
        grams = ngrams(words[:MAX_WORDS])
        pos = self.positions(grams)  # hashed once, for the row and for naming its columns
        cols, tf = self._row(pos)
        push = np.zeros(len(self.coef))
        push[cols] = tf * self.coef[cols]
        position_of = dict(zip(grams, pos.tolist()))  # each distinct n-gram once
        at = np.fromiter(position_of.values(), dtype=np.int64, count=len(position_of))
        return rank_terms(list(position_of), np.where(at >= 0, push[at], 0.0), n)

    def matches(self, model: Pipeline, docs: list[list[str]]) -> bool:
        """Whether this gives exactly scikit-learn's probabilities on ``docs``."""
        from spamdetect.text_model import farm_scores

        return np.array_equal(self.farm_scores(docs), farm_scores(model, docs))
