"""Fast prediction for the text channel: the fitted pipeline (hash -> legit vocabulary -> TF-IDF ->
logistic regression) computed with numpy, one page at a time.

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

import mmh3
import numpy as np
from scipy.special import expit
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from spamdetect.text_model import MAX_WORDS, LegitVocabulary, farm_scores, ngrams, rank_terms

_ONE = np.float32(1.0)


class FastText:
    """A fitted text pipeline (``text_model.with_vectorizer``) as arrays: a table from hash slot to
    vocabulary position (-1 outside the vocabulary), the IDF weights and the coefficients."""

    def __init__(self, model: Pipeline):
        hasher, vocab = model.named_steps["hash"], model.named_steps["vocab"].columns_
        self.n_features = int(hasher.n_features)
        self.position = np.full(self.n_features, -1, dtype=np.int64)
        self.position[vocab] = np.arange(len(vocab))
        self.idf = model.named_steps["tfidf"].idf_.astype(np.float32)
        clf = model.named_steps["clf"]
        self.coef = clf.coef_[0].astype(np.float64)
        self.intercept = clf.intercept_.astype(np.float64)

    @staticmethod
    def supports(model) -> bool:
        """The pipeline ``text_model.with_vectorizer`` builds, fitted, with the settings computed here."""
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
        return expit(np.array([self._decision(*row) for row in rows], dtype=np.float64))

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
        return np.array_equal(self.farm_scores(docs), farm_scores(model, docs))
